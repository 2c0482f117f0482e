/**
 * The list's state and every change to it. Changes are optimistic: the list shows the result at
 * once, then takes the todo the server answers with (its `version` is the next If-Match). A 409/412
 * means the item changed elsewhere: we reload it (`GET /item/{id}`) and say so on the item.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type TodoApi } from '../api/client';
import type { Todo, TodoPatch } from '../api/types';
import { uuidv7 } from '../api/uuid';
import { useAlerts } from '../components/Alerts';
import { describeError, isAbort } from '../lib/errors';
import type { TodoFields } from '../lib/validation';

export interface Notice {
  kind: 'conflict' | 'error';
  message: string;
}

export interface TodoItemState {
  todo: Todo;
  /** A request for this item is in flight. Further changes wait: their If-Match would be stale. */
  busy: boolean;
  /** Added here but not stored: the create failed with a network or server error and can be retried. */
  unsaved: boolean;
  notice?: Notice;
}

export interface RemovedItem {
  id: string;
  title: string;
  /** 'deleted': by this user, here; 'deletedElsewhere': found gone when we tried to change it. */
  reason: 'deleted' | 'deletedElsewhere';
}

export type AddResult = 'saved' | 'unsaved' | 'rejected';
/** 'gone': deleted elsewhere; 'failed': not saved, and the item is back as it was. */
export type ChangeResult = 'saved' | 'conflict' | 'gone' | 'failed';
export type LoadState = 'loading' | 'ready' | 'failed';

export const CONFLICT_MESSAGE = 'This item was changed elsewhere (in another tab or on another device).';

