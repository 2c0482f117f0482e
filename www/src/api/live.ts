/**
 * Live updates: one WebSocket per signed-in session (`liveUrl` in /config.json, the ID token as
 * the `token` query parameter, as the server's `$connect` authorizer expects). Each text frame is
 * one JSON message: a todo that changed in the read model, or `{"type": "reread"}` just before the
 * server drops a connection that fell behind.
 *
 * The client only delivers: it says what arrived (`onPush`) and when what a page shows may have
 * missed changes (`onResync`: a connection opened, or the server said to re-read). Each page
 * decides how to bring itself up to date. When the socket cannot connect, the app works as it
 * does without live updates; the client keeps trying with a capped, jittered exponential backoff.
 */
import type { LiveChange, LiveMessage, LivePush, Todo } from './types';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/**
 * Why a page should re-read what it shows: 'connected' (the first connection of this session
 * opened: changes made before it were not pushed), 'reconnected' (likewise, after a drop), or
 * 'reread' (the server fell behind and dropped pushes).
 */
export type ResyncReason = 'connected' | 'reconnected' | 'reread';

export interface LiveListener {
  onPush?: (push: LivePush) => void;
  onResync?: (reason: ResyncReason) => void;
}

export interface Backoff {
  /** The ceiling of the first retry's delay; it doubles with each failed attempt... */
  initialMs: number;
  /** ...up to this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 30_000 };

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first retry): exponential,
 * capped, with "equal jitter" (half of the ceiling fixed, half random) so that the sessions a
 * server restart dropped do not all come back in the same instant, yet none retries at once.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random, backoff: Backoff = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The socket's address: `liveUrl?token=<ID token>`. */
export function liveSocketUrl(liveUrl: string, idToken: string): string {
  const url = new URL(liveUrl);
  url.searchParams.set('token', idToken);
  return url.toString();
}

const CHANGES: readonly LiveChange[] = ['created', 'updated', 'completed', 'reopened', 'deleted'];

function isTodo(value: unknown): value is Todo {
  const todo = value as Partial<Todo> | null;
  return (
    typeof todo === 'object' &&
    todo !== null &&
    typeof todo.id === 'string' &&
    typeof todo.title === 'string' &&
    typeof todo.completed === 'boolean' &&
    typeof todo.version === 'number'
  );
}

/** One frame as a message; null for anything else (a newer server's message types included). */
export function parseLiveMessage(text: string): LiveMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const message = raw as Record<string, unknown>;
  if (message.type === 'reread') return { type: 'reread' };
  if (message.type !== 'todo') return null;
  const change = message.change as LiveChange;
  const version = message.version;
  if (!CHANGES.includes(change) || typeof version !== 'number' || !Number.isInteger(version) || version < 1) return null;
  const todo = isTodo(message.todo) ? message.todo : null;
  const id = typeof message.id === 'string' ? message.id : todo?.id;
  if (!id || (todo && todo.id !== id)) return null;
  if (change === 'deleted') return { type: 'todo', change, todo: null, id, version };
  if (!todo) return null;
  return { type: 'todo', change, todo, id, version };
}

/**
 * Where a push stands against what a page knows of its todo (`known`: the version it shows, or
 * the version it saw it deleted at; undefined when it knows nothing of it):
 * - 'stale': nothing new (the page's own change coming back, or an older push);
 * - 'next': exactly the change after the one known;
 * - 'gap': pushes were missed in between, so other todos may have missed theirs too: re-read.
 */
export type PushOrder = 'stale' | 'next' | 'gap';

export function pushOrder(known: number | undefined, push: LivePush): PushOrder {
  if (known === undefined) {
    // A creation is complete in itself; a deletion of a todo never seen changes nothing shown.
    if (push.change === 'created') return 'next';
    return push.change === 'deleted' ? 'stale' : 'gap';
  }
  if (push.version <= known) return 'stale';
  return push.version === known + 1 ? 'next' : 'gap';
}

