/**
 * Keeping the list in step with the server without a reload: live pushes applied one by one, and
 * a re-read merged into what the page shows. Pure functions over the list; useTodos owns the state.
 *
 * A todo never goes back in version here: the read model a re-read comes from catches up a few
 * milliseconds after a command answers, and pushes and reads cross on the wire, so whichever of
 * the two the page learns later may be the older.
 */
import { pushOrder, type PushOrder } from '../api/live';
import type { LivePush, Todo, TodoPatch } from '../api/types';
import type { TodoItemState } from './useTodos';

/** The later of two states of one todo; on a tie, `incoming` (the server's answer over an optimistic guess). */
export function newest(current: Todo, incoming: Todo): Todo {
  return incoming.version >= current.version ? incoming : current;
}

/** Listing order is creation order, which is id order (UUIDv7): where a todo with this id goes. */
export function insertInOrder(items: TodoItemState[], item: TodoItemState): TodoItemState[] {
  const at = items.findIndex((other) => other.todo.id > item.todo.id);
  return at === -1 ? [...items, item] : [...items.slice(0, at), item, ...items.slice(at)];
}

export type PushEffect =
  /** Nothing to show: stale, or about a todo this page has deleted. */
  | { kind: 'none' }
  | { kind: 'added'; todo: Todo }
  | { kind: 'changed'; todo: Todo; before: TodoItemState }
  | { kind: 'removed'; before: TodoItemState };

export interface PushResult {
  items: TodoItemState[];
  order: PushOrder;
  effect: PushEffect;
}

/**
 * One push applied to the list. `gone` is the version at which this page saw the todo deleted
 * (its own deletion or an earlier push), if it did: a deleted todo never comes back.
 *
 * An item with a request in flight takes the pushed state (most often its own change coming back
 * first) but stays busy: the request's answer settles it. An item shown as not saved that is
 * pushed was stored after all.
 */
export function applyPush(items: TodoItemState[], push: LivePush, gone: number | undefined): PushResult {
  const index = items.findIndex((item) => item.todo.id === push.id);
  const before = index === -1 ? undefined : items[index];
  const known = before ? before.todo.version : gone;
  const order = pushOrder(known, push);
  const none: PushResult = { items, order, effect: { kind: 'none' } };
  if (order === 'stale' || (!before && gone !== undefined)) return none;

  if (push.change === 'deleted') {
    if (!before) return none;
    return { items: items.filter((_, i) => i !== index), order, effect: { kind: 'removed', before } };
  }
  const todo = push.todo;
  if (!todo) return none;
  if (!before) {
    return { items: insertInOrder(items, { todo, busy: false, unsaved: false }), order, effect: { kind: 'added', todo } };
  }
  const next: TodoItemState = { ...before, todo, unsaved: false };
  return { items: items.map((item, i) => (i === index ? next : item)), order, effect: { kind: 'changed', todo, before } };
}

export interface MergeContext {
  /** The read's number (see `learnedAt`). */
  read: number;
  /**
   * For todos the page learned of other than by a read (a push, its own create): the number of
   * reads started by then. A read that started before the page learned of a todo may lack it
   * without meaning it is gone. The page's own creates that no read or push has shown yet are at
   * Infinity: the read model may not have them yet.
   */
  learnedAt: ReadonlyMap<string, number>;
  /** Versions at which todos were deleted (here, or as a push said). */
  gone: ReadonlyMap<string, number>;
}

/**
 * A fresh read of the whole list merged into what the page shows: the server's todos in its
 * order, each as new as the newer of the two; an item with a request in flight, or one not saved,
 * kept as it is; notices kept; a todo the page has seen deleted not brought back; and a todo
 * missing from the read dropped only if the read should have had it.
 */
export function mergeRead(items: TodoItemState[], read: Todo[], context: MergeContext): TodoItemState[] {
  const local = new Map(items.map((item) => [item.todo.id, item]));
  const merged: TodoItemState[] = [];
  const inRead = new Set<string>();
  for (const todo of read) {
    inRead.add(todo.id);
    const gone = context.gone.get(todo.id);
    if (gone !== undefined && todo.version <= gone) continue;
    const mine = local.get(todo.id);
    if (!mine) merged.push({ todo, busy: false, unsaved: false });
    else if (mine.busy) merged.push(mine);
    else merged.push({ ...mine, todo: newest(mine.todo, todo), unsaved: false });
  }
  let result = merged;
  for (const item of items) {
    if (inRead.has(item.todo.id)) continue;
    const learned = context.learnedAt.get(item.todo.id);
    const keep = item.busy || item.unsaved || item.todo.version === 0 || (learned !== undefined && learned >= context.read);
    if (keep) result = insertInOrder(result, item);
  }
  return result;
}

/** A todo with a change applied, as the list shows it before the server answers. */
export function applyPatch(todo: Todo, patch: TodoPatch, now: string = new Date().toISOString()): Todo {
  const next: Todo = { ...todo, updatedAt: now };
  if (patch.title !== undefined) next.title = patch.title;
  if (patch.notes !== undefined) {
    if (patch.notes === '') delete next.notes;
    else next.notes = patch.notes;
  }
  if (patch.completed === true && !todo.completed) {
    next.completed = true;
    next.completedAt = now;
  } else if (patch.completed === false) {
    next.completed = false;
    delete next.completedAt;
  }
  return next;
}
