import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import type { TodoEvent } from '../api/types';
import { uuidv7 } from '../api/uuid';
import { FakeBackend, tokenFor } from '../testing/fakeBackend';
import { classifyRejection, Outbox, type QueuedOp } from './queue';
import { OfflineStore } from './store';

const USER = 'queue-user';
let stores: OfflineStore[] = [];
let users = 0;

afterEach(async () => {
  for (const store of stores) await store.destroy();
  stores = [];
});

/** An outbox on a fresh IndexedDB database (fake-indexeddb), talking to a fake back end; `online` can be switched. */
async function setUp(backend = new FakeBackend()) {
  const connection = { online: true };
  const api = new ApiClient({ baseUrl: 'http://api.test/api', getIdToken: async () => tokenFor(USER), fetch: backend.fetch });
  const store = await OfflineStore.open(`${USER}-${++users}`);
  stores.push(store);
  const outbox = await Outbox.open(store, api, { isOnline: () => connection.online });
  return { backend, api, store, outbox, connection };
}

function event(todoId: string, version: number, type: TodoEvent['type'], data: Record<string, unknown> = {}): TodoEvent {
  return { eventId: `e${version}`, todoId, version, type, schemaVersion: 1, occurredAt: '2026-11-01T10:00:00.000000Z', data } as TodoEvent;
}

function op(fields: Partial<QueuedOp>): QueuedOp {
  return { seq: 1, todoId: 't', kind: 'update', baseVersion: 1, title: 'x', queuedAt: '2026-11-01T10:00:00Z', state: 'pending', ...fields };
}