/** The part of the browser's WebSocket this client uses (tests hand in a fake). */
export interface LiveSocket {
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

export type LiveSocketFactory = (url: string) => LiveSocket;

export interface LiveClientOptions {
  /** `liveUrl` from /config.json. */
  url: string;
  /** The current ID token (renewed first when about to expire), or null when nobody is signed in. */
  getIdToken: () => Promise<string | null>;
  createSocket?: LiveSocketFactory;
  random?: () => number;
  backoff?: Backoff;
}

export class LiveClient {
  private readonly url: string;
  private readonly getIdToken: () => Promise<string | null>;
  private readonly createSocket: LiveSocketFactory;
  private readonly random: () => number;
  private readonly backoff: Backoff;
  private readonly listeners = new Set<LiveListener>();
  private readonly statusListeners = new Set<() => void>();
  private status: LiveStatus = 'stopped';
  private socket: LiveSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every connect and stop: a token that arrives for an abandoned attempt is dropped. */
  private attemptId = 0;
  private failures = 0;
  private opened = 0;

  constructor(options: LiveClientOptions) {
    this.url = options.url;
    this.getIdToken = options.getIdToken;
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url));
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** How many times a connection has opened: a page that read before the latest opening may have missed changes. */
  get connections(): number {
    return this.opened;
  }

  getStatus = (): LiveStatus => this.status;

  subscribeStatus = (onChange: () => void): (() => void) => {
    this.statusListeners.add(onChange);
    return () => this.statusListeners.delete(onChange);
  };

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.status !== 'stopped') return;
    this.failures = 0;
    globalThis.addEventListener?.('online', this.onOnline);
    void this.connect();
  }

  stop(): void {
    if (this.status === 'stopped') return;
    globalThis.removeEventListener?.('online', this.onOnline);
    this.attemptId += 1;
    clearTimeout(this.retryTimer);
    this.closeSocket();
    this.setStatus('stopped');
  }

  /** Connect again now, with a fresh token (after a silent renew). */
  reconnect(): void {
    if (this.status === 'stopped') return;
    clearTimeout(this.retryTimer);
    this.closeSocket();
    this.failures = 0;
    void this.connect();
  }

  /** Back online: don't sit out the rest of a long backoff. */
  private onOnline = (): void => {
    if (this.status === 'live' || this.status === 'stopped' || this.socket) return;
    this.reconnect();
  };

  private async connect(): Promise<void> {
    const attempt = ++this.attemptId;
    this.setStatus(this.opened === 0 ? 'connecting' : 'reconnecting');
    let token: string | null;
    try {
      token = await this.getIdToken();
    } catch {
      token = null;
    }
    if (attempt !== this.attemptId) return;
    if (!token) {
      this.retryLater();
      return;
    }
    let socket: LiveSocket;
    try {
      socket = this.createSocket(liveSocketUrl(this.url, token));
    } catch {
      this.retryLater();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.failures = 0;
      this.opened += 1;
      this.setStatus('live');
      this.emitResync(this.opened === 1 ? 'connected' : 'reconnected');
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      const message = parseLiveMessage(event.data);
      if (!message) return;
      if (message.type === 'reread') {
        this.emitResync('reread');
        return;
      }
      for (const listener of [...this.listeners]) listener.onPush?.(message);
    };
    // A refused token fails the upgrade: the browser reports an error, then a close.
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.retryLater();
    };
  }

  private retryLater(): void {
    if (this.status === 'stopped') return;
    this.setStatus(this.opened === 0 ? 'connecting' : 'reconnecting');
    const delay = backoffDelay(this.failures, this.random, this.backoff);
    this.failures += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(1000, 'client closed');
    } catch {
      // Closing a socket that never opened may throw in some browsers: it is gone either way.
    }
  }

  private emitResync(reason: ResyncReason): void {
    for (const listener of [...this.listeners]) listener.onResync?.(reason);
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const onChange of [...this.statusListeners]) onChange();
  }
}
