/**
 * The list's state and every change to it. Changes are optimistic: the list shows the result at
 * once, then takes the todo the server answers with (its `version` is the next If-Match). A 409/412
 * means the item changed elsewhere: we reload it (`GET /item/{id}`) and say so on the item.
 *
 * With live updates (a LiveClient), changes made elsewhere are applied as they are pushed (see
 * listSync.ts), and the whole list is read again whenever pushes may have been missed: when the
 * connection (re)opens after the list was read, on a version gap, and when the server says so.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { ApiError, NetworkError, type TodoApi } from '../api/client';
import type { LiveClient, ResyncReason } from '../api/live';
import type { LivePush, Todo, TodoPatch } from '../api/types';
import { uuidv7 } from '../api/uuid';
import { useAlerts } from '../components/Alerts';
import { describeError, isAbort } from '../lib/errors';
import type { TodoFields } from '../lib/validation';
import type { NewOp, Outbox, QueuedOp } from '../offline/queue';
import type { Synced } from '../offline/store';
import { applyPatch, applyPush, insertInOrder, mergeRead, newest } from './listSync';
import { overlay, type PendingState } from './pending';

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
  /** Changes of this todo waiting in the outbox (see pending.ts); set on the list useTodos returns. */
  pending?: PendingState;
}

export interface RemovedItem {
  id: string;
  title: string;
  /** 'deleted': by this user, here; 'deletedElsewhere': found gone when we tried to change it. */
  reason: 'deleted' | 'deletedElsewhere';
}

/** 'queued': kept on this device, sent when the server can be reached. */
export type AddResult = 'saved' | 'queued' | 'unsaved' | 'rejected';
/** 'gone': deleted elsewhere; 'failed': not saved, and the item is back as it was. */
export type ChangeResult = 'saved' | 'queued' | 'conflict' | 'gone' | 'failed';
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

/** Where the list comes from: the server, or (unreachable) what this device kept of it. */
export interface SyncState {
  /** The server could not be reached for the latest read, or the browser says it is offline. */
  offline: boolean;
  /** RFC 3339: when the list shown was last read from the server; undefined before the first read. */
  syncedAt?: string;
}

const NO_OPS: readonly QueuedOp[] = [];
const noOps = () => NO_OPS;
const noSubscription = () => () => undefined;

const QUEUED_MESSAGE = (title: string) => `“${title}” is saved on this device and will be sent when the server can be reached.`;

function browserOnline(): boolean {
  return globalThis.navigator?.onLine !== false;
}

/** Whether the browser says it is online, as a React value. */
export function useOnline(): boolean {
  return useSyncExternalStore(subscribeOnline, browserOnline, () => true);
}

function subscribeOnline(onChange: () => void): () => void {
  window.addEventListener('online', onChange);
  window.addEventListener('offline', onChange);
  return () => {
    window.removeEventListener('online', onChange);
    window.removeEventListener('offline', onChange);
  };
}

/**
 * The list and every change to it. With an outbox (IndexedDB available), the list is also kept on
 * this device and changes made while the server cannot be reached are queued there, shown at once
 * as pending and sent when it can (queue.ts); without one, it works online only, as before.
 */