describe('the outbox', () => {
  it('keeps changes made offline in IndexedDB, in order, and sends them in that order once online', async () => {
    const { backend, store, outbox, connection, api } = await setUp();
    const seeded = backend.seed(USER, 'Existing');
    connection.online = false;
    const id = uuidv7();
    await outbox.enqueue({ kind: 'create', todoId: id, fields: { title: 'New' }, baseVersion: 0, title: 'New' });
    await outbox.enqueue({ kind: 'update', todoId: id, fields: { title: 'New, renamed' }, baseVersion: 0, title: 'New' });
    await outbox.enqueue({ kind: 'complete', todoId: seeded.id, baseVersion: 1, title: 'Existing' });
    await outbox.enqueue({ kind: 'complete', todoId: id, baseVersion: 0, title: 'New, renamed' });
    await outbox.flush();
    expect(backend.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);

    // Another session of the same database (a reload) finds them all, in order.
    const reopened = await Outbox.open(store, api, { isOnline: () => connection.online });
    expect(reopened.getSnapshot().map((queued) => queued.kind)).toEqual(['create', 'update', 'complete', 'complete']);

    connection.online = true;
    await reopened.flush();
    expect(reopened.getSnapshot()).toEqual([]);
    expect(await store.queued()).toEqual([]);
    const sent = backend.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.headers['if-match'] ?? ''}`.trim());
    // The new todo's later changes went on the versions its earlier ones produced.
    expect(sent).toEqual([`POST /item`, `PUT /item/${id} "1"`, `POST /item/${seeded.id}/done "1"`, `POST /item/${id}/done "2"`]);
    expect(backend.todosOf(USER).find((todo) => todo.id === id)).toMatchObject({ title: 'New, renamed', completed: true, version: 3 });
  });

  it('sends again what the server already took without doing it twice (lost answers, a tab closed mid-send)', async () => {
    const { backend, outbox, store } = await setUp();
    const todo = backend.seed(USER, 'Plan trip');
    const id = uuidv7();
    // Each of these reached the server, but the queue never heard back.
    await backend.fetch('http://api.test/api/item', {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokenFor(USER)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id, title: 'Pack' }),
    });
    await backend.fetch(`http://api.test/api/item/${todo.id}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${tokenFor(USER)}`, 'Content-Type': 'application/json', 'If-Match': '"1"' },
      body: JSON.stringify({ title: 'Plan the trip' }),
    });
    await store.enqueue({ kind: 'create', todoId: id, fields: { title: 'Pack' }, baseVersion: 0, title: 'Pack', queuedAt: 'x', state: 'pending' });
    await store.enqueue({ kind: 'update', todoId: todo.id, fields: { title: 'Plan the trip' }, baseVersion: 1, title: 'Plan trip', queuedAt: 'x', state: 'pending' });
    await store.enqueue({ kind: 'complete', todoId: todo.id, baseVersion: 1, title: 'Plan the trip', queuedAt: 'x', state: 'pending' });
    const resumed = await Outbox.open(store, (outbox as unknown as { api: ApiClient }).api);
    const seen: string[] = [];
    resumed.onSent((sentOp, result) => seen.push(`${sentOp.kind} ${result?.version}`));

    await resumed.flush();
    expect(resumed.getSnapshot()).toEqual([]);
    expect(seen).toEqual(['create 1', 'update 2', 'complete 3']);
    // One create, one rename, one completion: no duplicate events.
    expect(backend.eventsOf(USER).filter((e) => e.todoId === id).map((e) => e.type)).toEqual(['TodoCreated']);
    expect(backend.eventsOf(USER).filter((e) => e.todoId === todo.id).map((e) => e.type)).toEqual(['TodoCreated', 'TodoUpdated', 'TodoCompleted']);
  });

  it('holds a conflicting change with both versions; "keep mine" sends it on the current version', async () => {
    const { backend, outbox } = await setUp();
    const todo = backend.seed(USER, 'Call mum');
    const other = backend.seed(USER, 'Other');
    await backend.fetch(`http://api.test/api/item/${todo.id}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${tokenFor(USER)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Call dad' }),
    });
    await outbox.enqueue({ kind: 'update', todoId: todo.id, fields: { title: 'Call mum today' }, baseVersion: 1, title: 'Call mum' });
    await outbox.enqueue({ kind: 'complete', todoId: todo.id, baseVersion: 1, title: 'Call mum today' });
    await outbox.enqueue({ kind: 'complete', todoId: other.id, baseVersion: 1, title: 'Other' });
    await outbox.flush();

    const [conflict, waiting] = outbox.getSnapshot();
    expect(conflict).toMatchObject({ state: 'conflict', theirs: { title: 'Call dad', version: 2 } });
    // The todo's later change waits behind it; another todo's change went through.
    expect(waiting).toMatchObject({ kind: 'complete', state: 'pending' });
    expect(outbox.getSnapshot()).toHaveLength(2);
    expect(backend.todosOf(USER).find((t) => t.id === other.id)?.completed).toBe(true);

    await outbox.keepMine(conflict.seq);
    await outbox.flush();
    expect(outbox.getSnapshot()).toEqual([]);
    expect(backend.todosOf(USER).find((t) => t.id === todo.id)).toMatchObject({ title: 'Call mum today', completed: true, version: 4 });
  });

  it('"keep theirs" drops the change and the same todo\'s later ones, and hands the server\'s todo to the list', async () => {
    const { backend, outbox } = await setUp();
    const todo = backend.seed(USER, 'Buy bread');
    backend.failNext('PUT', /^\/item\//, { kind: 'status', status: 412, code: 'precondition_failed' });
    await outbox.enqueue({ kind: 'update', todoId: todo.id, fields: { title: 'Buy rye bread' }, baseVersion: 0, title: 'Buy bread' });
    await outbox.enqueue({ kind: 'delete', todoId: todo.id, baseVersion: 0, title: 'Buy rye bread' });
    await outbox.flush();
    const [conflict] = outbox.getSnapshot();
    expect(conflict.state).toBe('conflict');
    const taken: unknown[] = [];
    outbox.onSent((_, result) => taken.push(result));
    await outbox.discard(conflict.seq);
    expect(outbox.getSnapshot()).toEqual([]);
    expect(taken).toEqual([expect.objectContaining({ title: 'Buy bread', version: 1 })]);
    expect(backend.todosOf(USER)).toHaveLength(1);
  });

  it('keeps everything queued when the network or the server fails, and a refusal is kept for the user to see', async () => {
    const { backend, outbox } = await setUp();
    const todo = backend.seed(USER, 'Tax return');
    backend.failNext('PUT', /^\/item\//, { kind: 'network' });
    await outbox.enqueue({ kind: 'update', todoId: todo.id, fields: { title: 'Tax return 2026' }, baseVersion: 1, title: 'Tax return' });
    await outbox.flush();
    expect(outbox.getSnapshot()).toMatchObject([{ state: 'pending' }]);
    expect(outbox.getStatus()).toBe('waiting');

    backend.failNext('PUT', /^\/item\//, { kind: 'status', status: 503, code: 'unavailable' });
    await outbox.flush();
    expect(outbox.getSnapshot()).toMatchObject([{ state: 'pending' }]);

    backend.failNext('PUT', /^\/item\//, { kind: 'status', status: 400, code: 'invalid_title', message: 'The title is not allowed.' });
    await outbox.flush();
    expect(outbox.getSnapshot()).toMatchObject([{ state: 'rejected', message: 'The title is not allowed.' }]);
  });

  it('says when the todo was deleted elsewhere', async () => {
    const { backend, outbox } = await setUp();
    const todo = backend.seed(USER, 'Old');
    await backend.fetch(`http://api.test/api/item/${todo.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${tokenFor(USER)}` } });
    await outbox.enqueue({ kind: 'complete', todoId: todo.id, baseVersion: 1, title: 'Old' });
    await outbox.flush();
    expect(outbox.getSnapshot()).toMatchObject([{ state: 'gone' }]);
  });
});

