/** Wire types of the To Do API (see DESIGN.md, "API"). */

export interface Todo {
  id: string;
  title: string;
  notes?: string;
  completed: boolean;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  version: number;
}

export type StatusFilter = 'all' | 'active' | 'completed';

export interface TodoPage {
  items: Todo[];
  nextCursor?: string;
}

export interface NewTodo {
  title: string;
  notes?: string;
  /** Client-chosen id: a retry with the same id is idempotent. */
  id?: string;
}

/** Body of `PUT /item/{id}`: any subset; `completed: false` reopens. */
export interface TodoPatch {
  title?: string;
  notes?: string;
  completed?: boolean;
}

export type EventType = 'TodoCreated' | 'TodoUpdated' | 'TodoCompleted' | 'TodoDeleted';

export interface TodoCreatedData {
  title: string;
  notes?: string;
}

/** `notes: ""` means the notes were cleared. */
export interface TodoUpdatedData {
  title?: string;
  notes?: string;
  completed?: boolean;
}

interface EventEnvelope<T extends EventType, D> {
  eventId: string;
  todoId: string;
  version: number;
  type: T;
  schemaVersion: number;
  occurredAt: string;
  data: D;
  requestId?: string;
  /** Who did it; its shape is the back end's, so only render it when it is a string. */
  actor?: unknown;
  /** The `hash` of this todo's previous event (64 zeros for its first); absent on events from before hashing. */
  prevHash?: string;
  /** SHA-256 over the event and `prevHash` (64 lowercase hex digits); absent on events from before hashing. */
  hash?: string;
}

export type TodoEvent =
  | EventEnvelope<'TodoCreated', TodoCreatedData>
  | EventEnvelope<'TodoUpdated', TodoUpdatedData>
  | EventEnvelope<'TodoCompleted', TodoTitleData>
  | EventEnvelope<'TodoDeleted', TodoTitleData>;

/** Newer back ends record the title a todo had when it was completed or deleted; older events are `{}`. */
export interface TodoTitleData {
  title?: string;
}

export interface ItemHistory {
  events: TodoEvent[];
}

export interface HistoryPage {
  events: TodoEvent[];
  nextCursor?: string;
}

/** `GET /history/digest`: one hash over every todo's head (id, version, hash) as of `asOf`. */
export interface HistoryDigest {
  /** SHA-256, 64 lowercase hex digits. */
  digest: string;
  asOf: string;
  todos: number;
  events: number;
}

/**
 * One event of `GET /export`, exactly as stored. The SPA never rewrites one: it is saved as the
 * server sent it, so the fields below are only what it reads, not all there may be.
 */
export interface ExportedEvent {
  userId: string;
  todoId: string;
  version: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  data: Record<string, unknown>;
  requestId?: string;
  actor?: unknown;
  sourceIp?: string;
  traceId?: string;
  prevHash?: string;
  hash?: string;
  [field: string]: unknown;
}

/** One page of `GET /export`; `digest` comes on the last page (the one without `nextCursor`). */
export interface ExportPage {
  events: ExportedEvent[];
  nextCursor?: string;
  digest?: HistoryDigest;
}

/** A whole export: every event, then the digest that covers them. */
export interface DataExport {
  events: ExportedEvent[];
  digest: HistoryDigest;
}

/** One ISO week of `GET /stats`. */
export interface WeekStats {
  /** The ISO week, `2026-W37`. */
  week: string;
  /** Its Monday, `2026-09-07` (UTC). */
  start: string;
  /** To-dos created that week, deleted ones included. */
  created: number;
  /** To-dos whose (current) completion falls in that week, deleted ones included. */
  completed: number;
}

/**
 * `GET /stats`: the caller's stats projection. Like the list it is eventually consistent: it
 * catches up with a command a few milliseconds after the command answers.
 */
export interface Stats {
  /** Live to-dos not completed. */
  open: number;
  /** Live to-dos completed. */
  completed: number;
  /** Median time from creation to completion over every completed to-do (deleted ones too); null before the first. */
  medianCompletionSeconds: number | null;
  /** Oldest first, ending with the current ISO week (UTC). */
  weeks: WeekStats[];
  asOf: string;
}

/** What happened to a todo, as a live push names it. */
export type LiveChange = 'created' | 'updated' | 'completed' | 'reopened' | 'deleted';

/**
 * One push on the live socket (`liveUrl` in /config.json): a todo of the signed-in user changed in
 * the read model. `version` is the todo's version after the change, so a client that knows an
 * older version than `version - 1` missed a push.
 */
export interface LivePush {
  type: 'todo';
  change: LiveChange;
  /** The todo as it is now (the shape `GET /item/{id}` answers with); null once deleted. */
  todo: Todo | null;
  /** The todo's id, also when `todo` is null. */
  id: string;
  version: number;
}

/** Sent just before the server closes a connection that fell behind: what the page shows may be stale. */
export interface LiveReread {
  type: 'reread';
}

export type LiveMessage = LivePush | LiveReread;

export interface ErrorBody {
  error: { code: string; message: string };
}
