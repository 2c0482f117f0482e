/**
 * An in-memory stand-in for the To Do API, speaking HTTP through a `fetch`-shaped function. Unit
 * and component tests run the real ApiClient against it, and the mocked browser test (e2e/mock)
 * routes the page's API requests to it. It follows DESIGN.md's contract closely enough to test
 * the SPA; it is not the back end's specification (the Rust tests and the real e2e are).
 */
import type { ErasedCounts, ErasureReceipt } from '../api/account';
import type { ExportedEvent, HistoryDigest, LiveChange, LivePush, Stats, Todo, TodoEvent, TodoPatch } from '../api/types';
import { formatIsoWeek, isoWeekOf, lastIsoWeeks } from '../lib/isoWeek';

export interface FakeBackendOptions {
  /** Page size when the request has no `limit`. */
  pageSize?: number;
  /** The clock; tests pin it for stable timestamps. */
  now?: () => Date;
  baseUrl?: string;
  /** Who a bearer token belongs to; by default `token-<user>` (see tokenFor). */
  userFromToken?: (token: string) => string | null;
  /** Whether new events get `prevHash`/`hash` (false: like events written before hashing). */
  hashing?: boolean;
  /**
   * Events erased per `DELETE /account`: each round short of the last answers 202 with Retry-After,
   * as on AWS. By default everything at once (200), as on the embedded store.
   */
  erasureBatch?: number;
  /** The Retry-After of those 202s, in seconds. */
  erasureRetryAfterSeconds?: number;
  /** Where Cognito's API answers (`DeleteUser`); by default `http://cognito.test/`. */
  cognitoEndpoint?: string;
}

type Failure = { kind: 'network' } | { kind: 'status'; status: number; code?: string; message?: string };

interface Rule {
  method?: string;
  path: RegExp;
  failure: Failure;
  times: number;
}

interface UserData {
  todos: Map<string, Todo>;
  deleted: Set<string>;
  events: TodoEvent[];
}

/** An erasure under way: when it was asked for, what is gone so far. */
interface Erasure {
  requestedAt: string;
  erased: ErasedCounts;
}

export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const GENESIS_HASH = '0'.repeat(64);
const LIST_LIMITS = { default: 50, max: 100 };
const EXPORT_LIMITS = { default: 500, max: 1000 };
const STATS_WEEKS = { default: 12, max: 52 };

/**
 * A stable stand-in for the back end's SHA-256 (64 lowercase hex digits, not cryptographic): the
 * SPA only shows and saves hashes, it never recomputes them.
 */
export function fakeHash(text: string): string {
  let out = '';
  for (let seed = 1; seed <= 8; seed++) {
    let h = 0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1);
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    out += (h >>> 0).toString(16).padStart(8, '0');
  }
  return out;
}

/** The fold: a todo's state after `events` (its own, in version order); 'deleted' after a deletion. */
export function foldTodo(events: readonly TodoEvent[]): Todo | 'deleted' | undefined {
  let todo: Todo | 'deleted' | undefined;
  for (const event of events) {
    const at = event.occurredAt;
    if (event.type === 'TodoCreated') {
      todo = { id: event.todoId, title: event.data.title, completed: false, createdAt: at, updatedAt: at, version: event.version };
      if (event.data.notes) todo.notes = event.data.notes;
      continue;
    }
    if (todo === undefined || todo === 'deleted') continue;
    if (event.type === 'TodoDeleted') {
      todo = 'deleted';
      continue;
    }
    const next: Todo = { ...todo, updatedAt: at, version: event.version };
    if (event.type === 'TodoCompleted') {
      next.completed = true;
      next.completedAt = at;
    } else if (event.type === 'TodoUpdated') {
      const { title, notes, completed } = event.data;
      if (title !== undefined) next.title = title;
      if (notes === '') delete next.notes;
      else if (notes !== undefined) next.notes = notes;
      if (completed === true) next.completedAt = at;
      if (completed === false) delete next.completedAt;
      if (completed !== undefined) next.completed = completed;
    }
    todo = next;
  }
  return todo;
}

