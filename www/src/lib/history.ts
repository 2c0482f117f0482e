/**
 * Turns events into a readable timeline. The "from" side of a change is not in the event (an
 * update carries only the new values), so it is inferred by folding the earlier events of the same
 * item that we have: where they were not loaded (a later page of the user's history), only the new
 * value is shown.
 */
import type { TodoEvent } from '../api/types';

export type EventKind = 'created' | 'edited' | 'completed' | 'reopened' | 'deleted' | 'unknown';

export type ChangedField = 'title' | 'notes';

export interface FieldChange {
  field: ChangedField;
  /** The value before, when an earlier event of this item told us. */
  from?: string;
  /** The value after; '' for notes means they were cleared. */
  to: string;
}

export interface DescribedEvent {
  event: TodoEvent;
  kind: EventKind;
  /** One line: "Created", "Edited", "Edited and reopened", "Completed", ... */
  summary: string;
  changes: FieldChange[];
  /** The item's title after this event, when known (for the user-wide history). */
  title?: string;
}

interface KnownState {
  title?: string;
  notes?: string;
  completed?: boolean;
  deleted?: boolean;
}

export function describeEvents(events: readonly TodoEvent[]): DescribedEvent[] {
  // Fold each item's events in version order, whatever order the page lists them in.
  const perItem = new Map<string, TodoEvent[]>();
  for (const event of events) {
    const list = perItem.get(event.todoId) ?? [];
    list.push(event);
    perItem.set(event.todoId, list);
  }
  const described = new Map<TodoEvent, DescribedEvent>();
  for (const itemEvents of perItem.values()) {
    itemEvents.sort((a, b) => a.version - b.version);
    let state: KnownState = {};
    for (const event of itemEvents) {
      const { described: entry, after } = describeOne(event, state);
      described.set(event, entry);
      state = after;
    }
  }
  return events.map((event) => described.get(event) as DescribedEvent);
}

/** The latest title we know for each item, e.g. to name a deleted item on its history page. */
export function lastKnownTitle(events: readonly TodoEvent[], todoId: string): string | undefined {
  let title: string | undefined;
  for (const event of [...events].sort((a, b) => a.version - b.version)) {
    if (event.todoId !== todoId) continue;
    const data = event.data as { title?: unknown };
    if ((event.type === 'TodoCreated' || event.type === 'TodoUpdated') && typeof data.title === 'string') {
      title = data.title;
    }
  }
  return title;
}

export function isDeleted(events: readonly TodoEvent[]): boolean {
  return events.some((event) => event.type === 'TodoDeleted');
}

function describeOne(event: TodoEvent, before: KnownState): { described: DescribedEvent; after: KnownState } {
  const after: KnownState = { ...before };
  const changes: FieldChange[] = [];
  let kind: EventKind;
  let summary: string;

  switch (event.type) {
    case 'TodoCreated': {
      kind = 'created';
      summary = 'Created';
      const { title, notes } = event.data;
      changes.push({ field: 'title', to: title });
      if (notes) changes.push({ field: 'notes', to: notes });
      Object.assign(after, { title, notes: notes ?? '', completed: false, deleted: false });
      break;
    }
    case 'TodoUpdated': {
      const { title, notes, completed } = event.data;
      if (title !== undefined) {
        changes.push({ field: 'title', from: before.title, to: title });
        after.title = title;
      }
      if (notes !== undefined) {
        changes.push({ field: 'notes', from: before.notes, to: notes });
        after.notes = notes;
      }
      const edited = changes.length > 0;
      if (completed === false) {
        after.completed = false;
        kind = edited ? 'edited' : 'reopened';
        summary = edited ? 'Edited and reopened' : 'Reopened';
      } else if (completed === true) {
        after.completed = true;
        kind = edited ? 'edited' : 'completed';
        summary = edited ? 'Edited and completed' : 'Completed';
      } else {
        kind = 'edited';
        summary = 'Edited';
      }
      break;
    }
    case 'TodoCompleted':
      kind = 'completed';
      summary = 'Completed';
      after.completed = true;
      break;
    case 'TodoDeleted':
      kind = 'deleted';
      summary = 'Deleted';
      after.deleted = true;
      break;
    default: {
      // A newer back end may add event types (never renamed, DESIGN.md): show them, don't crash.
      const unknownEvent = event as { type?: unknown };
      kind = 'unknown';
      summary = `Changed (${String(unknownEvent.type)})`;
    }
  }

  return { described: { event, kind, summary, changes, title: after.title }, after };
}
