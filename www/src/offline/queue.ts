/**
 * The outbox: changes made while the server cannot be reached, kept in IndexedDB (see store.ts)
 * and sent in the order they were made once it can.
 *
 * Each change carries the version of the todo the user saw (`baseVersion`, sent as `If-Match`), so
 * the server tells a change made on a stale todo (412) from one it can apply; a create carries its
 * client-chosen id, so sending it twice stores it once. Sending again what the server already took
 * (a tab closed between the server's answer and the queue's update, an answer lost on the way) is
 * recognised from the todo's history: the event right after the version we sent on is ours.
 *
 * A change that still fails is never dropped: it stays in the queue in a state the list shows
 * (conflict: both versions and "keep mine" / "keep theirs"; gone: deleted elsewhere; rejected: the
 * server's reason) until the user decides. Later changes of that todo wait behind it; other
 * todos' changes go on.
 */
import { ApiError, NetworkError, type TodoApi } from '../api/client';
import { backoffDelay, type Backoff } from '../api/live';
import type { Todo, TodoEvent, TodoPatch } from '../api/types';
import type { OfflineStore } from './store';

export type OpKind = 'create' | 'update' | 'complete' | 'reopen' | 'delete';

/**
 * 'pending': to send; 'conflict': the todo changed on the server since the version the user saw;
 * 'gone': it was deleted elsewhere; 'rejected': the server refused the change itself.
 */
export type OpState = 'pending' | 'conflict' | 'gone' | 'rejected';

export interface QueuedOp {
  /** Position in the queue (IndexedDB's key): the order changes were made in. */
  seq: number;
  todoId: string;
  kind: OpKind;
  /** create: the new todo's title and notes; update: only the fields the user changed. */
  fields?: { title?: string; notes?: string };
  /** The version the user saw, sent as If-Match; 0 for a create. */
  baseVersion: number;
  /** The todo's title when the change was made, for messages. */
  title: string;
  /** RFC 3339: when the change was made. */
  queuedAt: string;
  state: OpState;
  /** conflict: the server's todo when the change was refused. */
  theirs?: Todo;
  /** rejected: the server's reason. */
  message?: string;
}

export type NewOp = Omit<QueuedOp, 'seq' | 'state' | 'queuedAt'> & { queuedAt?: string };

/** The patch a change stands for (what the list shows until the server answers). */
export function patchOf(op: QueuedOp): TodoPatch {
  switch (op.kind) {
    case 'update':
      return { ...op.fields };
    case 'complete':
      return { completed: true };
    case 'reopen':
      return { completed: false };
    default:
      return {};
  }
}

/** How a change the server refused (409, 412, 404) stands against the todo's history. */
export type Verdict =
  /** The server already has it (sent before, the answer lost): `version` is its event's. */
  | { kind: 'applied'; version: number }
  | { kind: 'conflict' }
  | { kind: 'gone' };

/**
 * Classifies a refused change from the todo's events (version order; empty when the server has
 * none). The first event after the version the change was sent on is ours if it is the same
 * change: the server only appends on that version when its If-Match matched.
 */
export function classifyRejection(op: QueuedOp, events: readonly TodoEvent[]): Verdict {
  if (op.kind === 'create') {
    // Our id, chosen here (UUIDv7): a todo under it is the one we sent.
    return events.length > 0 ? { kind: 'applied', version: events[0].version } : { kind: 'conflict' };
  }
  const next = events.find((event) => event.version > op.baseVersion);
  if (next && next.version === op.baseVersion + 1 && isSameChange(op, next)) return { kind: 'applied', version: next.version };
  if (events.some((event) => event.type === 'TodoDeleted')) {
    // Deleted by someone else: what a deletion wanted is done; any other change has nothing to apply to.
    const deletion = events.find((event) => event.type === 'TodoDeleted') as TodoEvent;
    return op.kind === 'delete' ? { kind: 'applied', version: deletion.version } : { kind: 'gone' };
  }
  return { kind: 'conflict' };
}

function isSameChange(op: QueuedOp, event: TodoEvent): boolean {
  switch (op.kind) {
    case 'complete':
      return event.type === 'TodoCompleted';
    case 'delete':
      return event.type === 'TodoDeleted';
    case 'reopen':
      return event.type === 'TodoUpdated' && event.data.completed === false;
    case 'update': {
      if (event.type !== 'TodoUpdated') return false;
      const data = event.data as Record<string, unknown>;
      const fields = (op.fields ?? {}) as Record<string, unknown>;
      const keys = Object.keys(data);
      // The server records only the fields that changed: each of them must be one we sent, as sent.
      return keys.length > 0 && keys.every((key) => key in fields && fields[key] === data[key]);
    }
    default:
      return false;
  }
}

/** Failures that say "not now" rather than "no": the change stays pending and is sent later. */
export function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError) return error.isServerFault || error.status === 429 || error.status === 401;
  return false;
}

