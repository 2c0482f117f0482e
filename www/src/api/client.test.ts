import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, IncompleteExportError, NetworkError, versionFromEtag } from './client';
import type { ExportedEvent, HistoryDigest, Stats, Todo } from './types';

const TODO: Todo = {
  id: '0190a5c2-0000-7000-8000-000000000001',
  title: 'Buy milk',
  completed: false,
  createdAt: '2025-11-25T10:00:00Z',
  updatedAt: '2025-11-25T10:00:00Z',
  version: 3,
};

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function clientWith(responses: Response[] | ((url: string, init: RequestInit) => Response), options: { token?: string | null } = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const queue = Array.isArray(responses) ? [...responses] : undefined;
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init: init ?? {} });
    if (queue) {
      const next = queue.shift();
      if (!next) throw new Error(`unexpected request ${url}`);
      return next;
    }
    return (responses as (url: string, init: RequestInit) => Response)(url, init ?? {});
  });
  const onUnauthorized = vi.fn();
  const client = new ApiClient({
    baseUrl: 'https://api.example.com/Prod/',
    getIdToken: async () => (options.token === undefined ? 'the-id-token' : options.token),
    onUnauthorized,
    fetch: fetchMock as unknown as typeof fetch,
  });
  const headersOf = (i: number) => new Headers(calls[i].init.headers);
  return { client, calls, headersOf, onUnauthorized, fetchMock };
}

