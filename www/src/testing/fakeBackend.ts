/**
 * An in-memory stand-in for the To Do API, speaking HTTP through a `fetch`-shaped function. Unit
 * and component tests run the real ApiClient against it, and the mocked browser test (e2e/mock)
 * routes the page's API requests to it. It follows DESIGN.md's contract closely enough to test
 * the SPA; it is not the back end's specification (the Rust tests and the real e2e are).
 */
import type { Todo, TodoEvent, TodoPatch } from '../api/types';

export interface FakeBackendOptions {
  /** Page size when the request has no `limit`. */
  pageSize?: number;
  /** The clock; tests pin it for stable timestamps. */
  now?: () => Date;
  baseUrl?: string;
  /** Who a bearer token belongs to; by default `token-<user>` (see tokenFor). */
  userFromToken?: (token: string) => string | null;
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

export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  private counter = 0;

  constructor({ pageSize = 50, now = () => new Date(), baseUrl = 'http://api.test/api', userFromToken }: FakeBackendOptions = {}) {
    this.pageSize = pageSize;
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

  todosOf(user: string): Todo[] {
    return [...this.data(user).todos.values()];
  }

  eventsOf(user: string): TodoEvent[] {
    return [...this.data(user).events];
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
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
    if (!user) return this.error(401, 'unauthorized', 'Missing or invalid token.');

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
      const todos = this.todosOf(user)
        .filter((t) => status === 'all' || (status === 'active' ? !t.completed : t.completed))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const { page, nextCursor } = this.paginate(todos, query);
      return this.json(200, nextCursor ? { items: page, nextCursor } : { items: page });
    }
    if (path === '/history' && method === 'GET') {
      const { page, nextCursor } = this.paginate(this.data(user).events, query);
      return this.json(200, nextCursor ? { events: page, nextCursor } : { events: page });
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
    this.append(user, next, 'TodoCompleted', {}, at);
    return next;
  }

  private remove(user: string, id: string): void {
    const current = this.get(user, id);
    this.data(user).todos.delete(id);
    this.data(user).deleted.add(id);
    this.append(user, { ...current, version: current.version + 1 }, 'TodoDeleted', {}, this.timestamp());
  }

  private append(user: string, todo: Todo, type: TodoEvent['type'], data: object, occurredAt: string): void {
    this.data(user).events.push({
      eventId: this.newId(),
      todoId: todo.id,
      version: todo.version,
      type,
      schemaVersion: 1,
      occurredAt,
      data,
      requestId: this.requestId(),
      actor: user,
    } as TodoEvent);
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

  private paginate<T>(all: T[], query: URLSearchParams): { page: T[]; nextCursor?: string } {
    const limit = query.has('limit') ? Number(query.get('limit')) : this.pageSize;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'invalid_limit', 'limit must be 1..100.');
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

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