type Outcome =
  | { kind: 'sent'; todo: Todo | null; version: number | null }
  | { kind: 'conflict'; theirs: Todo }
  | { kind: 'gone' }
  | { kind: 'rejected'; message: string }
  | { kind: 'later' };

/** 'sending': a run is under way; 'waiting': the last run stopped on a transient failure and will try again. */
export type OutboxStatus = 'idle' | 'sending' | 'waiting';

/** Told when a change reached the server: the todo as the server has it now (null: deleted). */
export type SentListener = (op: QueuedOp, todo: Todo | null) => void;

export interface OutboxOptions {
  isOnline?: () => boolean;
  backoff?: Backoff;
  random?: () => number;
  now?: () => Date;
}

export class Outbox {
  private ops: QueuedOp[] = [];
  private status: OutboxStatus = 'idle';
  private readonly listeners = new Set<() => void>();
  private readonly sentListeners = new Set<SentListener>();
  private running: Promise<void> | null = null;
  private again = false;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private started = false;
  private readonly isOnline: () => boolean;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly now: () => Date;

  readonly store: OfflineStore;
  private readonly api: TodoApi;

  private constructor(store: OfflineStore, api: TodoApi, options: OutboxOptions) {
    this.store = store;
    this.api = api;
    this.isOnline = options.isOnline ?? (() => globalThis.navigator?.onLine !== false);
    this.backoff = options.backoff ?? { initialMs: 1_000, maxMs: 30_000 };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
  }

  /** The outbox of `store`'s user, with what an earlier session left in it. */
  static async open(store: OfflineStore, api: TodoApi, options: OutboxOptions = {}): Promise<Outbox> {
    const outbox = new Outbox(store, api, options);
    outbox.ops = await store.queued();
    return outbox;
  }

  /** The queue, oldest first (a new array after every change: fit for useSyncExternalStore). */
  getSnapshot = (): readonly QueuedOp[] => this.ops;

  getStatus = (): OutboxStatus => this.status;

  subscribe = (onChange: () => void): (() => void) => {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  };

  onSent(listener: SentListener): () => void {
    this.sentListeners.add(listener);
    return () => this.sentListeners.delete(listener);
  }

  /** Sends what is queued now, and again whenever the browser comes back online. */
  start(): void {
    if (this.started) return;
    this.started = true;
    globalThis.addEventListener?.('online', this.onOnline);
    void this.flush();
  }

  stop(): void {
    this.started = false;
    globalThis.removeEventListener?.('online', this.onOnline);
    clearTimeout(this.retryTimer);
  }

  private onOnline = (): void => {
    this.failures = 0;
    void this.flush();
  };

  /** Queues a change (durably: it is in IndexedDB when this resolves) and sends it if it can. */
  async enqueue(change: NewOp): Promise<QueuedOp> {
    const op = await this.store.enqueue({ ...change, state: 'pending', queuedAt: change.queuedAt ?? this.now().toISOString() });
    this.setOps([...this.ops, op]);
    void this.flush();
    return op;
  }

