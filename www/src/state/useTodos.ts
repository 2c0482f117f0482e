/**
 * The list's state and every change to it. Changes are optimistic: the list shows the result at
 * once, then takes the todo the server answers with (its `version` is the next If-Match). A 409/412
 * means the item changed elsewhere: we reload it (`GET /item/{id}`) and say so on the item.
 *
 * With live updates (a LiveClient), changes made elsewhere are applied as they are pushed (see
 * listSync.ts), and the whole list is read again whenever pushes may have been missed: when the
 * connection (re)opens after the list was read, on a version gap, and when the server says so.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type TodoApi } from '../api/client';
import type { LiveClient, ResyncReason } from '../api/live';
import type { LivePush, Todo, TodoPatch } from '../api/types';
import { uuidv7 } from '../api/uuid';
import { useAlerts } from '../components/Alerts';
import { describeError, isAbort } from '../lib/errors';
import type { TodoFields } from '../lib/validation';
import { applyPush, insertInOrder, mergeRead, newest } from './listSync';

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

/** What the list says, for a screen reader, when a push changes an item made elsewhere. */
const CHANGED_ELSEWHERE: Record<'updated' | 'completed' | 'reopened', string> = {
  updated: 'was changed elsewhere',
  completed: 'was completed elsewhere',
  reopened: 'was reopened elsewhere',
};

/** Pushes kept while the list has not been read yet. */
const MAX_EARLY_PUSHES = 500;

