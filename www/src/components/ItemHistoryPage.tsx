import { useEffect, useState } from 'react';
import { ApiError, NetworkError } from '../api/client';
import type { TodoEvent } from '../api/types';
import { describeError, isAbort } from '../lib/errors';
import { describeEvents, isDeleted, lastKnownTitle } from '../lib/history';
import { Link } from '../lib/router';
import { useApi } from './ApiContext';
import { HistoryTimeline } from './HistoryTimeline';
import { useOutbox } from './OfflineContext';
import { OfflineNote } from './OfflineNote';
import { usePageTitle } from './PageTitle';
import { useNow } from './Timestamp';

type State =
  | { status: 'loading' }
  /** `syncedAt`: read from this device's copy, kept when the history was last opened online. */
  | { status: 'ready'; events: TodoEvent[]; syncedAt?: string }
  | { status: 'missing' }
  | { status: 'failed'; message: string };

/** One item's events in version order; works for deleted items too. */
export function ItemHistoryPage({ id }: { id: string }) {
  const api = useApi();
  const store = useOutbox()?.store;
  const now = useNow();
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.getItemHistory(id, controller.signal).then(
      (events) => {
        setState(events.length > 0 ? { status: 'ready', events } : { status: 'missing' });
        // Kept for reading offline.
        if (events.length > 0) store?.saveHistory(id, events, new Date().toISOString()).catch(() => undefined);
      },
      async (error: unknown) => {
        if (isAbort(error) || controller.signal.aborted) return;
        const cached = error instanceof NetworkError ? await store?.loadHistory(id).catch(() => undefined) : undefined;
        if (controller.signal.aborted) return;
        if (cached) setState({ status: 'ready', events: cached.data, syncedAt: cached.syncedAt });
        else if (error instanceof ApiError && (error.status === 404 || error.status === 400)) setState({ status: 'missing' });
        else setState({ status: 'failed', message: describeError(error, 'Loading this history') });
      },
    );
    return () => controller.abort();
  }, [api, id, attempt, store]);

  const events = state.status === 'ready' ? state.events : [];
  const title = lastKnownTitle(events, id);
  const headingRef = usePageTitle(title ? `History of “${title}”` : 'Item history');

  return (
    <section className="page" aria-labelledby="item-history-heading">
      <p className="breadcrumb">
        <Link to="/">← Back to your to-dos</Link>
      </p>
      <h1 id="item-history-heading" ref={headingRef} tabIndex={-1}>
        {title ? `History of “${title}”` : 'Item history'}
      </h1>
      {state.status === 'loading' && (
        <p className="muted" role="status">
          Loading history…
        </p>
      )}
      {state.status === 'missing' && <p className="empty">There is no history for this item. It may never have existed.</p>}
      {state.status === 'failed' && (
        <div className="notice notice-error" role="alert">
          <p>{state.message}</p>
          <button
            type="button"
            className="button button-small"
            onClick={() => {
              setState({ status: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            Try again
          </button>
        </div>
      )}
      {store && <OfflineNote offline={state.status === 'ready' && state.syncedAt !== undefined} syncedAt={state.status === 'ready' ? state.syncedAt : undefined} />}
      {state.status === 'ready' && (
        <>
          <p className="muted">
            {events.length} {events.length === 1 ? 'event' : 'events'}, oldest first.
            {isDeleted(events) && <strong className="deleted-note"> This item has been deleted.</strong>}
          </p>
          <HistoryTimeline entries={describeEvents(events)} now={now} />
        </>
      )}
    </section>
  );
}
