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

describe('FakeBackend: stats', () => {
  it('counts open and completed, per ISO week across a year boundary, deleted and reopened to-dos as the contract says', async () => {
    let at = '';
    const { backend, api } = setUp({ now: () => new Date(at) });
    const step = (instant: string) => {
      at = instant;
    };
    step('2026-09-01T12:00:00Z');
    const old = backend.seed(USER, 'Long ago'); // created before the 12 weeks
    step('2026-12-21T09:00:00Z'); // Monday of 2026-W52
    const a = backend.seed(USER, 'A');
    step('2026-12-21T11:00:00Z');
    backend.changeElsewhere(USER, a.id, { completed: true }); // 2 h
    step('2026-12-31T12:00:00Z'); // 2026-W53
    const b = backend.seed(USER, 'B');
    backend.seed(USER, 'C');
    step('2027-01-01T12:00:00Z'); // still 2026-W53
    backend.changeElsewhere(USER, b.id, { completed: true });
    step('2027-01-05T08:00:00Z'); // 2027-W01
    backend.changeElsewhere(USER, b.id, { completed: false }); // reopened: its completion no longer counts
    const d = backend.seed(USER, 'D');
    step('2027-01-05T08:30:00Z');
    backend.changeElsewhere(USER, d.id, { completed: true }); // 30 min
    backend.deleteElsewhere(USER, d.id); // deleted, still counted in its weeks and the median
    step('2027-01-06T12:00:00Z');
    backend.changeElsewhere(USER, old.id, { completed: true });
    backend.seed('bob', 'Not yours', { completed: true });

    const stats = await api.getStats();
    expect(stats).toMatchObject({ open: 2, completed: 2, medianCompletionSeconds: 7200, asOf: '2027-01-06T12:00:00.000Z' });
    expect(stats.weeks).toHaveLength(12);
    expect(stats.weeks[0]).toEqual({ week: '2026-W43', start: '2026-10-19', created: 0, completed: 0 });
    expect(stats.weeks.slice(-3)).toEqual([
      { week: '2026-W52', start: '2026-12-21', created: 1, completed: 1 },
      { week: '2026-W53', start: '2026-12-28', created: 2, completed: 0 },
      { week: '2027-W01', start: '2027-01-04', created: 1, completed: 2 },
    ]);

    expect((await api.getStats({ weeks: 1 })).weeks).toEqual([{ week: '2027-W01', start: '2027-01-04', created: 1, completed: 2 }]);
    expect((await api.getStats({ weeks: 52 })).weeks).toHaveLength(52);
  });

  it('has no median before the first completion, and the mean of the middle two for an even count', async () => {
    let at = '2026-11-23T09:00:00Z';
    const { backend, api } = setUp({ now: () => new Date(at) });
    const first = backend.seed(USER, 'First');
    const second = backend.seed(USER, 'Second');
    expect(await api.getStats()).toMatchObject({ open: 2, completed: 0, medianCompletionSeconds: null });
    at = '2026-11-23T10:00:00Z';
    backend.changeElsewhere(USER, first.id, { completed: true });
    at = '2026-11-23T12:00:00Z';
    backend.changeElsewhere(USER, second.id, { completed: true });
    expect((await api.getStats()).medianCompletionSeconds).toBe(2 * 3600); // 1 h and 3 h
  });

  it('refuses a number of weeks outside 1..52', async () => {
    const { backend } = setUp();
    for (const weeks of ['0', '53', 'x', '1.5', '-1', '']) {
      const response = await backend.fetch(`http://api.test/api/stats?weeks=${weeks}`, { headers: { Authorization: `Bearer ${tokenFor(USER)}` } });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_weeks' } });
    }
  });
});