export function useTodos(api: TodoApi, live: LiveClient | null = null) {
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

  // What the list knows beyond its items (see listSync.ts, MergeContext).
  const readsStarted = useRef(0);
  const learnedAt = useRef(new Map<string, number>());
  const gone = useRef(new Map<string, number>());
  /** `live.connections` when the latest read started: a connection opened since may have missed changes. */
  const readAtConnection = useRef(0);
  /** Whether a read has succeeded yet; pushes that come before it wait for it. */
  const loaded = useRef(false);
  const earlyPushes = useRef<LivePush[]>([]);
  /** The lifetime whose read loop is running, if one is. */
  const readLoop = useRef<AbortController | null>(null);
  const readAgain = useRef(false);
  const lifetime = useRef<AbortController | null>(null);

  /** Applies pushes to the list; true when one shows that others were missed (re-read). */
  const applyPushes = useCallback(
    (pushes: LivePush[]): boolean => {
      let missed = false;
      for (const push of pushes) {
        const result = applyPush(current.current, push, gone.current.get(push.id));
        if (result.order === 'gap') missed = true;
        if (push.change === 'deleted') {
          gone.current.set(push.id, Math.max(push.version, gone.current.get(push.id) ?? 0));
          learnedAt.current.delete(push.id);
        } else if (result.effect.kind !== 'none' || learnedAt.current.has(push.id)) {
          // In the read model now: a read that starts from here on has it.
          learnedAt.current.set(push.id, readsStarted.current);
        }
        const { effect } = result;
        if (effect.kind === 'none') continue;
        commit(() => result.items);
        if (effect.kind === 'added') {
          announce(`“${effect.todo.title}” was added elsewhere.`);
        } else if (effect.kind === 'removed') {
          if (!effect.before.busy) setLastRemoved({ id: push.id, title: effect.before.todo.title, reason: 'deletedElsewhere' });
        } else if (!effect.before.busy && push.change !== 'created' && push.change !== 'deleted') {
          // A busy item's push is most often its own change coming back: nothing to say.
          announce(`“${effect.todo.title}” ${CHANGED_ELSEWHERE[push.change]}.`);
        }
      }
      return missed;
    },
    [announce, commit],
  );

  /** One read of the whole list, merged into what is shown. */
  const readOnce = useCallback(
    async (signal: AbortSignal) => {
      const read = ++readsStarted.current;
      readAtConnection.current = live?.connections ?? 0;
      try {
        const todos = await api.listAllTodos({ status: 'all', signal });
        if (signal.aborted) return;
        commit((list) => mergeRead(list, todos, { read, learnedAt: learnedAt.current, gone: gone.current }));
        for (const todo of todos) learnedAt.current.delete(todo.id);
        setLoadState('ready');
        if (!loaded.current) {
          loaded.current = true;
          if (applyPushes(earlyPushes.current.splice(0))) readAgain.current = true;
        }
      } catch (error) {
        if (isAbort(error) || signal.aborted) return;
        // A background re-read that fails leaves the list as it was: the next reconnect or gap reads again.
        if (loaded.current) return;
        // Pushes that came during a failed read are in the read that follows it.
        earlyPushes.current = [];
        setLoadState('failed');
        if (!(error instanceof ApiError && error.status === 401)) {
          showAlert(describeError(error, 'Loading your to-dos'));
        }
      }
    },
    [api, applyPushes, commit, live, showAlert],
  );

  /** Reads until nobody asked for another read meanwhile (asking during a read queues one more). */
  const requestRead = useCallback(async () => {
    const controller = lifetime.current;
    if (!controller || controller.signal.aborted) return;
    if (readLoop.current === controller) {
      readAgain.current = true;
      return;
    }
    readLoop.current = controller;
    try {
      do {
        readAgain.current = false;
        await readOnce(controller.signal);
      } while (readAgain.current && !controller.signal.aborted);
    } finally {
      if (readLoop.current === controller) readLoop.current = null;
    }
  }, [readOnce]);

  useEffect(() => {
    const controller = new AbortController();
    lifetime.current = controller;
    void requestRead();
    return () => controller.abort();
  }, [requestRead]);

  useEffect(() => {
    if (!live) return;
    return live.subscribe({
      onPush: (push) => {
        if (!loaded.current) {
          earlyPushes.current.push(push);
          // The list keeps failing to load while the socket works: the read that finally works has them all.
          if (earlyPushes.current.length > MAX_EARLY_PUSHES) {
            earlyPushes.current = [];
            readAgain.current = true;
          }
          return;
        }
        if (applyPushes([push])) void requestRead();
      },
      onResync: (reason: ResyncReason) => {
        // An opening only matters to a list read before it; the server's "re-read" always does.
        if (reason === 'reread' || readAtConnection.current < live.connections) void requestRead();
      },
    });
  }, [live, applyPushes, requestRead]);

  const reload = useCallback(() => {
    setLoadState('loading');
    void requestRead();
  }, [requestRead]);

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
        replaceItem(id, (item) => ({ todo: newest(item.todo, latest), busy: false, unsaved: false, notice: { kind: 'conflict', message } }));
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
        // Until a read or a push shows it, a re-read may not have it yet (the read model lags).
        if (!learnedAt.current.has(saved.id)) learnedAt.current.set(saved.id, Number.POSITIVE_INFINITY);
        replaceItem(todo.id, (item) => ({ todo: newest(item.todo, saved), busy: false, unsaved: false }));
        announce(`Added “${saved.title}”.`);
        return 'saved';
      } catch (error) {
        const what = `Adding “${todo.title}”`;
        if (error instanceof ApiError && error.status === 409) {
          // The id is taken: most likely by our own earlier attempt whose answer was lost.
          const stored = await api.getTodo(todo.id).catch(() => null);
          if (stored) {
            replaceItem(todo.id, (item) => ({ todo: newest(item.todo, stored), busy: false, unsaved: false }));
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
        // A push that came meanwhile may already be newer than this answer.
        replaceItem(id, (it) => ({ todo: newest(it.todo, saved), busy: false, unsaved: false }));
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
        replaceItem(id, (it) => ({ ...it, todo: newest(it.todo, previous), busy: false }));
        if (!(error instanceof ApiError && error.status === 401)) showAlert(describeError(error, what));
        return 'failed';
      }
    },
    [api, find, reconcile, removedElsewhere, replaceItem, showAlert],
  );

  /**
   * Saves an edit. `base` is the version the editor opened on: when the todo changed elsewhere
   * since, only the fields the user changed are sent, on top of the version shown now, so a change
   * made elsewhere to another field is kept.
   */
  const edit = useCallback(
    (id: string, fields: TodoFields, base?: Todo): Promise<ChangeResult> => {
      const item = find(id);
      if (!item) return Promise.resolve('failed');
      const from = base ?? item.todo;
      const patch: TodoPatch = {};
      const title = fields.title.trim();
      if (title !== from.title && title !== item.todo.title) patch.title = title;
      const notes = fields.notes.trim() === '' ? '' : fields.notes;
      if (notes !== (from.notes ?? '') && notes !== (item.todo.notes ?? '')) patch.notes = notes;
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
      const { todo } = item;
      dropItem(id);
      // Deleted here: no push or re-read of an older version brings it back.
      gone.current.set(id, todo.version);
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
        if (gone.current.get(id) === todo.version) gone.current.delete(id);
        const back = { ...item, busy: error instanceof ApiError && error.isConflict };
        commit((list) => (list.some((it) => it.todo.id === id) ? list : insertInOrder(list, back)));
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
