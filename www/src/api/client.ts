/**
 * The one module that talks to the To Do API. Every call carries the Cognito *ID* token
 * (`Authorization: Bearer <id_token>`), because API Gateway's Cognito authorizer accepts ID tokens.
 */
import type {
  DataExport,
  ExportedEvent,
  ExportPage,
  HistoryDigest,
  HistoryPage,
  NewTodo,
  Stats,
  StatusFilter,
  Todo,
  TodoEvent,
  TodoPage,
  TodoPatch,
} from './types';
import { retryAfterSeconds, type ErasureReceipt, type ErasedCounts, type ErasureStep } from './account';

/** An answer from the API that is not a success: `{"error": {"code", "message"}}` plus its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;

  constructor(status: number, code: string, message: string, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }

  /** 409 (lost a race) and 412 (stale If-Match) both mean "the item changed elsewhere". */
  get isConflict(): boolean {
    return this.status === 409 || this.status === 412;
  }

  get isServerFault(): boolean {
    return this.status >= 500;
  }
}

/** The request never got an HTTP answer (offline, DNS, CORS refusal, connection reset). */
export class NetworkError extends Error {
  constructor(message = 'Could not reach the server. Check your connection and try again.', options?: ErrorOptions) {
    super(message, options);
    this.name = 'NetworkError';
  }
}

/** The server's export did not end as the contract says (no digest, a repeated page): nothing to save. */
export class IncompleteExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteExportError';
  }
}

export interface ListOptions {
  status?: StatusFilter;
  /** An RFC 3339 instant: the list as it stood then (read-only), instead of now. */
  asOf?: string;
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

export interface HistoryOptions {
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

/** A past state of one todo: after its event of that version, or as it stood at an RFC 3339 instant. */
export type PastPoint = { version: number } | { asOf: string };

export interface ExportOptions {
  /** Events per page, 1..1000 (the server's default is 500). */
  limit?: number;
  signal?: AbortSignal;
  /** Called after each page with the number of events received so far. */
  onProgress?: (eventsSoFar: number) => void;
}

export interface StatsOptions {
  /** How many ISO weeks, ending with the current one: 1..52 (the server's default is 12). */
  weeks?: number;
  signal?: AbortSignal;
}

/** What the UI needs from the API; components depend on this, tests may fake it. */
export interface TodoApi {
  listTodos(options?: ListOptions): Promise<TodoPage>;
  /** Follows `nextCursor` until the last page. */
  listAllTodos(options?: Omit<ListOptions, 'cursor'>): Promise<Todo[]>;
  createTodo(input: NewTodo): Promise<Todo>;
  /** The todo, with `version` taken from the `ETag` header when present. */
  getTodo(id: string, signal?: AbortSignal): Promise<Todo>;
  updateTodo(id: string, patch: TodoPatch, expectedVersion: number): Promise<Todo>;
  completeTodo(id: string, expectedVersion: number): Promise<Todo>;
  deleteTodo(id: string, expectedVersion: number): Promise<void>;
  /** The todo as it was (read-only); its `version` is the version shown. */
  getTodoAt(id: string, at: PastPoint, signal?: AbortSignal): Promise<Todo>;
  getItemHistory(id: string, signal?: AbortSignal): Promise<TodoEvent[]>;
  getHistory(options?: HistoryOptions): Promise<HistoryPage>;
  getHistoryDigest(signal?: AbortSignal): Promise<HistoryDigest>;
  getExportPage(options?: HistoryOptions): Promise<ExportPage>;
  /** Follows `nextCursor` to the last page, which must carry the digest; anything less is an error. */
  exportAll(options?: ExportOptions): Promise<DataExport>;
  getStats(options?: StatsOptions): Promise<Stats>;
  /** One round of erasing the caller's account data (see eraseAccount in ./account for the loop). */
  deleteAccount(): Promise<ErasureStep>;
}

export interface ApiClientOptions {
  /** e.g. `http://127.0.0.1:8080/api` or `https://abc.execute-api.eu-west-1.amazonaws.com/Prod`. */
  baseUrl: string;
  /** Resolves to the current ID token, or null when nobody is signed in. */
  getIdToken: () => Promise<string | null>;
  /** Called on every 401 before the error is thrown, so the app can send the user to sign in. */
  onUnauthorized?: (error: ApiError) => void;
  fetch?: typeof fetch;
}

/** A guard against a server that keeps handing out cursors (a bug there must not hang the tab). */
const MAX_PAGES = 1000;

export function etagFor(version: number): string {
  return `"${version}"`;
}

/** `"7"`, `W/"7"` -> 7; anything else -> undefined. */
export function versionFromEtag(etag: string | null): number | undefined {
  if (!etag) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim());
  return match ? Number(match[1]) : undefined;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  ifMatch?: number;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

export class ApiClient implements TodoApi {
  private readonly baseUrl: string;
  private readonly getIdToken: () => Promise<string | null>;
  private readonly onUnauthorized?: (error: ApiError) => void;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.getIdToken = options.getIdToken;
    this.onUnauthorized = options.onUnauthorized;
    // Bind: calling an unbound window.fetch as a method throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async listTodos({ status, asOf, limit, cursor, signal }: ListOptions = {}): Promise<TodoPage> {
    const { body } = await this.request<TodoPage>('/item', { query: { asOf, status, limit, cursor }, signal });
    return { items: body.items ?? [], nextCursor: body.nextCursor ?? undefined };
  }