export function useTodos(api: TodoApi, live: LiveClient | null = null, outbox: Outbox | null = null) {
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

  // Offline: the outbox's queue over the list, and the copy of the list kept on this device.
  const ops = useSyncExternalStore(outbox?.subscribe ?? noSubscription, outbox?.getSnapshot ?? noOps);
  const shown = useMemo(() => overlay(items, ops), [items, ops]);
  const online = useOnline();
  const [reachable, setReachable] = useState(true);
  const [syncedAt, setSyncedAt] = useState<string | undefined>(undefined);
  const syncedAtRef = useRef<string | undefined>(undefined);
  const cachedList = useRef<Promise<Synced<Todo[]> | undefined> | null>(null);
  const readCache = useCallback(() => {
    if (!outbox) return Promise.resolve(undefined);
    cachedList.current ??= outbox.store.loadList().catch(() => undefined);
    return cachedList.current;
  }, [outbox]);
  const markSynced = useCallback((at: string | undefined) => {
    syncedAtRef.current = at;
    setSyncedAt(at);
  }, []);
  /** The list as the user sees it now, queued changes included (for handlers between renders). */
  const shownItem = useCallback(
    (id: string) => overlay(current.current, outbox?.getSnapshot() ?? NO_OPS).find((item) => item.todo.id === id),
    [outbox],
  );

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
        markSynced(new Date().toISOString());
        setReachable(true);
        setLoadState('ready');
        if (!loaded.current) {
          loaded.current = true;
          if (applyPushes(earlyPushes.current.splice(0))) readAgain.current = true;
        }
      } catch (error) {
        if (isAbort(error) || signal.aborted) return;
        if (error instanceof NetworkError) setReachable(false);
        // A background re-read that fails leaves the list as it was: the next reconnect or gap reads again.
        if (loaded.current) return;
        // Offline: the list as this device last read it, with the changes still queued on top.
        const cached = error instanceof NetworkError ? await readCache() : undefined;
        if (signal.aborted || loaded.current) return;
        if (cached) {
          if (current.current.length === 0) commit(() => cached.data.map((todo) => ({ todo, busy: false, unsaved: false })));
          if (!syncedAtRef.current) markSynced(cached.syncedAt);
          earlyPushes.current = [];
          setLoadState('ready');
          return;
        }
        // Pushes that came during a failed read are in the read that follows it.
        earlyPushes.current = [];
        setLoadState('failed');
        if (!(error instanceof ApiError && error.status === 401)) {
          showAlert(describeError(error, 'Loading your to-dos'));
        }
      }
    },
    [api, applyPushes, commit, live, markSynced, readCache, showAlert],
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

  // What this device kept shows while the first read is on its way (and stays if the read fails).
  useEffect(() => {
    let cancelled = false;
    void readCache().then((cached) => {
      if (cancelled || !cached || loaded.current || current.current.length > 0) return;
      commit(() => cached.data.map((todo) => ({ todo, busy: false, unsaved: false })));
      if (!syncedAtRef.current) markSynced(cached.syncedAt);
    });
    return () => {
      cancelled = true;
    };
  }, [commit, markSynced, readCache]);

  // Keep this device's copy of the list as the server has it (queued changes live in the outbox).
  useEffect(() => {
    if (!outbox || !syncedAtRef.current) return;
    // At once, not debounced: a reload or a closed tab may come right after (IndexedDB keeps the writes in order).
    const todos = items.filter((item) => !item.unsaved && item.todo.version > 0).map((item) => item.todo);
    outbox.store.saveList(todos, syncedAtRef.current).catch(() => undefined);
  }, [items, outbox, syncedAt]);

  // Back online: read again (the live socket, if any, also asks when it reconnects).
  useEffect(() => {
    if (online && !reachable) void requestRead();
  }, [online, reachable, requestRead]);

  // A queued change the server took (or the user settled): the list takes the server's todo.
  useEffect(() => {
    if (!outbox) return;
    return outbox.onSent((op, todo) => {
      if (!todo) {
        gone.current.set(op.todoId, Number.POSITIVE_INFINITY);
        learnedAt.current.delete(op.todoId);
        dropItem(op.todoId);
        if (op.kind === 'delete') announce(`Deleted “${op.title}”.`);
        return;
      }
      // The read model may not have a new todo yet: a read that lacks it must not drop it.
      if (op.kind === 'create' && !learnedAt.current.has(todo.id)) learnedAt.current.set(todo.id, Number.POSITIVE_INFINITY);
      commit((list) =>
        list.some((item) => item.todo.id === todo.id)
          ? list.map((item) => (item.todo.id === todo.id ? { ...item, todo: newest(item.todo, todo), unsaved: false } : item))
          : insertInOrder(list, { todo, busy: false, unsaved: false }),
      );
    });
  }, [announce, commit, dropItem, outbox]);

  /** Changes go to the outbox when offline, and while it holds anything (so that they keep their order). */
  const queueing = useCallback(() => outbox !== null && (!browserOnline() || outbox.getSnapshot().length > 0), [outbox]);

  /** Queues a change durably; false (and an alert) if this device could not store it. */
  const enqueue = useCallback(
    async (op: NewOp, what: string): Promise<boolean> => {
      if (!outbox) return false;
      try {
        await outbox.enqueue(op);
        return true;
      } catch (error) {
        showAlert(describeError(error, what));
        return false;
      }
    },
    [outbox, showAlert],
  );

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
        // Connected again: the server can be reached, so send what waited.
        if (reason !== 'reread') void outbox?.flush();
      },
    });
  }, [live, applyPushes, requestRead, outbox]);

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
        // Could not reach the server: queue it (sent with the same id, so at most once) and say so.
        if (error instanceof NetworkError && outbox) {
          const fields = todo.notes ? { title: todo.title, notes: todo.notes } : { title: todo.title };
          if (await enqueue({ kind: 'create', todoId: todo.id, fields, baseVersion: 0, title: todo.title }, what)) {
            dropItem(todo.id);
            announce(QUEUED_MESSAGE(todo.title));
            return 'queued';
          }
        }
        // Maybe stored, maybe not: keep it, and a retry sends the same id (idempotent).
        replaceItem(todo.id, (item) => ({ ...item, busy: false, unsaved: true }));
        if (!(error instanceof ApiError && error.status === 401)) showAlert(describeError(error, what));
        return 'unsaved';
      }
    },
    [api, announce, dropItem, enqueue, outbox, replaceItem, showAlert],
  );

  const add = useCallback(
    async (fields: TodoFields): Promise<AddResult> => {
      const now = new Date().toISOString();
      const notes = fields.notes.trim() === '' ? undefined : fields.notes;
      const todo: Todo = { id: uuidv7(), title: fields.title.trim(), notes, completed: false, createdAt: now, updatedAt: now, version: 0 };
      setLastRemoved(null);
      if (queueing()) {
        const queued = { kind: 'create', todoId: todo.id, fields: notes ? { title: todo.title, notes } : { title: todo.title }, baseVersion: 0, title: todo.title } as const;
        if (!(await enqueue(queued, `Adding “${todo.title}”`))) return 'rejected';
        announce(QUEUED_MESSAGE(todo.title));
        return 'queued';
      }
      commit((list) => [...list, { todo, busy: true, unsaved: false }]);
      return saveNew(todo);
    },
    [announce, commit, enqueue, queueing, saveNew],
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

  /** A change for the outbox, on the version of the todo the server last gave this page. */
  const queueChange = useCallback(
    async (id: string, patch: TodoPatch, what: string, base: number | undefined): Promise<ChangeResult> => {
      const item = shownItem(id);
      if (!item || item.busy || item.unsaved || item.pending?.kind === 'delete') return 'failed';
      const kind = patch.completed === true ? 'complete' : patch.completed === false ? 'reopen' : 'update';
      const fields = kind === 'update' ? { ...patch } : undefined;
      const queued = { kind, todoId: id, fields, baseVersion: base ?? find(id)?.todo.version ?? 0, title: item.todo.title } as const;
      if (!(await enqueue(queued, what))) return 'failed';
      announce(QUEUED_MESSAGE(applyPatch(item.todo, patch).title));
      return 'queued';
    },
    [announce, enqueue, find, shownItem],
  );

  /** PUT (or POST …/done for a plain completion) with If-Match, optimistically. */
  const change = useCallback(
    async (id: string, patch: TodoPatch, what: string): Promise<ChangeResult> => {
      if (queueing()) return queueChange(id, patch, what, undefined);
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
        if (error instanceof NetworkError && outbox) {
          // Queued first, then the item back as the server has it: the queue shows the change on top.
          replaceItem(id, (it) => ({ ...it, busy: false }));
          const result = await queueChange(id, patch, what, previous.version);
          replaceItem(id, (it) => ({ ...it, todo: newest(it.todo, previous) }));
          if (result === 'queued') return result;
        }
        replaceItem(id, (it) => ({ ...it, todo: newest(it.todo, previous), busy: false }));
        if (!(error instanceof ApiError && error.status === 401)) showAlert(describeError(error, what));
        return 'failed';
      }
    },
    [api, find, outbox, queueChange, queueing, reconcile, removedElsewhere, replaceItem, showAlert],
  );

  /**
   * Saves an edit. `base` is the version the editor opened on: when the todo changed elsewhere
   * since, only the fields the user changed are sent, on top of the version shown now, so a change
   * made elsewhere to another field is kept.
   */
  const edit = useCallback(
    (id: string, fields: TodoFields, base?: Todo): Promise<ChangeResult> => {
      const item = shownItem(id);
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
    [change, shownItem],
  );

  const toggle = useCallback(
    (id: string): Promise<ChangeResult> => {
      const item = shownItem(id);
      if (!item) return Promise.resolve('failed');
      return item.todo.completed
        ? change(id, { completed: false }, `Reopening “${item.todo.title}”`)
        : change(id, { completed: true }, `Completing “${item.todo.title}”`);
    },
    [change, shownItem],
  );

  /** A deletion for the outbox: the item stays, marked, until the server has deleted it. */
  const queueRemove = useCallback(
    async (id: string, base: number | undefined): Promise<boolean> => {
      const item = shownItem(id);
      if (!item || item.busy || item.pending?.kind === 'delete') return false;
      const { title } = item.todo;
      const queued = { kind: 'delete', todoId: id, baseVersion: base ?? find(id)?.todo.version ?? 0, title } as const;
      if (!(await enqueue(queued, `Deleting “${title}”`))) return false;
      announce(`“${title}” will be deleted when the server can be reached.`);
      return true;
    },
    [announce, enqueue, find, shownItem],
  );

  const remove = useCallback(
    async (id: string): Promise<boolean> => {
      if (queueing()) return queueRemove(id, undefined);
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
        if (error instanceof NetworkError && outbox && (await queueRemove(id, todo.version))) return true;
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
    [announce, api, commit, dropItem, find, outbox, queueRemove, queueing, reconcile, showAlert],
  );

  /** A queued change the server refused because the todo changed: send it again on the current version. */
  const keepMine = useCallback((seq: number) => outbox?.keepMine(seq) ?? Promise.resolve(), [outbox]);
  /** ... or drop it (and that todo's later queued changes) and take the server's todo. */
  const keepTheirs = useCallback((seq: number) => outbox?.discard(seq) ?? Promise.resolve(), [outbox]);

  /** A todo deleted elsewhere that had changes queued here: add it again, as the user left it, as a new todo. */
  const addAgain = useCallback(
    async (id: string): Promise<void> => {
      const item = shownItem(id);
      const problem = item?.pending?.problem;
      if (!outbox || !item || !problem) return;
      const { title, notes, completed } = item.todo;
      const todoId = uuidv7();
      const fields = notes ? { title, notes } : { title };
      if (!(await enqueue({ kind: 'create', todoId, fields, baseVersion: 0, title }, `Adding “${title}” again`))) return;
      if (completed) await enqueue({ kind: 'complete', todoId, baseVersion: 0, title }, `Completing “${title}”`);
      await outbox.discard(problem.seq);
    },
    [enqueue, outbox, shownItem],
  );

  const dismissNotice = useCallback(
    (id: string) => replaceItem(id, (item) => ({ ...item, notice: undefined })),
    [replaceItem],
  );
  const dismissRemoved = useCallback(() => setLastRemoved(null), []);

  const sync: SyncState = { offline: !online || !reachable, syncedAt };

  return {
    items: shown,
    loadState,
    lastRemoved,
    sync,
    queued: ops.length,
    reload,
    add,
    retryAdd,
    discard,
    edit,
    toggle,
    remove,
    dismissNotice,
    dismissRemoved,
    keepMine,
    keepTheirs,
    addAgain,
  };
}
