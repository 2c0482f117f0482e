import { useCallback, useEffect, useRef, useState } from 'react';
import { NetworkError } from '../api/client';
import type { HistoryPage, TodoEvent } from '../api/types';
import { describeError, isAbort } from '../lib/errors';
import { describeEvents } from '../lib/history';
import { Link } from '../lib/router';
import { useApi } from './ApiContext';
import { AsOfForm } from './AsOfForm';
import { HistoryTimeline } from './HistoryTimeline';
import { useOutbox } from './OfflineContext';
import { OfflineNote } from './OfflineNote';
import { usePageTitle } from './PageTitle';
import { useNow } from './Timestamp';

export const HISTORY_PAGE_SIZE = 50;

/** Everything the user did, in time order, a page at a time ("Load more"). */
export function UserHistoryPage() {
  const api = useApi();
  const store = useOutbox()?.store;
  const now = useNow();
  /** Shown from this device's copy (kept when the history was last opened online): when it was read. */
  const [syncedAt, setSyncedAt] = useState<string | undefined>();
  const headingRef = usePageTitle('Your history');
  const [events, setEvents] = useState<TodoEvent[]>([]);
  const [nextCursor, setNextCursor] = useState<string | undefined>();
  const [status, setStatus] = useState<'loading' | 'ready' | 'failed'>('loading');
  const [error, setError] = useState('');
  const [focusEntryId, setFocusEntryId] = useState<string | undefined>();
  const firstNewEntry = useRef<HTMLLIElement>(null);

  const applyPage = useCallback((page: HistoryPage, cursor: string | undefined) => {
    setEvents((loaded) => {
      const known = new Set(loaded.map((event) => event.eventId));
      return [...loaded, ...page.events.filter((event) => !known.has(event.eventId))];
    });
    setNextCursor(page.nextCursor);
    setStatus('ready');
    // After "Load more", put focus on the first newly loaded entry.
    if (cursor && page.events[0]) setFocusEntryId(page.events[0].eventId);
  }, []);

  const fail = useCallback((caught: unknown, signal?: AbortSignal) => {
    if (isAbort(caught) || signal?.aborted) return;
    setError(describeError(caught, 'Loading your history'));
    setStatus('failed');
  }, []);

  const loadPage = useCallback(
    (cursor: string | undefined, signal?: AbortSignal) =>
      api.getHistory({ limit: HISTORY_PAGE_SIZE, cursor, signal }).then(
        (page) => applyPage(page, cursor),
        (caught: unknown) => fail(caught, signal),
      ),
    [api, applyPage, fail],
  );

  useEffect(() => {
    const controller = new AbortController();
    api.getHistory({ limit: HISTORY_PAGE_SIZE, signal: controller.signal }).then(
      (page) => {
        applyPage(page, undefined);
        store?.saveHistory(undefined, page.events, new Date().toISOString()).catch(() => undefined);
      },
      async (caught: unknown) => {
        const cached =
          caught instanceof NetworkError && !controller.signal.aborted ? await store?.loadHistory(undefined).catch(() => undefined) : undefined;
        if (!cached || controller.signal.aborted) return fail(caught, controller.signal);
        setSyncedAt(cached.syncedAt);
        applyPage({ events: cached.data }, undefined);
      },
    );
    return () => controller.abort();
  }, [api, applyPage, fail, store]);

  useEffect(() => {
    if (focusEntryId) firstNewEntry.current?.focus();
  }, [focusEntryId]);

  const loadMore = () => {
    setStatus('loading');
    void loadPage(nextCursor);
  };

  return (
    <section className="page" aria-labelledby="history-heading">
      <p className="breadcrumb">
        <Link to="/">← Back to your to-dos</Link>
      </p>
      <h1 id="history-heading" ref={headingRef} tabIndex={-1}>
        Your history
      </h1>
      <p className="muted">
        Every change to your to-dos in time order, deleted items included. To keep a copy, <Link to="/account">download your data</Link>.
      </p>
      {store && <OfflineNote offline={syncedAt !== undefined} syncedAt={syncedAt} />}
      <section className="card as-of-card" aria-labelledby="look-back-heading">
        <h2 id="look-back-heading" className="card-title">
          Look back
        </h2>
        <AsOfForm />
      </section>
      {events.length > 0 && (
        <HistoryTimeline
          entries={describeEvents(events)}
          now={now}
          showItem
          focusEntryId={focusEntryId}
          focusRef={firstNewEntry}
        />
      )}
      {status === 'ready' && events.length === 0 && <p className="empty">Nothing has happened yet.</p>}
      {status === 'loading' && (
        <p className="muted" role="status">
          Loading history…
        </p>
      )}
      {status === 'failed' && (
        <div className="notice notice-error" role="alert">
          <p>{error}</p>
          <button type="button" className="button button-small" onClick={loadMore}>
            Try again
          </button>
        </div>
      )}
      {status === 'ready' && nextCursor && (
        <div className="load-more">
          <button type="button" className="button" onClick={loadMore}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