/** Receives every change as the live socket pushes it to that user's sessions. */
export type ChangeWatcher = (user: string, push: LivePush) => void;

/** Tokens look like `token-<user>`; tests sign in as whoever they like. */
export function tokenFor(user: string): string {
  return `token-${user}`;
}

export class FakeBackend {
  readonly requests: RecordedRequest[] = [];
  private readonly users = new Map<string, UserData>();
  private readonly rules: Rule[] = [];
  private readonly pageSize: number;
  private readonly now: () => Date;
  private readonly baseUrl: string;
  private readonly userFromToken: (token: string) => string | null;
  private readonly hashing: boolean;
  private readonly watchers = new Set<ChangeWatcher>();
  private readonly erasureBatch: number;
  private readonly erasureRetryAfterSeconds: number;
  private readonly cognitoEndpoint: string;
  private readonly erasures = new Map<string, Erasure>();
  private readonly receipts = new Map<string, ErasureReceipt>();
  /** Users whose sign-in was deleted: their tokens are refused from then on. */
  private readonly deletedSignIns = new Set<string>();
  private deleteUserRefusals: { type: string; message: string; times: number } | null = null;
  /** Requests to Cognito's API, apart from the API's `requests`. */
  readonly cognitoRequests: RecordedRequest[] = [];
  private counter = 0;

  constructor({
    pageSize = LIST_LIMITS.default,
    now = () => new Date(),
    baseUrl = 'http://api.test/api',
    userFromToken,
    hashing = true,
    erasureBatch = Infinity,
    erasureRetryAfterSeconds = 1,
    cognitoEndpoint = 'http://cognito.test/',
  }: FakeBackendOptions = {}) {
    this.pageSize = pageSize;
    this.erasureBatch = erasureBatch;
    this.erasureRetryAfterSeconds = erasureRetryAfterSeconds;
    this.cognitoEndpoint = cognitoEndpoint;
    this.hashing = hashing;
    this.now = now;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.userFromToken = userFromToken ?? ((token) => (token.startsWith('token-') ? token.slice('token-'.length) : null));
  }

  /** Makes the next `times` matching requests fail (a network error or an HTTP status). */
  failNext(method: string | undefined, path: RegExp, failure: Failure, times = 1): void {
    this.rules.push({ method, path, failure, times });
  }

  /** Seeds a todo for `user`, as if created through the API. */
  seed(user: string, title: string, options: { notes?: string; completed?: boolean } = {}): Todo {
    const todo = this.create(user, { title, notes: options.notes }, undefined);
    if (options.completed) return this.complete(user, todo.id);
    return todo;
  }

  /** Changes a todo behind the SPA's back (another tab or device). */
  changeElsewhere(user: string, id: string, patch: TodoPatch): Todo {
    return this.update(user, id, patch);
  }

  deleteElsewhere(user: string, id: string): void {
    this.remove(user, id);
  }

  /** Who a bearer token (or the live socket's `token`) belongs to; null when nobody. */
  userOf(token: string): string | null {
    return this.userFromToken(token);
  }

