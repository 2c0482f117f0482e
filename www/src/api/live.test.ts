import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLiveServer } from '../testing/fakeLive';
import { backoffDelay, LiveClient, liveSocketUrl, parseLiveMessage, pushOrder, type LiveListener, type ResyncReason } from './live';
import type { LivePush, Todo } from './types';

const TODO: Todo = {
  id: '01930000-0000-7000-8000-000000000001',
  title: 'Buy milk',
  completed: false,
  createdAt: '2026-11-29T10:00:00Z',
  updatedAt: '2026-11-29T10:00:00Z',
  version: 1,
};

function push(change: LivePush['change'], version: number, todo: Partial<Todo> = {}): LivePush {
  return { type: 'todo', change, todo: change === 'deleted' ? null : { ...TODO, ...todo, version }, id: TODO.id, version };
}

function setup(options: { token?: () => Promise<string | null>; random?: () => number } = {}) {
  const server = new FakeLiveServer();
  let tokens = 0;
  const getIdToken = vi.fn(options.token ?? (async () => `token-${++tokens}`));
  const client = new LiveClient({ url: 'ws://127.0.0.1:8080/live', getIdToken, createSocket: server.connect, random: options.random ?? (() => 0) });
  const pushes: LivePush[] = [];
  const resyncs: ResyncReason[] = [];
  const statuses: string[] = [];
  const listener: LiveListener = { onPush: (p) => pushes.push(p), onResync: (r) => resyncs.push(r) };
  client.subscribe(listener);
  client.subscribeStatus(() => statuses.push(client.getStatus()));
  return { server, client, getIdToken, pushes, resyncs, statuses };
}

/** Lets the token promise resolve (and any due timer run). */
const settle = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the socket address', () => {
  it('is liveUrl with the ID token as the token parameter', () => {
    expect(liveSocketUrl('wss://abc.execute-api.eu-west-1.amazonaws.com/prod', 'a.b+c/d')).toBe(
      'wss://abc.execute-api.eu-west-1.amazonaws.com/prod?token=a.b%2Bc%2Fd',
    );
    expect(liveSocketUrl('ws://127.0.0.1:8080/live', 'eyJ.eyJ.sig')).toBe('ws://127.0.0.1:8080/live?token=eyJ.eyJ.sig');
  });
});

describe('reading a message', () => {
  it('takes each kind of change, and a deletion by its id alone', () => {
    expect(parseLiveMessage(JSON.stringify(push('created', 1)))).toEqual(push('created', 1));
    expect(parseLiveMessage(JSON.stringify(push('completed', 3, { completed: true })))).toEqual(push('completed', 3, { completed: true }));
    expect(parseLiveMessage(JSON.stringify({ type: 'todo', change: 'deleted', todo: null, id: TODO.id, version: 4 }))).toEqual(
      push('deleted', 4),
    );
    // The message has no `id`: the todo's own id names it then.
    expect(parseLiveMessage(JSON.stringify({ type: 'todo', change: 'updated', todo: { ...TODO, version: 2 }, version: 2 }))).toEqual(
      push('updated', 2),
    );
    expect(parseLiveMessage('{"type":"reread"}')).toEqual({ type: 'reread' });
  });

  it('ignores what it cannot use', () => {
    for (const text of [
      'not json',
      'null',
      '[]',
      '{"type":"ping"}',
      JSON.stringify({ ...push('updated', 2), change: 'renamed' }),
      JSON.stringify({ ...push('updated', 2), version: 0 }),
      JSON.stringify({ ...push('updated', 2), version: '2' }),
      JSON.stringify({ ...push('updated', 2), todo: null }),
      JSON.stringify({ ...push('updated', 2), todo: { id: TODO.id } }),
      JSON.stringify({ ...push('updated', 2), id: 'another-id' }),
      JSON.stringify({ type: 'todo', change: 'deleted', todo: null, version: 2 }),
    ]) {
      expect(parseLiveMessage(text), text).toBeNull();
    }
  });
});

describe('gap detection', () => {
  it('says whether a push is old news, the next change, or comes after missed ones', () => {
    expect(pushOrder(2, push('updated', 2))).toBe('stale');
    expect(pushOrder(3, push('updated', 2))).toBe('stale');
    expect(pushOrder(2, push('updated', 3))).toBe('next');
    expect(pushOrder(2, push('completed', 5))).toBe('gap');
    expect(pushOrder(4, push('deleted', 5))).toBe('next');
    expect(pushOrder(1, push('deleted', 5))).toBe('gap');
  });

  it('takes a creation of an unknown todo as complete, and anything else about one as a gap', () => {
    expect(pushOrder(undefined, push('created', 1))).toBe('next');
    expect(pushOrder(undefined, push('updated', 2))).toBe('gap');
    expect(pushOrder(undefined, push('deleted', 2))).toBe('stale');
    // The page's own create, answered before its push came back.
    expect(pushOrder(1, push('created', 1))).toBe('stale');
  });
});

describe('the backoff schedule', () => {
  it('doubles from one second up to thirty, with half of each delay random', () => {
    const lowest = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, () => 0));
    const highest = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, () => 1));
    expect(lowest).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(highest).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(2, () => 0.5)).toBe(3000);
    expect(backoffDelay(1000, () => 1)).toBe(30000);
  });
});

