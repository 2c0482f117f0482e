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
}

export type TodoEvent =
  | EventEnvelope<'TodoCreated', TodoCreatedData>
  | EventEnvelope<'TodoUpdated', TodoUpdatedData>
  | EventEnvelope<'TodoCompleted', Record<string, never>>
  | EventEnvelope<'TodoDeleted', Record<string, never>>;

export interface ItemHistory {
  events: TodoEvent[];
}

export interface HistoryPage {
  events: TodoEvent[];
  nextCursor?: string;
}

export interface ErrorBody {
  error: { code: string; message: string };
}