  /** Every change from now on, as the back end's live socket pushes it (the notifier's message). */
  watch(watcher: ChangeWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Makes the next `times` DeleteUser calls fail as Cognito does (400 with `__type`). */
  refuseDeleteUser(type = 'NotAuthorizedException', message = 'Access Token has been revoked', times = 1): void {
    this.deleteUserRefusals = { type, message, times };
  }

  /** Whether `user`'s sign-in account still exists (DeleteUser was not called with their token). */
  hasSignIn(user: string): boolean {
    return !this.deletedSignIns.has(user);
  }

  todosOf(user: string): Todo[] {
    return [...this.data(user).todos.values()];
  }

  eventsOf(user: string): TodoEvent[] {
    return [...this.data(user).events];
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.href === new URL(this.cognitoEndpoint).href) return this.cognito(request);
    const path = url.pathname.replace(new URL(this.baseUrl).pathname, '') || '/';
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return this.error(400, 'invalid_json', 'The body is not valid JSON.');
      }
    }
    this.requests.push({ method: request.method, path, search: url.search, headers, body });

    const rule = this.rules.find((r) => (!r.method || r.method === request.method) && r.path.test(path));
    if (rule) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      if (rule.failure.kind === 'network') throw new TypeError('Failed to fetch');
      return this.error(rule.failure.status, rule.failure.code ?? `http_${rule.failure.status}`, rule.failure.message ?? 'Injected failure.');
    }

    const auth = headers.authorization ?? '';
    const user = this.userFromToken(auth.replace(/^Bearer /, ''));
    if (!user || this.deletedSignIns.has(user)) return this.error(401, 'unauthorized', 'Missing or invalid token.');

    try {
      return this.route(user, request.method, path, url.searchParams, headers, body);
    } catch (error) {
      if (error instanceof HttpError) return this.error(error.status, error.code, error.message);
      throw error;
    }
  };

  private route(
    user: string,
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    body: unknown,
  ): Response {
    const expected = this.ifMatch(headers);
    if (method !== 'GET' && path !== '/account' && (this.erasures.has(user) || this.receipts.has(user))) {
      throw new HttpError(410, 'account_erased', 'This account is being erased or was: nothing more can be saved to it.');
    }
    if (path === '/item' && method === 'POST') {
      const input = this.object(body, ['title', 'notes', 'id']);
      const existing = typeof input.id === 'string' ? this.data(user).todos.get(input.id) : undefined;
      if (existing) return this.json(201, existing);
      const todo = this.create(user, input as { title: string; notes?: string }, input.id as string | undefined);
      return this.json(201, todo, { ETag: `"${todo.version}"`, Location: `/item/${todo.id}` });
    }
    if (path === '/item' && method === 'GET') {
      const status = query.get('status') ?? 'all';
      if (!['all', 'active', 'completed'].includes(status)) throw new HttpError(400, 'invalid_status', 'status must be all, active or completed.');
      const asOf = query.get('asOf');
      const todos = (asOf === null ? this.todosOf(user) : this.listAsOf(user, this.instant(asOf)))
        .filter((t) => status === 'all' || (status === 'active' ? !t.completed : t.completed))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const { page, nextCursor } = this.paginate(todos, query);
      return this.json(200, nextCursor ? { items: page, nextCursor } : { items: page });
    }
    if (path === '/history' && method === 'GET') {
      const { page, nextCursor } = this.paginate(this.data(user).events, query);
      return this.json(200, nextCursor ? { events: page, nextCursor } : { events: page });
    }
    if (path === '/history/digest' && method === 'GET') {
      return this.json(200, this.digest(user));
    }
    if (path === '/export' && method === 'GET') {
      // By todo, each in version order, exactly as stored (plus the owner, as the event table has it).
      const events: ExportedEvent[] = [...this.data(user).events]
        .sort((a, b) => (a.todoId === b.todoId ? a.version - b.version : a.todoId < b.todoId ? -1 : 1))
        .map((event) => ({ userId: user, ...event }) as ExportedEvent);
      const { page, nextCursor } = this.paginate(events, query, EXPORT_LIMITS);
      return this.json(200, nextCursor ? { events: page, nextCursor } : { events: page, digest: this.digest(user) });
    }
    if (path === '/stats' && method === 'GET') {
      return this.json(200, this.stats(user, query));
    }
    if (path === '/account' && method === 'DELETE') {
      return this.eraseRound(user);
    }
    const item = /^\/item\/([^/]+)(\/done|\/history)?$/.exec(path);
    if (!item) throw new HttpError(404, 'not_found', 'No such route.');
    const id = decodeURIComponent(item[1]);
    if (!UUID.test(id)) throw new HttpError(400, 'invalid_id', 'The id is not a UUID.');
    if (item[2] === '/history' && method === 'GET') {
      const events = this.data(user).events.filter((e) => e.todoId === id);
      if (events.length === 0) throw new HttpError(404, 'not_found', 'No such item.');
      return this.json(200, { events });
    }
    if (item[2] === '/done' && method === 'POST') {
      this.checkVersion(user, id, expected);
      return this.json(200, this.complete(user, id));
    }
    if (item[2]) throw new HttpError(404, 'not_found', 'No such route.');
    if (method === 'GET') {
      const version = query.get('version');
      const asOf = query.get('asOf');
      if (version !== null && asOf !== null) throw new HttpError(400, 'invalid_query', 'Give asOf or version, not both.');
      if (version !== null || asOf !== null) return this.json(200, this.pastTodo(user, id, version, asOf));
      const todo = this.get(user, id);
      return this.json(200, todo, { ETag: `"${todo.version}"` });
    }
    if (method === 'PUT') {
      const patch = this.object(body, ['title', 'notes', 'completed']) as TodoPatch;
      this.checkVersion(user, id, expected);
      return this.json(200, this.update(user, id, patch));
    }
    if (method === 'DELETE') {
      this.checkVersion(user, id, expected);
      this.remove(user, id);
      return new Response(null, { status: 204, headers: { 'x-request-id': this.requestId() } });
    }
    throw new HttpError(404, 'not_found', 'No such route.');
  }

  /**
   * One round of `DELETE /account`: erases up to `erasureBatch` events, oldest first; once none is
   * left, the rows and the stats too, and answers with the receipt (the same one ever after).
   */
  private eraseRound(user: string): Response {
    const done = this.receipts.get(user);
    if (done) return this.json(200, { receipt: done });
    const erasure = this.erasures.get(user) ?? {
      requestedAt: this.timestamp(),
      erased: { events: 0, todos: 0, stats: 0, snapshots: 0, connections: 0 },
    };
    this.erasures.set(user, erasure);
    const data = this.data(user);
    const gone = data.events.splice(0, Math.min(this.erasureBatch, data.events.length));
    erasure.erased.events += gone.length;
    if (data.events.length > 0) {
      return this.json(202, { status: 'erasing', erased: erasure.erased }, { 'Retry-After': String(this.erasureRetryAfterSeconds) });
    }
    erasure.erased.todos += data.todos.size + data.deleted.size;
    erasure.erased.stats += erasure.erased.events > 0 ? 1 : 0;
    this.users.delete(user);
    this.erasures.delete(user);
    const receipt: ErasureReceipt = {
      userKey: fakeHash(`erasure-key:${user}`),
      requestedAt: erasure.requestedAt,
      erasedAt: this.timestamp(),
      requestId: this.requestId(),
      erased: erasure.erased,
    };
    this.receipts.set(user, receipt);
    return this.json(200, { receipt });
  }

  /** Cognito's API, `DeleteUser` only: the access token's user loses their sign-in. */
  private async cognito(request: Request): Promise<Response> {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const text = await request.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    this.cognitoRequests.push({ method: request.method, path: new URL(request.url).pathname, search: '', headers, body });
    const refuse = (status: number, type: string, message: string) =>
      new Response(JSON.stringify({ __type: type, message }), { status, headers: { 'Content-Type': 'application/x-amz-json-1.1' } });

    if (request.method !== 'POST' || headers['x-amz-target'] !== 'AWSCognitoIdentityProviderService.DeleteUser') {
      return refuse(400, 'UnknownOperationException', 'Only DeleteUser is served here.');
    }
    if (headers['content-type'] !== 'application/x-amz-json-1.1') {
      return refuse(400, 'SerializationException', 'Content-Type must be application/x-amz-json-1.1.');
    }
    const refusal = this.deleteUserRefusals;
    if (refusal) {
      refusal.times -= 1;
      if (refusal.times <= 0) this.deleteUserRefusals = null;
      return refuse(400, refusal.type, refusal.message);
    }
    const token = (body as { AccessToken?: unknown } | null)?.AccessToken;
    const user = typeof token === 'string' ? this.userFromToken(token) : null;
    if (!user || this.deletedSignIns.has(user)) return refuse(400, 'NotAuthorizedException', 'Access Token has been revoked');
    this.deletedSignIns.add(user);
    return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/x-amz-json-1.1' } });
  }

  /** Every todo as it stood at `at` (ms since the epoch), folded from the events up to then. */
  private listAsOf(user: string, at: number): Todo[] {
    const perTodo = new Map<string, TodoEvent[]>();
    for (const event of this.data(user).events) {
      if (Date.parse(event.occurredAt) > at) continue;
      perTodo.set(event.todoId, [...(perTodo.get(event.todoId) ?? []), event]);
    }
    return [...perTodo.values()].map(foldTodo).filter((todo): todo is Todo => typeof todo === 'object');
  }

  private pastTodo(user: string, id: string, version: string | null, asOf: string | null): Todo {
    const events = this.data(user).events.filter((e) => e.todoId === id);
    if (events.length === 0) throw new HttpError(404, 'not_found', 'No such item.');
    let upTo: TodoEvent[];
    if (version !== null) {
      const current = events[events.length - 1].version;
      const n = /^\d+$/.test(version) ? Number(version) : NaN;
      if (!(n >= 1 && n <= current)) {
        throw new HttpError(400, 'invalid_version', `version must be a whole number from 1 to ${current}, the todo's current version.`);
      }
      upTo = events.filter((e) => e.version <= n);
    } else {
      const at = this.instant(asOf ?? '');
      upTo = events.filter((e) => Date.parse(e.occurredAt) <= at);
      if (upTo.length === 0) throw new HttpError(404, 'not_yet_created', `The todo did not exist yet at ${asOf}.`);
    }
    const last = upTo[upTo.length - 1];
    const todo = foldTodo(upTo);
    if (todo === 'deleted') {
      throw new HttpError(404, 'deleted', `The todo had been deleted at ${last.occurredAt} (version ${last.version}).`);
    }
    if (!todo) throw new HttpError(404, 'not_found', 'No such item.');
    return todo;
  }

  /** An RFC 3339 instant, not in the future, as ms since the epoch. */
  private instant(asOf: string): number {
    const at = RFC3339.test(asOf) ? Date.parse(asOf) : NaN;
    if (Number.isNaN(at)) throw new HttpError(400, 'invalid_as_of', `asOf ${asOf} is not an RFC 3339 instant.`);
    if (at > this.now().getTime()) throw new HttpError(400, 'invalid_as_of', `asOf ${asOf} is in the future.`);
    return at;
  }

  /** One hash over every todo's head (its last event): any stable hex will do here. */
  private digest(user: string): HistoryDigest {
    const heads = new Map<string, TodoEvent>();
    const events = this.data(user).events;
    for (const event of events) heads.set(event.todoId, event);
    const summary = [...heads.values()]
      .sort((a, b) => (a.todoId < b.todoId ? -1 : 1))
      .map((head) => ({ id: head.todoId, version: head.version, hash: head.hash ?? fakeHash(JSON.stringify(head)) }));
    return { digest: fakeHash(JSON.stringify(summary)), asOf: this.timestamp(), todos: heads.size, events: events.length };
  }

  /**
   * The stats projection, computed from the events (the back end maintains it incrementally; the
   * numbers must be the same). Deleted to-dos still count in the weeks and the median, with the
   * completion they had when they were deleted.
   */
  private stats(user: string, query: URLSearchParams): Stats {
    const asked = query.get('weeks');
    const count = asked === null ? STATS_WEEKS.default : /^\d+$/.test(asked) ? Number(asked) : NaN;
    if (!(count >= 1 && count <= STATS_WEEKS.max)) {
      throw new HttpError(400, 'invalid_weeks', `weeks must be a whole number from 1 to ${STATS_WEEKS.max}.`);
    }
    const weeks = lastIsoWeeks(this.now(), count).map((w) => ({ ...w, created: 0, completed: 0 }));
    const byWeek = new Map(weeks.map((w) => [w.week, w]));
    const weekOf = (at: string) => byWeek.get(formatIsoWeek(isoWeekOf(new Date(at))));

    const perTodo = new Map<string, TodoEvent[]>();
    for (const event of this.data(user).events) perTodo.set(event.todoId, [...(perTodo.get(event.todoId) ?? []), event]);
    let open = 0;
    let completed = 0;
    const durations: number[] = [];
    for (const events of perTodo.values()) {
      const deleted = events.some((e) => e.type === 'TodoDeleted');
      const last = foldTodo(events.filter((e) => e.type !== 'TodoDeleted'));
      if (typeof last !== 'object') continue;
      const created = weekOf(last.createdAt);
      if (created) created.created += 1;
      if (last.completed && last.completedAt) {
        const done = weekOf(last.completedAt);
        if (done) done.completed += 1;
        durations.push((Date.parse(last.completedAt) - Date.parse(last.createdAt)) / 1000);
      }
      if (!deleted) {
        if (last.completed) completed += 1;
        else open += 1;
      }
    }
    return { open, completed, medianCompletionSeconds: median(durations), weeks, asOf: this.timestamp() };
  }

  private data(user: string): UserData {
    let data = this.users.get(user);
    if (!data) {
      data = { todos: new Map(), deleted: new Set(), events: [] };
      this.users.set(user, data);
    }
    return data;
  }

  private get(user: string, id: string): Todo {
    const todo = this.data(user).todos.get(id);
    if (!todo) throw new HttpError(404, 'not_found', 'No such item.');
    return todo;
  }

  private create(user: string, input: { title: string; notes?: string }, id: string | undefined): Todo {
    const title = typeof input.title === 'string' ? input.title.trim() : '';
    if (!title) throw new HttpError(400, 'invalid_title', 'The title must not be blank.');
    if ([...title].length > 200) throw new HttpError(400, 'invalid_title', 'The title is longer than 200 characters.');
    if (input.notes !== undefined && [...input.notes].length > 2000) {
      throw new HttpError(400, 'invalid_notes', 'The notes are longer than 2000 characters.');
    }
    if (id !== undefined && !UUID.test(id)) throw new HttpError(400, 'invalid_id', 'The id is not a UUID.');
    const todoId = id ?? this.newId();
    const at = this.timestamp();
    const todo: Todo = { id: todoId, title, completed: false, createdAt: at, updatedAt: at, version: 1 };
    if (input.notes) todo.notes = input.notes;
    this.data(user).todos.set(todoId, todo);
    this.append(user, todo, 'TodoCreated', input.notes ? { title, notes: input.notes } : { title }, at);
    return todo;
  }

  private update(user: string, id: string, patch: TodoPatch): Todo {
    const current = this.get(user, id);
    const data: TodoPatch = {};
    if (patch.title !== undefined && patch.title.trim() !== current.title) data.title = patch.title.trim();
    if (patch.notes !== undefined && patch.notes !== (current.notes ?? '')) data.notes = patch.notes;
    if (patch.completed !== undefined && patch.completed !== current.completed) data.completed = patch.completed;
    if (data.title !== undefined && !data.title) throw new HttpError(400, 'invalid_title', 'The title must not be blank.');
    if (Object.keys(data).length === 0) return current;
    const at = this.timestamp();
    const next: Todo = { ...current, updatedAt: at, version: current.version + 1 };
    if (data.title !== undefined) next.title = data.title;
    if (data.notes !== undefined) {
      if (data.notes === '') delete next.notes;
      else next.notes = data.notes;
    }
    if (data.completed === true) next.completedAt = at;
    if (data.completed === false) delete next.completedAt;
    if (data.completed !== undefined) next.completed = data.completed;
    this.data(user).todos.set(id, next);
    this.append(user, next, 'TodoUpdated', data, at);
    return next;
  }

  private complete(user: string, id: string): Todo {
    const current = this.get(user, id);
    if (current.completed) return current;
    const at = this.timestamp();
    const next: Todo = { ...current, completed: true, completedAt: at, updatedAt: at, version: current.version + 1 };
    this.data(user).todos.set(id, next);
    this.append(user, next, 'TodoCompleted', { title: next.title }, at);
    return next;
  }

  private remove(user: string, id: string): void {
    const current = this.get(user, id);
    this.data(user).todos.delete(id);
    this.data(user).deleted.add(id);
    this.append(user, { ...current, version: current.version + 1 }, 'TodoDeleted', { title: current.title }, this.timestamp());
  }

  private append(user: string, todo: Todo, type: TodoEvent['type'], data: object, occurredAt: string): void {
    const events = this.data(user).events;
    const event = {
      eventId: this.newId(),
      todoId: todo.id,
      version: todo.version,
      type,
      schemaVersion: 1,
      occurredAt,
      data,
      requestId: this.requestId(),
      actor: user,
    } as TodoEvent;
    if (this.hashing) {
      const previous = events.findLast((e) => e.todoId === todo.id && e.hash !== undefined);
      event.prevHash = previous?.hash ?? GENESIS_HASH;
      event.hash = fakeHash(JSON.stringify({ userId: user, ...event }));
    }
    events.push(event);
    this.notify(user, todo, type, data as TodoPatch);
  }

  private notify(user: string, todo: Todo, type: TodoEvent['type'], data: TodoPatch): void {
    if (this.watchers.size === 0) return;
    const change: LiveChange =
      type === 'TodoCreated'
        ? 'created'
        : type === 'TodoCompleted'
          ? 'completed'
          : type === 'TodoDeleted'
            ? 'deleted'
            : data.completed === true
              ? 'completed'
              : data.completed === false
                ? 'reopened'
                : 'updated';
    const push: LivePush = { type: 'todo', change, todo: change === 'deleted' ? null : { ...todo }, id: todo.id, version: todo.version };
    for (const watcher of [...this.watchers]) watcher(user, push);
  }

  private checkVersion(user: string, id: string, expected: number | undefined): void {
    const current = this.get(user, id);
    if (expected !== undefined && expected !== current.version) {
      throw new HttpError(412, 'precondition_failed', `The item is at version ${current.version}, not ${expected}.`);
    }
  }

  private ifMatch(headers: Record<string, string>): number | undefined {
    const value = headers['if-match'];
    if (value === undefined) return undefined;
    const match = /^"(\d+)"$/.exec(value);
    if (!match) throw new HttpError(400, 'invalid_if_match', 'If-Match must be a quoted version.');
    return Number(match[1]);
  }

  private paginate<T>(
    all: T[],
    query: URLSearchParams,
    limits: { default: number; max: number } = { default: this.pageSize, max: LIST_LIMITS.max },
  ): { page: T[]; nextCursor?: string } {
    const limit = query.has('limit') ? Number(query.get('limit')) : limits.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > limits.max) {
      throw new HttpError(400, 'invalid_limit', `limit must be 1..${limits.max}.`);
    }
    const start = query.has('cursor') ? Number(atob(query.get('cursor') ?? '')) : 0;
    if (!Number.isInteger(start) || start < 0) throw new HttpError(400, 'invalid_cursor', 'Bad cursor.');
    const page = all.slice(start, start + limit);
    const next = start + limit;
    return next < all.length ? { page, nextCursor: btoa(String(next)) } : { page };
  }

  private object(body: unknown, allowed: string[]): Record<string, unknown> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'invalid_body', 'The body must be a JSON object.');
    }
    const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) throw new HttpError(400, 'unknown_field', `Unknown field: ${unknown.join(', ')}.`);
    return body as Record<string, unknown>;
  }

  private json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', 'x-request-id': this.requestId(), ...headers },
    });
  }

  private error(status: number, code: string, message: string): Response {
    return this.json(status, { error: { code, message } });
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  private newId(): string {
    // Time-ordered like UUIDv7: a counter in the leading digits keeps listing order = creation order.
    this.counter += 1;
    const hex = this.counter.toString(16).padStart(12, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${'0'.repeat(12)}`;
  }

  private requestId(): string {
    this.counter += 1;
    return `req-${this.counter}`;
  }
}

/** The middle value, or the mean of the two middle ones; null for none. */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
