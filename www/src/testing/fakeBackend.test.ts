/** The stand-in must keep the contract the SPA is tested against (DESIGN.md, "Second wave"). */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../api/client';
import { FakeBackend, tokenFor } from './fakeBackend';

const USER = 'alice';

function setUp(options: ConstructorParameters<typeof FakeBackend>[0] = {}) {
  let t = Date.parse('2025-11-25T09:00:00Z');
  const backend = new FakeBackend({
    now: () => {
      t += 60_000;
      return new Date(t);
    },
    ...options,
  });
  const api = new ApiClient({ baseUrl: 'http://api.test/api', getIdToken: async () => tokenFor(USER), fetch: backend.fetch });
  return { backend, api };
}

describe('FakeBackend: the past', () => {
  it('folds the list as of an instant from its events', async () => {
    const { backend, api } = setUp();
    const milk = backend.seed(USER, 'Buy milk'); // 09:01
    backend.seed(USER, 'Walk the dog'); // 09:02
    backend.changeElsewhere(USER, milk.id, { title: 'Buy oat milk', completed: true }); // 09:03
    backend.deleteElsewhere(USER, milk.id); // 09:04

    expect(await api.listAllTodos({ asOf: '2025-11-25T09:00:30Z' })).toEqual([]);
    expect((await api.listAllTodos({ asOf: '2025-11-25T09:01:00Z' })).map((t) => t.title)).toEqual(['Buy milk']);
    const at0330 = await api.listAllTodos({ asOf: '2025-11-25T09:03:30Z' });
    expect(at0330.map((t) => [t.title, t.completed, t.version])).toEqual([
      ['Buy oat milk', true, 2],
      ['Walk the dog', false, 1],
    ]);
    expect((await api.listAllTodos({ asOf: '2025-11-25T09:03:30Z', status: 'active' })).map((t) => t.title)).toEqual(['Walk the dog']);
    expect((await api.listAllTodos({ asOf: '2025-11-25T09:04:30Z' })).map((t) => t.title)).toEqual(['Walk the dog']);
  });

  it('refuses a malformed or future instant', async () => {
    const { api } = setUp();
    await expect(api.listTodos({ asOf: 'yesterday' })).rejects.toMatchObject({ status: 400, code: 'invalid_as_of' });
    await expect(api.listTodos({ asOf: '2999-01-01T00:00:00Z' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_as_of',
      message: expect.stringContaining('future'),
    });
  });

  it('shows one todo at a version or an instant, and says why when it cannot', async () => {
    const { backend, api } = setUp();
    const todo = backend.seed(USER, 'Buy milk', { notes: '2 litres' }); // 09:01, v1
    backend.changeElsewhere(USER, todo.id, { title: 'Buy oat milk', notes: '' }); // 09:02, v2
    backend.deleteElsewhere(USER, todo.id); // 09:03, v3

    expect(await api.getTodoAt(todo.id, { version: 1 })).toMatchObject({ title: 'Buy milk', notes: '2 litres', version: 1 });
    const v2 = await api.getTodoAt(todo.id, { version: 2 });
    expect(v2).toMatchObject({ title: 'Buy oat milk', version: 2 });
    expect(v2.notes).toBeUndefined();
    expect(await api.getTodoAt(todo.id, { asOf: '2025-11-25T09:01:30Z' })).toMatchObject({ title: 'Buy milk', version: 1 });

    await expect(api.getTodoAt(todo.id, { version: 3 })).rejects.toMatchObject({ status: 404, code: 'deleted' });
    await expect(api.getTodoAt(todo.id, { asOf: '2025-11-25T09:03:30Z' })).rejects.toMatchObject({ status: 404, code: 'deleted' });
    await expect(api.getTodoAt(todo.id, { asOf: '2025-11-25T09:00:30Z' })).rejects.toMatchObject({ status: 404, code: 'not_yet_created' });
    await expect(api.getTodoAt(todo.id, { version: 4 })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_version',
      message: expect.stringContaining('3'),
    });
    await expect(api.getTodoAt(todo.id, { version: 0 })).rejects.toMatchObject({ status: 400, code: 'invalid_version' });
    await expect(api.getTodoAt('0190a5c2-0000-7000-8000-00000000dead', { version: 1 })).rejects.toMatchObject({ status: 404, code: 'not_found' });
    const both = await backend.fetch(`http://api.test/api/item/${todo.id}?version=1&asOf=2025-11-25T09:01:30Z`, {
      headers: { Authorization: `Bearer ${tokenFor(USER)}` },
    });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: { code: 'invalid_query' } });
  });
});

describe('FakeBackend: integrity and the export', () => {
  it('chains each todo’s events by hash', async () => {
    const { backend, api } = setUp();
    const todo = backend.seed(USER, 'Buy milk');
    backend.changeElsewhere(USER, todo.id, { title: 'Buy oat milk' });
    const [first, second] = await api.getItemHistory(todo.id);
    expect(first.prevHash).toBe('0'.repeat(64));
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second.prevHash).toBe(first.hash);
    expect(second.hash).not.toBe(first.hash);
  });

  it('leaves hashes out like events written before hashing, when asked to', async () => {
    const { backend, api } = setUp({ hashing: false });
    const todo = backend.seed(USER, 'Buy milk');
    const [event] = await api.getItemHistory(todo.id);
    expect(event.hash).toBeUndefined();
    expect(event.prevHash).toBeUndefined();
  });

  it('exports by todo in version order, a page at a time, with the digest on the last page only', async () => {
    const { backend, api } = setUp();
    const a = backend.seed(USER, 'A');
    const b = backend.seed(USER, 'B');
    backend.changeElsewhere(USER, a.id, { title: 'A2' });
    backend.seed('bob', 'Not yours');

    const first = await api.getExportPage({ limit: 2 });
    expect(first.nextCursor).toBeDefined();
    expect(first.digest).toBeUndefined();
    const all = await api.exportAll({ limit: 2 });
    expect(all.events.map((e) => [e.todoId, e.version])).toEqual([
      [a.id, 1],
      [a.id, 2],
      [b.id, 1],
    ]);
    expect(all.events.every((e) => e.userId === USER && /^[0-9a-f]{64}$/.test(e.hash ?? ''))).toBe(true);
    expect(all.digest).toMatchObject({ todos: 2, events: 3 });
    expect(all.digest.digest).toMatch(/^[0-9a-f]{64}$/);

    const digest = await api.getHistoryDigest();
    expect(digest.digest).toBe(all.digest.digest);
    await expect(api.getExportPage({ limit: 1001 })).rejects.toMatchObject({ status: 400, code: 'invalid_limit' });
  });
});