  /**
   * Sends the pending changes in order, one at a time. A call during a run makes the run go round
   * once more (for changes queued meanwhile). Offline, it does nothing: `online` calls it again.
   */
  flush(): Promise<void> {
    if (!this.isOnline() || !this.ops.some((op) => op.state === 'pending')) return this.running ?? Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.retryTimer);
    this.setStatus('sending');
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      if (await this.sendPending()) {
        this.setStatus('waiting');
        this.retryLater();
        return;
      }
      this.failures = 0;
    } while (this.again && this.isOnline());
    this.setStatus('idle');
  }

  /** One pass over the queue; true when it stopped on a transient failure. */
  private async sendPending(): Promise<boolean> {
    const held = new Set<string>();
    for (const queued of [...this.ops]) {
      const op = this.ops.find((other) => other.seq === queued.seq);
      // Settled meanwhile (the user kept the server's version).
      if (!op) continue;
      if (op.state !== 'pending' || held.has(op.todoId)) {
        // A todo's later changes build on its earlier ones: they wait behind one that did not go through.
        held.add(op.todoId);
        continue;
      }
      if (!this.isOnline()) return true;
      const outcome = await this.send(op);
      switch (outcome.kind) {
        case 'later':
          return true;
        case 'sent':
          await this.settle(op, outcome.todo, outcome.version);
          break;
        case 'conflict':
          held.add(op.todoId);
          await this.update({ ...op, state: 'conflict', theirs: outcome.theirs });
          break;
        case 'gone':
          held.add(op.todoId);
          await this.update({ ...op, state: 'gone' });
          break;
        case 'rejected':
          held.add(op.todoId);
          await this.update({ ...op, state: 'rejected', message: outcome.message });
          break;
      }
    }
    return false;
  }

  private async send(op: QueuedOp): Promise<Outcome> {
    const sent = (todo: Todo | null): Outcome => ({ kind: 'sent', todo, version: todo?.version ?? null });
    try {
      switch (op.kind) {
        case 'create':
          return sent(await this.api.createTodo({ id: op.todoId, title: op.fields?.title ?? op.title, notes: op.fields?.notes }));
        case 'update':
          return sent(await this.api.updateTodo(op.todoId, patchOf(op), op.baseVersion));
        case 'complete':
          return sent(await this.api.completeTodo(op.todoId, op.baseVersion));
        case 'reopen':
          return sent(await this.api.updateTodo(op.todoId, { completed: false }, op.baseVersion));
        case 'delete':
          await this.api.deleteTodo(op.todoId, op.baseVersion);
          return sent(null);
      }
    } catch (error) {
      if (isTransient(error)) return { kind: 'later' };
      if (error instanceof ApiError && (error.isConflict || error.status === 404)) return this.judge(op, error);
      return { kind: 'rejected', message: error instanceof Error ? error.message : String(error) };
    }
    return { kind: 'rejected', message: `Unknown change ${String(op.kind)}.` };
  }

  /** A refused change: already there, a real conflict, or deleted elsewhere (see classifyRejection). */
  private async judge(op: QueuedOp, refusal: ApiError): Promise<Outcome> {
    try {
      const events = await this.api.getItemHistory(op.todoId).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return [];
        throw error;
      });
      const verdict = classifyRejection(op, events);
      if (verdict.kind === 'gone') return { kind: 'gone' };
      const current = await this.current(op.todoId);
      if (verdict.kind === 'applied') return { kind: 'sent', todo: current, version: verdict.version };
      if (op.kind === 'create') return { kind: 'rejected', message: refusal.message };
      return current ? { kind: 'conflict', theirs: current } : { kind: 'gone' };
    } catch (error) {
      if (isTransient(error)) return { kind: 'later' };
      return { kind: 'rejected', message: error instanceof Error ? error.message : String(error) };
    }
  }

  private async current(id: string): Promise<Todo | null> {
    try {
      return await this.api.getTodo(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * A change the server has: out of the queue, and the same todo's later changes (made on top of
   * it) now sent on the version it produced. One transaction, so a crash cannot half-apply it.
   */
  private async settle(op: QueuedOp, todo: Todo | null, version: number | null): Promise<void> {
    const rebased = version === null ? [] : this.ops.filter((other) => other.seq > op.seq && other.todoId === op.todoId).map((other) => ({ ...other, baseVersion: version }));
    await this.store.settle([op.seq], rebased);
    for (const listener of [...this.sentListeners]) listener(op, todo);
    const replaced = new Map(rebased.map((other) => [other.seq, other]));
    this.setOps(this.ops.filter((other) => other.seq !== op.seq).map((other) => replaced.get(other.seq) ?? other));
  }

  private async update(op: QueuedOp): Promise<void> {
    await this.store.replace(op);
    this.setOps(this.ops.map((other) => (other.seq === op.seq ? op : other)));
  }

  /**
   * "Keep mine": the change again, on the server's current version. What the server already has
   * (a completion of a todo completed meanwhile, fields already as typed) needs no sending.
   */
  async keepMine(seq: number): Promise<void> {
    const op = this.ops.find((other) => other.seq === seq);
    if (!op || op.state !== 'conflict' || !op.theirs) return;
    const theirs = op.theirs;
    let next: QueuedOp | null = { ...op, state: 'pending', baseVersion: theirs.version, theirs: undefined };
    if (op.kind === 'update') {
      const fields = { ...op.fields };
      if (fields.title === theirs.title) delete fields.title;
      if (fields.notes !== undefined && fields.notes === (theirs.notes ?? '')) delete fields.notes;
      next = Object.keys(fields).length > 0 ? { ...next, fields } : null;
    } else if ((op.kind === 'complete' && theirs.completed) || (op.kind === 'reopen' && !theirs.completed)) {
      next = null;
    }
    if (next) {
      await this.update(next);
      void this.flush();
    } else {
      await this.settle(op, theirs, theirs.version);
      void this.flush();
    }
  }

  /**
   * "Keep theirs" (or discard a change that cannot be applied): this change and the same todo's
   * later ones leave the queue; the list takes the server's todo (`theirs`, null when it is gone).
   */
  async discard(seq: number): Promise<void> {
    const op = this.ops.find((other) => other.seq === seq);
    if (!op) return;
    const dropped = this.ops.filter((other) => other.todoId === op.todoId && other.seq >= op.seq).map((other) => other.seq);
    await this.store.settle(dropped);
    const theirs = op.state === 'conflict' ? (op.theirs ?? null) : null;
    if (op.state === 'conflict' || op.state === 'gone') {
      for (const listener of [...this.sentListeners]) listener(op, theirs);
    }
    this.setOps(this.ops.filter((other) => !dropped.includes(other.seq)));
    void this.flush();
  }

  private retryLater(): void {
    if (!this.started) return;
    const delay = backoffDelay(this.failures, this.random, this.backoff);
    this.failures += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.flush(), delay);
  }

  private setOps(ops: QueuedOp[]): void {
    this.ops = ops;
    for (const listener of [...this.listeners]) listener();
  }

  private setStatus(status: OutboxStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of [...this.listeners]) listener();
  }
}
