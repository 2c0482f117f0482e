import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeBackend, tokenFor } from '../testing/fakeBackend';
import { DEFAULT_RETRY_AFTER_SECONDS, eraseAccount, retryAfterSeconds, type ErasedCounts } from './account';
import { ApiClient, ApiError } from './client';

function client(backend: FakeBackend, user = 'alice'): ApiClient {
  return new ApiClient({ baseUrl: 'http://api.test/api', getIdToken: async () => tokenFor(user), fetch: backend.fetch });
}

describe('retryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates, and falls back when there is nothing readable', () => {
    expect(retryAfterSeconds('20')).toBe(20);
    expect(retryAfterSeconds(' 3 ')).toBe(3);
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(retryAfterSeconds('Sun, 29 Nov 2026 12:00:30 GMT', () => now)).toBe(30);
    expect(retryAfterSeconds(null)).toBe(DEFAULT_RETRY_AFTER_SECONDS);
    expect(retryAfterSeconds('soon')).toBe(DEFAULT_RETRY_AFTER_SECONDS);
  });

  it('never asks again at once, and never waits for hours', () => {
    expect(retryAfterSeconds('0')).toBe(1);
    expect(retryAfterSeconds('Sun, 29 Nov 2026 11:00:00 GMT', () => Date.parse('2026-11-29T12:00:00Z'))).toBe(1);
    expect(retryAfterSeconds('86400')).toBe(300);
  });
});

describe('DELETE /account', () => {
  it('answers the receipt at once when the store erases everything in one go, and the same receipt again', async () => {
    const backend = new FakeBackend();
    backend.seed('alice', 'Buy milk', { completed: true });
    backend.seed('alice', 'Call mum');
    backend.seed('bob', 'Bob keeps this');
    const api = client(backend);

    const step = await api.deleteAccount();
    expect(step.status).toBe('erased');
    if (step.status !== 'erased') return;
    expect(step.receipt.erased).toEqual({ events: 3, todos: 2, stats: 1, snapshots: 0, connections: 0 });
    expect(step.receipt.userKey).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(step.receipt)).not.toContain('alice');
    expect(backend.todosOf('alice')).toEqual([]);
    expect(backend.todosOf('bob').map((todo) => todo.title)).toEqual(['Bob keeps this']);

    expect(await api.deleteAccount()).toEqual(step);
    const sent = backend.requests.filter((r) => r.path === '/account');
    expect(sent.map((r) => [r.method, r.headers.authorization])).toEqual([
      ['DELETE', 'Bearer token-alice'],
      ['DELETE', 'Bearer token-alice'],
    ]);
  });

  it('reads a 202 as "still erasing": the counts so far and when to ask again; commands are refused from then on', async () => {
    const backend = new FakeBackend({ erasureBatch: 2, erasureRetryAfterSeconds: 7 });
    for (const title of ['a', 'b', 'c']) backend.seed('alice', title);
    const api = client(backend);

    expect(await api.deleteAccount()).toEqual({
      status: 'erasing',
      erased: { events: 2, todos: 0, stats: 0, snapshots: 0, connections: 0 },
      retryAfterSeconds: 7,
    });
    await expect(api.createTodo({ title: 'Too late' })).rejects.toMatchObject({ status: 410, code: 'account_erased' });
    await expect(client(backend, 'bob').createTodo({ title: 'Fine' })).resolves.toMatchObject({ title: 'Fine' });
  });

  it('takes nothing but a receipt for a finished erasure, and passes the API errors on', async () => {
    const empty = new ApiClient({
      baseUrl: 'http://api.test/api',
      getIdToken: async () => 'token-alice',
      fetch: async () => new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } }),
    });
    await expect(empty.deleteAccount()).rejects.toMatchObject({ code: 'bad_response' });

    const backend = new FakeBackend();
    backend.failNext('DELETE', /^\/account$/, { kind: 'status', status: 503, code: 'overloaded', message: 'Try later.' });
    const error = await client(backend).deleteAccount().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, code: 'overloaded' });
  });
});

describe('eraseAccount', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks again after each Retry-After, reporting progress, until the receipt comes', async () => {
    vi.useFakeTimers();
    const backend = new FakeBackend({ erasureBatch: 2, erasureRetryAfterSeconds: 3 });
    for (let i = 0; i < 5; i++) backend.seed('alice', `Todo ${i}`);
    const progress: ErasedCounts[] = [];
    const deletes = () => backend.requests.filter((r) => r.path === '/account').length;

    const erasing = eraseAccount(client(backend), { onProgress: (erased) => progress.push({ ...erased }) });
    await vi.advanceTimersByTimeAsync(0);
    expect(deletes()).toBe(1);
    expect(progress.map((p) => p.events)).toEqual([2]);

    await vi.advanceTimersByTimeAsync(2_999);
    expect(deletes()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(deletes()).toBe(2);
    expect(progress.map((p) => p.events)).toEqual([2, 4]);

    await vi.advanceTimersByTimeAsync(3_000);
    const receipt = await erasing;
    expect(deletes()).toBe(3);
    expect(receipt.erased).toMatchObject({ events: 5, todos: 5 });
    expect(progress).toHaveLength(2);
  });

  it('stops at the first failure; called again, it finishes the same erasure', async () => {
    const backend = new FakeBackend({ erasureBatch: 1 });
    for (let i = 0; i < 3; i++) backend.seed('alice', `Todo ${i}`);
    const api = client(backend);
    const wait = vi.fn(async () => undefined);
    backend.failNext('DELETE', /^\/account$/, { kind: 'network' });

    await expect(eraseAccount(api, { wait })).rejects.toThrow(/Could not reach the server/);
    const receipt = await eraseAccount(api, { wait });
    expect(receipt.erased.events).toBe(3);
    expect(wait).toHaveBeenCalledTimes(2);
    expect(wait).toHaveBeenCalledWith(1000);
  });
});