  async listAllTodos(options: Omit<ListOptions, 'cursor'> = {}): Promise<Todo[]> {
    const items: Todo[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.listTodos({ ...options, cursor });
      items.push(...result.items);
      if (!result.nextCursor || seen.has(result.nextCursor)) return items;
      seen.add(result.nextCursor);
      cursor = result.nextCursor;
    }
    return items;
  }

  async createTodo(input: NewTodo): Promise<Todo> {
    const body: NewTodo = { title: input.title };
    if (input.notes !== undefined && input.notes !== '') body.notes = input.notes;
    if (input.id !== undefined) body.id = input.id;
    return (await this.request<Todo>('/item', { method: 'POST', body })).body;
  }

  async getTodo(id: string, signal?: AbortSignal): Promise<Todo> {
    const { body, response } = await this.request<Todo>(itemPath(id), { signal });
    const version = versionFromEtag(response.headers.get('ETag'));
    return version === undefined ? body : { ...body, version };
  }

  async updateTodo(id: string, patch: TodoPatch, expectedVersion: number): Promise<Todo> {
    return (await this.request<Todo>(itemPath(id), { method: 'PUT', body: patch, ifMatch: expectedVersion })).body;
  }

  async completeTodo(id: string, expectedVersion: number): Promise<Todo> {
    return (await this.request<Todo>(`${itemPath(id)}/done`, { method: 'POST', ifMatch: expectedVersion })).body;
  }

  async deleteTodo(id: string, expectedVersion: number): Promise<void> {
    await this.request<undefined>(itemPath(id), { method: 'DELETE', ifMatch: expectedVersion });
  }

  async getTodoAt(id: string, at: PastPoint, signal?: AbortSignal): Promise<Todo> {
    const query = 'version' in at ? { version: at.version } : { asOf: at.asOf };
    return (await this.request<Todo>(itemPath(id), { query, signal })).body;
  }

  async getItemHistory(id: string, signal?: AbortSignal): Promise<TodoEvent[]> {
    const { body } = await this.request<{ events?: TodoEvent[] }>(`${itemPath(id)}/history`, { signal });
    return body.events ?? [];
  }

  async getHistory({ limit, cursor, signal }: HistoryOptions = {}): Promise<HistoryPage> {
    const { body } = await this.request<HistoryPage>('/history', { query: { limit, cursor }, signal });
    return { events: body.events ?? [], nextCursor: body.nextCursor ?? undefined };
  }

  async getHistoryDigest(signal?: AbortSignal): Promise<HistoryDigest> {
    return (await this.request<HistoryDigest>('/history/digest', { signal })).body;
  }

  async getExportPage({ limit, cursor, signal }: HistoryOptions = {}): Promise<ExportPage> {
    const { body } = await this.request<ExportPage>('/export', { query: { limit, cursor }, signal });
    return {
      events: body.events ?? [],
      nextCursor: body.nextCursor ?? undefined,
      digest: body.digest ?? undefined,
    };
  }

