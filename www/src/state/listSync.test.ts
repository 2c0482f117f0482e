import { describe, expect, it } from 'vitest';
import type { LivePush, Todo } from '../api/types';
import { applyPush, insertInOrder, mergeRead, newest } from './listSync';
import type { TodoItemState } from './useTodos';

const AT = '2026-11-29T10:00:00.000Z';

function todo(n: number, version = 1, fields: Partial<Todo> = {}): Todo {
  return { id: `0193000${n}-0000-7000-8000-000000000000`, title: `Todo ${n}`, completed: false, createdAt: AT, updatedAt: AT, version, ...fields };
}

function item(t: Todo, state: Partial<TodoItemState> = {}): TodoItemState {
  return { todo: t, busy: false, unsaved: false, ...state };
}

function push(change: LivePush['change'], t: Todo): LivePush {
  return { type: 'todo', change, todo: change === 'deleted' ? null : t, id: t.id, version: t.version };
}

const titles = (items: TodoItemState[]) => items.map((i) => `${i.todo.title}@${i.todo.version}`);

describe('applyPush', () => {
  const list = [item(todo(1)), item(todo(3, 2)), item(todo(5))];

  it('puts a created todo where a reload would: in id (creation) order', () => {
    const result = applyPush(list, push('created', todo(4)), undefined);
    expect(result.order).toBe('next');
    expect(result.effect.kind).toBe('added');
    expect(titles(result.items)).toEqual(['Todo 1@1', 'Todo 3@2', 'Todo 4@1', 'Todo 5@1']);
    expect(titles(applyPush(list, push('created', todo(9)), undefined).items).at(-1)).toBe('Todo 9@1');
  });

  it('updates in place, and keeps the item’s notice', () => {
    const withNotice = [item(todo(1), { notice: { kind: 'conflict', message: 'x' } })];
    const result = applyPush(withNotice, push('completed', todo(1, 2, { completed: true, title: 'Done' })), undefined);
    expect(result.effect.kind).toBe('changed');
    expect(result.items[0]).toMatchObject({ todo: { completed: true, title: 'Done', version: 2 }, notice: { message: 'x' } });
  });

  it('removes a deleted todo', () => {
    const result = applyPush(list, push('deleted', todo(3, 3)), undefined);
    expect(result.effect.kind).toBe('removed');
    expect(titles(result.items)).toEqual(['Todo 1@1', 'Todo 5@1']);
  });

  it('ignores what the list already shows (its own changes coming back)', () => {
    for (const p of [push('created', todo(1)), push('updated', todo(3, 2)), push('updated', todo(3, 1))]) {
      const result = applyPush(list, p, undefined);
      expect(result.order).toBe('stale');
      expect(result.items).toBe(list);
    }
  });

  it('applies a push after a gap, and says there was one', () => {
    const result = applyPush(list, push('updated', todo(1, 4, { title: 'Four' })), undefined);
    expect(result.order).toBe('gap');
    expect(titles(result.items)[0]).toBe('Four@4');
    expect(applyPush(list, push('updated', todo(7, 3)), undefined).order).toBe('gap');
  });

  it('never brings back a todo deleted here', () => {
    const result = applyPush([], push('updated', todo(2, 3)), 2);
    expect(result.effect.kind).toBe('none');
    expect(result.items).toEqual([]);
    expect(applyPush([], push('created', todo(2, 1)), 1).effect.kind).toBe('none');
  });

  it('updates an item with a request in flight but leaves it busy; an unsaved one was saved after all', () => {
    const busy = applyPush([item(todo(1), { busy: true })], push('updated', todo(1, 2, { title: 'Pushed' })), undefined);
    expect(busy.items[0]).toMatchObject({ busy: true, todo: { title: 'Pushed', version: 2 } });
    const unsaved = applyPush([item(todo(1, 0), { unsaved: true })], push('created', todo(1)), undefined);
    expect(unsaved.order).toBe('next');
    expect(unsaved.items[0]).toMatchObject({ unsaved: false, todo: { version: 1 } });
  });
});

describe('newest and insertInOrder', () => {
  it('prefer the later version, and the incoming one on a tie', () => {
    const a = todo(1, 2, { title: 'a' });
    const b = todo(1, 2, { title: 'b' });
    expect(newest(a, b)).toBe(b);
    expect(newest(todo(1, 3), b).version).toBe(3);
    expect(titles(insertInOrder([item(todo(2))], item(todo(1))))).toEqual(['Todo 1@1', 'Todo 2@1']);
  });
});

describe('mergeRead', () => {
  const context = { read: 5, learnedAt: new Map<string, number>(), gone: new Map<string, number>() };

  it('takes the server’s list in its order, never older than what is shown', () => {
    const shown = [item(todo(1, 3, { title: 'newer here' })), item(todo(2, 1), { notice: { kind: 'conflict', message: 'n' } })];
    const merged = mergeRead(shown, [todo(1, 2), todo(2, 2, { title: 'newer there' }), todo(3)], context);
    expect(titles(merged)).toEqual(['newer here@3', 'newer there@2', 'Todo 3@1']);
    expect(merged[1].notice?.message).toBe('n');
  });

  it('keeps what is in flight or not saved, and drops what the read says is gone', () => {
    const shown = [
      item(todo(1)),
      item(todo(2, 1, { title: 'saving' }), { busy: true }),
      item(todo(4, 0, { title: 'not saved' }), { unsaved: true }),
    ];
    const merged = mergeRead(shown, [todo(2, 2, { title: 'server' })], context);
    expect(titles(merged)).toEqual(['saving@1', 'not saved@0']);
    expect(merged[0].busy).toBe(true);
  });

  it('keeps a todo learned after the read started, or created here and not yet in the read model', () => {
    const learnedAt = new Map([
      [todo(1).id, 5],
      [todo(2).id, 4],
      [todo(3).id, Number.POSITIVE_INFINITY],
    ]);
    const merged = mergeRead([item(todo(1)), item(todo(2)), item(todo(3))], [], { ...context, learnedAt });
    expect(titles(merged)).toEqual(['Todo 1@1', 'Todo 3@1']);
  });

  it('does not bring back a todo deleted here that the read model still has', () => {
    const gone = new Map([[todo(1).id, 2]]);
    expect(titles(mergeRead([], [todo(1, 2), todo(2)], { ...context, gone }))).toEqual(['Todo 2@1']);
    expect(titles(mergeRead([], [todo(1, 3)], { ...context, gone }))).toEqual(['Todo 1@3']);
  });
});