describe('ApiClient', () => {
  it('sends the ID token as a bearer token on every call', async () => {
    const { client, headersOf } = clientWith([jsonResponse(200, { items: [] }), jsonResponse(200, { events: [] })]);
    await client.listTodos();
    await client.getHistory();
    expect(headersOf(0).get('Authorization')).toBe('Bearer the-id-token');
    expect(headersOf(1).get('Authorization')).toBe('Bearer the-id-token');
  });

  it('creates with a JSON body carrying the client-chosen id, and no empty notes', async () => {
    const { client, calls, headersOf } = clientWith([jsonResponse(201, TODO)]);
    const created = await client.createTodo({ id: TODO.id, title: 'Buy milk', notes: '' });
    expect(created).toEqual(TODO);
    expect(calls[0].url).toBe('https://api.example.com/Prod/item');
    expect(calls[0].init.method).toBe('POST');
    expect(headersOf(0).get('Content-Type')).toBe('application/json');
    expect(JSON.parse(calls[0].init.body as string)).toEqual({ id: TODO.id, title: 'Buy milk' });
  });

  it('makes PUT, done and DELETE conditional with If-Match: "<version>"', async () => {
    const { client, calls, headersOf } = clientWith([
      jsonResponse(200, { ...TODO, title: 'Buy oat milk', version: 4 }),
      jsonResponse(200, { ...TODO, completed: true, version: 5 }),
      new Response(null, { status: 204 }),
    ]);
    await client.updateTodo(TODO.id, { title: 'Buy oat milk', completed: false }, 3);
    await client.completeTodo(TODO.id, 4);
    await expect(client.deleteTodo(TODO.id, 5)).resolves.toBeUndefined();

    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      `PUT https://api.example.com/Prod/item/${TODO.id}`,
      `POST https://api.example.com/Prod/item/${TODO.id}/done`,
      `DELETE https://api.example.com/Prod/item/${TODO.id}`,
    ]);
    expect(headersOf(0).get('If-Match')).toBe('"3"');
    expect(headersOf(1).get('If-Match')).toBe('"4"');
    expect(headersOf(2).get('If-Match')).toBe('"5"');
    expect(JSON.parse(calls[0].init.body as string)).toEqual({ title: 'Buy oat milk', completed: false });
    expect(calls[1].init.body).toBeUndefined();
  });

  it('takes the version from the ETag of GET /item/{id}', async () => {
    const { client } = clientWith([jsonResponse(200, { ...TODO, version: 3 }, { ETag: '"7"' })]);
    expect((await client.getTodo(TODO.id)).version).toBe(7);
  });

  it('encodes the status filter, limit and cursor as query parameters', async () => {
    const { client, calls } = clientWith([jsonResponse(200, { items: [TODO], nextCursor: 'abc/=' })]);
    const page = await client.listTodos({ status: 'active', limit: 20, cursor: 'xyz+/=' });
    expect(calls[0].url).toBe('https://api.example.com/Prod/item?status=active&limit=20&cursor=xyz%2B%2F%3D');
    expect(page).toEqual({ items: [TODO], nextCursor: 'abc/=' });
  });

  it('follows nextCursor until the last page', async () => {
    const second = { ...TODO, id: '0190a5c2-0000-7000-8000-000000000002' };
    const third = { ...TODO, id: '0190a5c2-0000-7000-8000-000000000003' };
    const { client, calls } = clientWith([
      jsonResponse(200, { items: [TODO], nextCursor: 'c1' }),
      jsonResponse(200, { items: [second], nextCursor: 'c2' }),
      jsonResponse(200, { items: [third] }),
    ]);
    const all = await client.listAllTodos({ status: 'all' });
    expect(all.map((t) => t.id)).toEqual([TODO.id, second.id, third.id]);
    expect(calls.map((c) => new URL(c.url).searchParams.get('cursor'))).toEqual([null, 'c1', 'c2']);
  });

  it('stops when a server repeats a cursor instead of looping forever', async () => {
    const { client, fetchMock } = clientWith(() => jsonResponse(200, { items: [TODO], nextCursor: 'same' }));
    const all = await client.listAllTodos();
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(all).toHaveLength(2);
  });

  it('turns an error body into an ApiError with code, message, status and request id', async () => {
    const { client } = clientWith([
      jsonResponse(412, { error: { code: 'version_mismatch', message: 'The item is at version 4.' } }, { 'x-request-id': 'r-1' }),
    ]);
    const error = await client.updateTodo(TODO.id, { title: 'x' }, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 412, code: 'version_mismatch', message: 'The item is at version 4.', requestId: 'r-1' });
    expect((error as ApiError).isConflict).toBe(true);
  });

  it('keeps a readable message when the error body is not JSON', async () => {
    const { client } = clientWith([new Response('<html>Bad gateway</html>', { status: 502 })]);
    const error = (await client.listTodos().catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 502, code: 'http_502' });
    expect(error.isServerFault).toBe(true);
    expect(error.message).toMatch(/502/);
  });

  it("reads API Gateway's own {message} bodies", async () => {
    const { client } = clientWith([jsonResponse(403, { message: 'Forbidden' })]);
    await expect(client.listTodos()).rejects.toMatchObject({ status: 403, message: 'Forbidden' });
  });

  it('reports a 401 to onUnauthorized, then throws it', async () => {
    const { client, onUnauthorized } = clientWith([jsonResponse(401, { error: { code: 'unauthorized', message: 'Token expired.' } })]);
    await expect(client.listTodos()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('does not call the API without a token, and treats that as a 401', async () => {
    const { client, onUnauthorized, fetchMock } = clientWith([], { token: null });
    await expect(client.listTodos()).rejects.toMatchObject({ status: 401, code: 'not_signed_in' });
    expect(fetchMock).not.toHaveBeenCalled();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('turns a failed fetch into a NetworkError', async () => {
    const { client } = clientWith(() => {
      throw new TypeError('Failed to fetch');
    });
    await expect(client.getItemHistory(TODO.id)).rejects.toBeInstanceOf(NetworkError);
  });

  it('reads item and user history', async () => {
    const event = {
      eventId: 'e1',
      todoId: TODO.id,
      version: 1,
      type: 'TodoCreated',
      schemaVersion: 1,
      occurredAt: '2025-11-25T10:00:00Z',
      data: { title: 'Buy milk' },
    };
    const { client, calls } = clientWith([jsonResponse(200, { events: [event] }), jsonResponse(200, { events: [event], nextCursor: 'n' })]);
    expect(await client.getItemHistory(TODO.id)).toEqual([event]);
    expect(await client.getHistory({ limit: 10, cursor: 'c' })).toEqual({ events: [event], nextCursor: 'n' });
    expect(calls[0].url).toBe(`https://api.example.com/Prod/item/${TODO.id}/history`);
    expect(calls[1].url).toBe('https://api.example.com/Prod/history?limit=10&cursor=c');
  });
});

describe('ApiClient: the past, the digest and the export', () => {
  const HASH = 'a'.repeat(64);
  const DIGEST: HistoryDigest = { digest: 'b'.repeat(64), asOf: '2025-11-25T12:00:00Z', todos: 1, events: 2 };
  const exported = (version: number): ExportedEvent => ({
    userId: 'alice',
    todoId: TODO.id,
    version,
    eventId: `e${version}`,
    type: version === 1 ? 'TodoCreated' : 'TodoUpdated',
    schemaVersion: 1,
    occurredAt: `2025-11-25T10:0${version}:00Z`,
    data: { title: `v${version}` },
    sourceIp: '203.0.113.9',
    prevHash: '0'.repeat(64),
    hash: HASH,
  });

  it('lists as of an instant, with the status filter and paging', async () => {
    const { client, calls } = clientWith([jsonResponse(200, { items: [TODO], nextCursor: 'c1' }), jsonResponse(200, { items: [] })]);
    const all = await client.listAllTodos({ status: 'completed', asOf: '2025-11-25T10:00:05.000Z' });
    expect(all).toEqual([TODO]);
    expect(calls[0].url).toBe('https://api.example.com/Prod/item?asOf=2025-11-25T10%3A00%3A05.000Z&status=completed');
    expect(new URL(calls[1].url).searchParams.get('cursor')).toBe('c1');
    expect(new URL(calls[1].url).searchParams.get('asOf')).toBe('2025-11-25T10:00:05.000Z');
  });

  it('reads one todo at a version or at an instant, keeping the version it was at', async () => {
    const { client, calls } = clientWith([
      // A server may still send the current ETag; the version shown is the one asked for.
      jsonResponse(200, { ...TODO, title: 'Old', version: 2 }, { ETag: '"5"' }),
      jsonResponse(200, { ...TODO, version: 1 }),
    ]);
    expect(await client.getTodoAt(TODO.id, { version: 2 })).toMatchObject({ title: 'Old', version: 2 });
    expect((await client.getTodoAt(TODO.id, { asOf: '2025-11-25T10:00:00Z' })).version).toBe(1);
    expect(calls[0].url).toBe(`https://api.example.com/Prod/item/${TODO.id}?version=2`);
    expect(calls[1].url).toBe(`https://api.example.com/Prod/item/${TODO.id}?asOf=2025-11-25T10%3A00%3A00Z`);
  });

  it('passes on why a past state cannot be shown', async () => {
    const { client } = clientWith([
      jsonResponse(404, { error: { code: 'deleted', message: 'the todo had been deleted at 2025-11-25T10:05:00Z (version 4)' } }),
    ]);
    await expect(client.getTodoAt(TODO.id, { version: 4 })).rejects.toMatchObject({ status: 404, code: 'deleted', message: expect.stringContaining('version 4') });
  });

  it('reads the digest', async () => {
    const { client, calls } = clientWith([jsonResponse(200, DIGEST)]);
    expect(await client.getHistoryDigest()).toEqual(DIGEST);
    expect(calls[0].url).toBe('https://api.example.com/Prod/history/digest');
  });

  it('exports every page, reports progress, and ends with the digest of the last page', async () => {
    const { client, calls } = clientWith([
      jsonResponse(200, { events: [exported(1)], nextCursor: 'p2' }),
      jsonResponse(200, { events: [exported(2)], digest: DIGEST }),
    ]);
    const progress: number[] = [];
    const result = await client.exportAll({ limit: 1, onProgress: (n) => progress.push(n) });
    expect(result).toEqual({ events: [exported(1), exported(2)], digest: DIGEST });
    // Unchanged: fields the SPA does not know are kept.
    expect(result.events[0].sourceIp).toBe('203.0.113.9');
    expect(progress).toEqual([1, 2]);
    expect(calls.map((c) => c.url)).toEqual([
      'https://api.example.com/Prod/export?limit=1',
      'https://api.example.com/Prod/export?limit=1&cursor=p2',
    ]);
  });

  it('refuses an export whose last page has no digest', async () => {
    const { client } = clientWith([jsonResponse(200, { events: [exported(1)] })]);
    await expect(client.exportAll()).rejects.toBeInstanceOf(IncompleteExportError);
  });

  it('refuses an export that repeats a page instead of looping or saving half of it', async () => {
    const { client, fetchMock } = clientWith(() => jsonResponse(200, { events: [exported(1)], nextCursor: 'same' }));
    await expect(client.exportAll()).rejects.toThrow(/same page/);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('stops an export when its signal aborts', async () => {
    const controller = new AbortController();
    const { client } = clientWith((_url, init) => {
      if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
      controller.abort();
      return jsonResponse(200, { events: [exported(1)], nextCursor: 'next' });
    });
    await expect(client.exportAll({ signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('ApiClient: stats', () => {
  const STATS: Stats = {
    open: 3,
    completed: 5,
    medianCompletionSeconds: 5400,
    weeks: [
      { week: '2026-W47', start: '2026-11-16', created: 2, completed: 1 },
      { week: '2026-W48', start: '2026-11-23', created: 0, completed: 4 },
    ],
    asOf: '2026-11-29T18:00:00.000000Z',
  };

  it('reads the stats, asking for a number of weeks only when told', async () => {
    const { client, calls, headersOf } = clientWith([jsonResponse(200, STATS), jsonResponse(200, STATS)]);
    expect(await client.getStats()).toEqual(STATS);
    await client.getStats({ weeks: 2 });
    expect(calls.map((c) => c.url)).toEqual(['https://api.example.com/Prod/stats', 'https://api.example.com/Prod/stats?weeks=2']);
    expect(headersOf(0).get('Authorization')).toBe('Bearer the-id-token');
  });

  it('reads a median left out as "none yet"', async () => {
    const { medianCompletionSeconds: _, ...withoutMedian } = STATS;
    const { client } = clientWith([jsonResponse(200, withoutMedian), jsonResponse(200, { ...STATS, medianCompletionSeconds: null })]);
    expect((await client.getStats()).medianCompletionSeconds).toBeNull();
    expect((await client.getStats()).medianCompletionSeconds).toBeNull();
  });

  it('passes on a refused number of weeks in the server\'s words', async () => {
    const { client } = clientWith([jsonResponse(400, { error: { code: 'invalid_weeks', message: 'weeks must be a whole number from 1 to 52.' } })]);
    await expect(client.getStats({ weeks: 53 })).rejects.toMatchObject({ status: 400, code: 'invalid_weeks', message: expect.stringContaining('1 to 52') });
  });
});

describe('versionFromEtag', () => {
  it.each([
    ['"7"', 7],
    ['W/"12"', 12],
    ['7', 7],
    [null, undefined],
    ['"abc"', undefined],
  ])('%s -> %s', (etag, version) => {
    expect(versionFromEtag(etag)).toBe(version);
  });
});
