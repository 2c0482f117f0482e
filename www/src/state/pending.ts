/**
 * The list as the user left it: the todos the server has (or had at the last sync), with the
 * changes still in the outbox applied on top. Pure; useTodos computes it on every render, so a
 * change shows the moment it is queued and stops being "pending" the moment the server takes it.
 */
import { patchOf, type QueuedOp } from '../offline/queue';
import { applyPatch, insertInOrder } from './listSync';
import type { TodoItemState } from './useTodos';

export interface PendingState {
  /** 'create': not on the server yet; 'change': changed here, not sent yet; 'delete': to be deleted. */
  kind: 'create' | 'change' | 'delete';
  /** How many of this todo's changes are waiting. */
  count: number;
  /** The first of them that the server did not take: it waits for the user (see queue.ts). */
  problem?: QueuedOp;
}

/** `items` with `ops` (oldest first) applied in order; each item they touch says so in `pending`. */
export function overlay(items: TodoItemState[], ops: readonly QueuedOp[]): TodoItemState[] {
  if (ops.length === 0) return items;
  let result = items;
  for (const op of ops) {
    const at = result.findIndex((item) => item.todo.id === op.todoId);
    const before = at === -1 ? undefined : result[at];
    if (op.kind === 'create') {
      // Already in the list: the server has it (its answer came before the queue caught up).
      if (before && before.todo.version > 0) continue;
      const notes = op.fields?.notes ? op.fields.notes : undefined;
      const todo = {
        id: op.todoId,
        title: op.fields?.title ?? op.title,
        ...(notes ? { notes } : {}),
        completed: false,
        createdAt: op.queuedAt,
        updatedAt: op.queuedAt,
        version: 0,
      };
      const item: TodoItemState = { todo, busy: false, unsaved: false, pending: mark(before?.pending, op, 'create') };
      result = before ? result.map((other, i) => (i === at ? item : other)) : insertInOrder(result, item);
      continue;
    }
    // A change of a todo the list no longer has (deleted elsewhere): still shown, so that it is seen.
    const base = before ?? {
      todo: { id: op.todoId, title: op.title, completed: false, createdAt: op.queuedAt, updatedAt: op.queuedAt, version: op.baseVersion },
      busy: false,
      unsaved: false,
    };
    const next: TodoItemState = {
      ...base,
      todo: op.kind === 'delete' ? base.todo : applyPatch(base.todo, patchOf(op), op.queuedAt),
      pending: mark(base.pending, op, op.kind === 'delete' ? 'delete' : 'change'),
    };
    result = before ? result.map((other, i) => (i === at ? next : other)) : insertInOrder(result, next);
  }
  return result;
}

function mark(pending: PendingState | undefined, op: QueuedOp, kind: PendingState['kind']): PendingState {
  const stays = pending?.kind === 'create' && kind === 'change';
  return {
    kind: stays ? 'create' : kind,
    count: (pending?.count ?? 0) + 1,
    problem: pending?.problem ?? (op.state === 'pending' ? undefined : op),
  };
}