  async exportAll({ limit, signal, onProgress }: ExportOptions = {}): Promise<DataExport> {
    const events: ExportedEvent[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.getExportPage({ limit, cursor, signal });
      events.push(...result.events);
      onProgress?.(events.length);
      if (!result.nextCursor) {
        if (!result.digest) throw new IncompleteExportError('The export ended without its digest, so it cannot be checked.');
        return { events, digest: result.digest };
      }
      // Unlike a list, an export with a page missing or repeated is worse than none.
      if (seen.has(result.nextCursor)) throw new IncompleteExportError('The server sent the same page of the export twice.');
      seen.add(result.nextCursor);
      cursor = result.nextCursor;
    }
    throw new IncompleteExportError(`The export did not end after ${MAX_PAGES} pages.`);
  }

  async getStats({ weeks, signal }: StatsOptions = {}): Promise<Stats> {
    const { body } = await this.request<Stats>('/stats', { query: { weeks }, signal });
    return { ...body, medianCompletionSeconds: body.medianCompletionSeconds ?? null, weeks: body.weeks ?? [] };
  }

  async deleteAccount(): Promise<ErasureStep> {
    const { body, response } = await this.request<{ receipt?: ErasureReceipt; erased?: ErasedCounts } | undefined>('/account', {
      method: 'DELETE',
    });
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (response.status === 202 && body?.erased) {
      return { status: 'erasing', erased: body.erased, retryAfterSeconds: retryAfterSeconds(response.headers.get('Retry-After')) };
    }
    if (response.status === 200 && body?.receipt) return { status: 'erased', receipt: body.receipt };
    // Only a receipt proves the erasure: anything else must not be taken for one.
    throw new ApiError(response.status, 'bad_response', 'The server answered without an erasure receipt.', requestId);
  }

  private async request<T>(path: string, options: RequestOptions = {}): Promise<{ body: T; response: Response }> {
    const token = await this.getIdToken();
    if (!token) {
      const error = new ApiError(401, 'not_signed_in', 'You are not signed in.');
      this.onUnauthorized?.(error);
      throw error;
    }

    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${token}`,
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (options.ifMatch !== undefined) headers['If-Match'] = etagFor(options.ifMatch);

    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path, options.query), {
        method: options.method ?? 'GET',
        headers,
        body,
        signal: options.signal,
      });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
      throw new NetworkError(undefined, { cause });
    }

    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (!response.ok) {
      const error = await errorFrom(response, requestId);
      if (error.status === 401) this.onUnauthorized?.(error);
      throw error;
    }
    if (response.status === 204) return { body: undefined as T, response };

    try {
      return { body: (await response.json()) as T, response };
    } catch {
      throw new ApiError(response.status, 'bad_response', 'The server sent a response that could not be read.', requestId);
    }
  }

  private url(path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }
}

function itemPath(id: string): string {
  return `/item/${encodeURIComponent(id)}`;
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'The request was not accepted.',
  401: 'Your session is no longer valid.',
  403: 'You are not allowed to do that.',
  404: 'That item does not exist (it may have been deleted).',
  409: 'The item was changed elsewhere.',
  412: 'The item was changed elsewhere.',
  413: 'That is too large to save.',
  415: 'The request was sent in a format the server does not accept.',
};

async function errorFrom(response: Response, requestId: string | undefined): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = FALLBACK_MESSAGES[response.status] ?? `The server answered with an error (${response.status}).`;
  try {
    const parsed: unknown = await response.json();
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof error?.code === 'string' && error.code) code = error.code;
    if (typeof error?.message === 'string' && error.message) message = error.message;
    // API Gateway's own answers (e.g. its authorizer's 401) look like {"message": "Unauthorized"}.
    const gatewayMessage = (parsed as { message?: unknown } | null)?.message;
    if (!error && typeof gatewayMessage === 'string' && gatewayMessage) message = gatewayMessage;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): keep the fallback message.
  }
  return new ApiError(response.status, code, message, requestId);
}
