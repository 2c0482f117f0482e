import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import type { TodoEvent } from '../api/types';
import { describeError, isAbort } from '../lib/errors';
import { describeEvents, isDeleted, lastKnownTitle } from '../lib/history';
import { Link } from '../lib/router';
import { useApi } from './ApiContext';
import { HistoryTimeline } from './HistoryTimeline';
import { usePageTitle } from './PageTitle';
import { useNow } from './Timestamp';

type State =
  | { status: 'loading' }
  | { status: 'ready'; events: TodoEvent[] }
  | { status: 'missing' }
  | { status: 'failed'; message: string };

/** One item's events in version order; works for deleted items too. */
export function ItemHistoryPage({ id }: { id: string }) {
  const api = useApi();
  const now = useNow();
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.getItemHistory(id, controller.signal).then(
      (events) => setState(events.length > 0 ? { status: 'ready', events } : { status: 'missing' }),
      (error: unknown) => {
        if (isAbort(error) || controller.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 400)) setState({ status: 'missing' });
        else setState({ status: 'failed', message: describeError(error, 'Loading this history') });
      },
    );
    return () => controller.abort();
  }, [api, id, attempt]);

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