describe('LiveClient', () => {
  it('connects with the ID token, says it is live, and asks for a re-read once open', async () => {
    const { server, client, resyncs, statuses } = setup();
    client.start();
    expect(client.getStatus()).toBe('connecting');
    await settle();
    expect(server.latest.url).toBe('ws://127.0.0.1:8080/live?token=token-1');
    expect(resyncs).toEqual([]);
    server.latest.open();
    expect(client.getStatus()).toBe('live');
    expect(client.connections).toBe(1);
    expect(resyncs).toEqual(['connected']);
    expect(statuses).toEqual(['connecting', 'live']);
    client.stop();
  });

  it('hands each push to every listener, and nothing it cannot read', async () => {
    const { server, client, pushes } = setup();
    const other: LivePush[] = [];
    const unsubscribe = client.subscribe({ onPush: (p) => other.push(p) });
    client.start();
    await settle();
    server.latest.open();
    server.latest.send(push('created', 1));
    server.latest.send('garbage');
    server.latest.send({ type: 'todo', change: 'deleted', todo: null, id: TODO.id, version: 2 });
    unsubscribe();
    server.latest.send(push('updated', 2));
    expect(pushes.map((p) => `${p.change}@${p.version}`)).toEqual(['created@1', 'deleted@2', 'updated@2']);
    expect(other.map((p) => `${p.change}@${p.version}`)).toEqual(['created@1', 'deleted@2']);
    client.stop();
  });

  it('passes on the server’s “re-read” message', async () => {
    const { server, client, resyncs } = setup();
    client.start();
    await settle();
    server.latest.open();
    server.latest.send({ type: 'reread' });
    expect(resyncs).toEqual(['connected', 'reread']);
    client.stop();
  });

  it('reconnects after a drop with exponential backoff, and asks for a re-read on every reconnect', async () => {
    const { server, client, resyncs, statuses } = setup({ random: () => 0 });
    client.start();
    await settle();
    server.latest.open();
    server.latest.drop();
    expect(client.getStatus()).toBe('reconnecting');

    // Refused three times (a server that is down): 0.5 s, then 1 s, then 2 s between attempts.
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = server.sockets.length;
      let waited = 0;
      while (server.sockets.length === before) {
        await settle(100);
        waited += 100;
      }
      waits.push(waited);
      server.latest.drop();
    }
    expect(waits).toEqual([500, 1000, 2000]);

    await settle(4000);
    server.latest.open();
    expect(client.getStatus()).toBe('live');
    expect(client.connections).toBe(2);
    expect(resyncs).toEqual(['connected', 'reconnected']);
    expect(statuses).toEqual(['connecting', 'live', 'reconnecting', 'live']);

    // Once open again, the schedule starts over.
    server.latest.drop();
    const before = server.sockets.length;
    await settle(499);
    expect(server.sockets.length).toBe(before);
    await settle(1);
    expect(server.sockets.length).toBe(before + 1);
    client.stop();
  });

  it('spreads retries with jitter and never waits more than the cap', async () => {
    let draws = 0;
    const { server, client } = setup({ random: () => [0.9, 0.1, 0.5][draws++ % 3] });
    client.start();
    await settle();
    const times: number[] = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      server.latest.drop();
      const before = server.sockets.length;
      let waited = 0;
      while (server.sockets.length === before) {
        await settle(50);
        waited += 50;
      }
      times.push(waited);
    }
    expect(times.slice(0, 3)).toEqual([950, 1100, 3000]);
    expect(Math.max(...times)).toBeLessThanOrEqual(30_000);
    expect(times.at(-1)).toBeGreaterThanOrEqual(15_000);
    client.stop();
  });

  it('waits without a socket while there is no token, and tries again later', async () => {
    let token: string | null = null;
    const { server, client } = setup({ token: async () => token });
    client.start();
    await settle();
    expect(server.sockets).toHaveLength(0);
    expect(client.getStatus()).toBe('connecting');
    token = 'token-later';
    await settle(500);
    expect(server.latest.url).toContain('token=token-later');
    client.stop();
  });

  it('connects again with the new token after a renewal, and re-reads', async () => {
    const { server, client, resyncs } = setup();
    client.start();
    await settle();
    const first = server.latest;
    first.open();
    client.reconnect();
    expect(first.closedByClient).toBe(true);
    await settle();
    expect(server.latest).not.toBe(first);
    expect(server.latest.token).toBe('token-2');
    server.latest.open();
    expect(resyncs).toEqual(['connected', 'reconnected']);
    // The old socket's late events change nothing.
    first.onmessage?.({ data: JSON.stringify(push('created', 1)) } as MessageEvent);
    client.stop();
  });

  it('stops for good: closes the socket and schedules nothing', async () => {
    const { server, client, statuses } = setup();
    client.start();
    await settle();
    server.latest.open();
    client.stop();
    expect(server.latest.closedByClient).toBe(true);
    expect(client.getStatus()).toBe('stopped');
    await settle(60_000);
    expect(server.sockets).toHaveLength(1);
    expect(statuses.at(-1)).toBe('stopped');
  });

  it('drops a token that arrives after it was stopped', async () => {
    let release: (token: string) => void = () => undefined;
    const { server, client } = setup({ token: () => new Promise((resolve) => (release = resolve)) });
    client.start();
    client.stop();
    release('token-late');
    await settle();
    expect(server.sockets).toHaveLength(0);
  });

  it('retries at once when the browser comes back online', async () => {
    const { server, client } = setup({ random: () => 1 });
    client.start();
    await settle();
    server.latest.open();
    server.latest.drop();
    for (let i = 0; i < 4; i++) {
      await settle(20_000);
      server.latest.drop();
    }
    const before = server.sockets.length;
    window.dispatchEvent(new Event('online'));
    await settle();
    expect(server.sockets.length).toBe(before + 1);
    client.stop();
  });
});