export function useTodos(api: TodoApi) {
  const { showAlert, announce } = useAlerts();
  const [items, setItems] = useState<TodoItemState[]>([]);
  const [loadState, setLoadState] = useState<LoadState>('loading');
  const [lastRemoved, setLastRemoved] = useState<RemovedItem | null>(null);
  // The latest list, for async handlers that run after several renders.
  const current = useRef<TodoItemState[]>([]);

  const commit = useCallback((next: (items: TodoItemState[]) => TodoItemState[]) => {
    current.current = next(current.current);
    setItems(current.current);
  }, []);
  const find = useCallback((id: string) => current.current.find((item) => item.todo.id === id), []);
  const replaceItem = useCallback(
    (id: string, next: (item: TodoItemState) => TodoItemState) =>
      commit((list) => list.map((item) => (item.todo.id === id ? next(item) : item))),
    [commit],
  );
  const dropItem = useCallback((id: string) => commit((list) => list.filter((item) => item.todo.id !== id)), [commit]);

  const fetchAll = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const todos = await api.listAllTodos({ status: 'all', signal });
        commit(() => todos.map((todo) => ({ todo, busy: false, unsaved: false })));
        setLoadState('ready');
      } catch (error) {
        if (isAbort(error) || signal?.aborted) return;
        setLoadState('failed');
        if (!(error instanceof ApiError && error.status === 401)) {
          showAlert(describeError(error, 'Loading your to-dos'));
        }
      }
    },
    [api, commit, showAlert],
  );

  useEffect(() => {
    const controller = new AbortController();
    void fetchAll(controller.signal);
    return () => controller.abort();
  }, [fetchAll]);

  const reload = useCallback(() => {
    setLoadState('loading');
    void fetchAll();
  }, [fetchAll]);

  const removedElsewhere = useCallback(
    (id: string, title: string) => {
      dropItem(id);
      setLastRemoved({ id, title, reason: 'deletedElsewhere' });
    },
    [dropItem],
  );

  /** After a 409/412: show the server's current state and say why. */
  const reconcile = useCallback(
    async (id: string, title: string, message: string) => {
      try {
        const latest = await api.getTodo(id);
        replaceItem(id, () => ({ todo: latest, busy: false, unsaved: false, notice: { kind: 'conflict', message } }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          removedElsewhere(id, title);
          return;
        }
        replaceItem(id, (item) => ({
          ...item,
          busy: false,
          notice: { kind: 'conflict', message: `${message} The latest version could not be loaded.` },
        }));
        showAlert(describeError(error, 'Loading the latest version'));
      }
    },
    [api, replaceItem, removedElsewhere, showAlert],
  );

  const saveNew = useCallback(
    async (todo: Todo): Promise<AddResult> => {
      try {
        const saved = await api.createTodo({ id: todo.id, title: todo.title, notes: todo.notes });
        replaceItem(todo.id, () => ({ todo: saved, busy: false, unsaved: false }));
        announce(`Added “${saved.title}”.`);
        return 'saved';
      } catch (error) {
        const what = `Adding “${todo.title}”`;
        if (error instanceof ApiError && error.status === 409) {
          // The id is taken: most likely by our own earlier attempt whose answer was lost.
          const stored = await api.getTodo(todo.id).catch(() => null);
          if (stored) {
            replaceItem(todo.id, () => ({ todo: stored, busy: false, unsaved: false }));
            announce(`Added “${stored.title}”.`);
            return 'saved';
          }
        }
        if (error instanceof ApiError && !error.isServerFault && error.status !== 401) {
          // Rejected, so nothing was stored: the form gets the text back to fix it.
          dropItem(todo.id);
          showAlert(describeError(error, what));
          return 'rejected';
        }
        // Maybe stored, maybe not: keep it, and a retry sends the same id (idempotent).
        replaceItem(todo.id, (item) => ({ ...item, busy: false, unsaved: true }));
        if (!(error instanceof ApiError && error.status === 401)) showAlert(describeError(error, what));
        return 'unsaved';
      }
    },
    [api, announce, dropItem, replaceItem, showAlert],
  );

  const add = useCallback(
    (fields: TodoFields): Promise<AddResult> => {
      const now = new Date().toISOString();
      const notes = fields.notes.trim() === '' ? undefined : fields.notes;
      const todo: Todo = { id: uuidv7(), title: fields.title.trim(), notes, completed: false, createdAt: now, updatedAt: now, version: 0 };
      setLastRemoved(null);
      commit((list) => [...list, { todo, busy: true, unsaved: false }]);
      return saveNew(todo);
    },
    [commit, saveNew],
  );

  const retryAdd = useCallback(
    async (id: string) => {
      const item = find(id);
      if (!item?.unsaved || item.busy) return;
      replaceItem(id, (it) => ({ ...it, busy: true }));
      await saveNew(item.todo);
    },
    [find, replaceItem, saveNew],
  );

  const discard = useCallback((id: string) => dropItem(id), [dropItem]);

  /** PUT (or POST …/done for a plain completion) with If-Match, optimistically. */
  const change = useCallback(
    async (id: string, patch: TodoPatch, what: string): Promise<ChangeResult> => {
      const item = find(id);
      if (!item || item.busy || item.unsaved) return 'failed';
      const previous = item.todo;
      replaceItem(id, () => ({ todo: applyPatch(previous, patch), busy: true, unsaved: false }));
      try {
        const onlyCompletes = patch.completed === true && patch.title === undefined && patch.notes === undefined;
        const saved = onlyCompletes
          ? await api.completeTodo(id, previous.version)
          : await api.updateTodo(id, patch, previous.version);
        replaceItem(id, () => ({ todo: saved, busy: false, unsaved: false }));
        return 'saved';
      } catch (error) {
        if (error instanceof ApiError && error.isConflict) {
          await reconcile(id, previous.title, `${what} was not saved. ${CONFLICT_MESSAGE} This is its latest version.`);
          return 'conflict';
        }
        if (error instanceof ApiError && error.status === 404) {
          removedElsewhere(id, previous.title);
          return 'gone';
        }
        replaceItem(id, (it) => ({ ...it, todo: previous, busy: false }));
        if (!(error instanceof ApiError && error.status === 401)) showAlert(describeError(error, what));
        return 'failed';
      }
    },
    [api, find, reconcile, removedElsewhere, replaceItem, showAlert],
  );

  const edit = useCallback(
    (id: string, fields: TodoFields): Promise<ChangeResult> => {
      const item = find(id);
      if (!item) return Promise.resolve('failed');
      const patch: TodoPatch = {};
      const title = fields.title.trim();
      if (title !== item.todo.title) patch.title = title;
      const notes = fields.notes.trim() === '' ? '' : fields.notes;
      if (notes !== (item.todo.notes ?? '')) patch.notes = notes;
      if (patch.title === undefined && patch.notes === undefined) return Promise.resolve('saved');
      return change(id, patch, `Your edit of “${item.todo.title}”`);
    },
    [change, find],
  );

  const toggle = useCallback(
    (id: string): Promise<ChangeResult> => {
      const item = find(id);
      if (!item) return Promise.resolve('failed');
      return item.todo.completed
        ? change(id, { completed: false }, `Reopening “${item.todo.title}”`)
        : change(id, { completed: true }, `Completing “${item.todo.title}”`);
    },
    [change, find],
  );

  const remove = useCallback(
    async (id: string): Promise<boolean> => {
      const item = find(id);
      if (!item || item.busy) return false;
      if (item.unsaved) {
        dropItem(id);
        return true;
      }
      const index = current.current.indexOf(item);
      const { todo } = item;
      dropItem(id);
      try {
        await api.deleteTodo(id, todo.version);
        setLastRemoved({ id, title: todo.title, reason: 'deleted' });
        announce(`Deleted “${todo.title}”.`);
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          setLastRemoved({ id, title: todo.title, reason: 'deletedElsewhere' });
          return true;
        }
        // Put it back where it was.
        commit((list) => [...list.slice(0, index), { ...item, busy: error instanceof ApiError && error.isConflict }, ...list.slice(index)]);
        if (error instanceof ApiError && error.isConflict) {
          await reconcile(
            id,
            todo.title,
            `It was not deleted. ${CONFLICT_MESSAGE} Check its latest version, then delete it again if you still want to.`,
          );
        } else if (!(error instanceof ApiError && error.status === 401)) {
          showAlert(describeError(error, `Deleting “${todo.title}”`));
        }
        return false;
      }
    },
    [announce, api, commit, dropItem, find, reconcile, showAlert],
  );

  const dismissNotice = useCallback(
    (id: string) => replaceItem(id, (item) => ({ ...item, notice: undefined })),
    [replaceItem],
  );
  const dismissRemoved = useCallback(() => setLastRemoved(null), []);

  return { items, loadState, lastRemoved, reload, add, retryAdd, discard, edit, toggle, remove, dismissNotice, dismissRemoved };
}

export function applyPatch(todo: Todo, patch: TodoPatch, now: string = new Date().toISOString()): Todo {
  const next: Todo = { ...todo, updatedAt: now };
  if (patch.title !== undefined) next.title = patch.title;
  if (patch.notes !== undefined) {
    if (patch.notes === '') delete next.notes;
    else next.notes = patch.notes;
  }
  if (patch.completed === true && !todo.completed) {
    next.completed = true;
    next.completedAt = now;
  } else if (patch.completed === false) {
    next.completed = false;
    delete next.completedAt;
  }
  return next;
}