describe('classifyRejection', () => {
  const id = 't';
  it('recognises our own change right after the version it was sent on', () => {
    const history = [event(id, 1, 'TodoCreated', { title: 'a' }), event(id, 2, 'TodoUpdated', { title: 'b' }), event(id, 3, 'TodoUpdated', { title: 'c' })];
    expect(classifyRejection(op({ fields: { title: 'b' }, baseVersion: 1 }), history)).toEqual({ kind: 'applied', version: 2 });
    expect(classifyRejection(op({ kind: 'complete', baseVersion: 1 }), [...history.slice(0, 1), event(id, 2, 'TodoCompleted')])).toEqual({
      kind: 'applied',
      version: 2,
    });
    expect(classifyRejection(op({ kind: 'reopen', baseVersion: 1 }), [...history.slice(0, 1), event(id, 2, 'TodoUpdated', { completed: false })])).toEqual({
      kind: 'applied',
      version: 2,
    });
    expect(classifyRejection(op({ kind: 'create', baseVersion: 0 }), history)).toEqual({ kind: 'applied', version: 1 });
  });

  it('calls a different change after our version a conflict, and a deletion elsewhere gone', () => {
    const history = [event(id, 1, 'TodoCreated', { title: 'a' }), event(id, 2, 'TodoUpdated', { title: 'theirs' })];
    expect(classifyRejection(op({ fields: { title: 'mine' }, baseVersion: 1 }), history)).toEqual({ kind: 'conflict' });
    // A rename that also changed notes elsewhere is not ours.
    expect(classifyRejection(op({ fields: { title: 'theirs' }, baseVersion: 1 }), [history[0], event(id, 2, 'TodoUpdated', { title: 'theirs', notes: 'n' })])).toEqual({
      kind: 'conflict',
    });
    const deleted = [...history, event(id, 3, 'TodoDeleted')];
    expect(classifyRejection(op({ fields: { title: 'mine' }, baseVersion: 1 }), deleted)).toEqual({ kind: 'gone' });
    // What a deletion wanted is done.
    expect(classifyRejection(op({ kind: 'delete', baseVersion: 1 }), deleted)).toEqual({ kind: 'applied', version: 3 });
  });
});
