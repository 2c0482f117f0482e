import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import type { Todo, TodoEvent } from '../api/types';
import { describeError, isAbort } from '../lib/errors';
import { isDeleted, lastKnownTitle } from '../lib/history';
import { itemHistoryPath, itemVersionPath, Link } from '../lib/router';
import { formatAbsolute } from '../lib/time';
import { useApi } from './ApiContext';
import { PastNotice } from './PastNotice';
import { usePageTitle } from './PageTitle';
import { Timestamp, useNow } from './Timestamp';

type State =
  | { status: 'loading' }
  | { status: 'ready'; todo: Todo; events: TodoEvent[] }
  /** The server said why this version cannot be shown (deleted then, no such version, no such item). */
  | { status: 'unavailable'; message: string }
  | { status: 'failed'; message: string };

/** One todo as it was after its event of `version`: read-only, marked as the past. */
export function ItemVersionPage({ id, version }: { id: string; version: number }) {
  const api = useApi();
  const now = useNow();
  const [state, setState] = useState<State>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    // The history says how many versions there are, and when this one came to be.
    Promise.all([api.getTodoAt(id, { version }, controller.signal), api.getItemHistory(id, controller.signal)]).then(
      ([todo, events]) => setState({ status: 'ready', todo, events }),
      (error: unknown) => {
        if (isAbort(error) || controller.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
          setState({ status: 'unavailable', message: error.message });
        } else {
          setState({ status: 'failed', message: describeError(error, 'Loading this version') });
        }
      },
    );
    return () => controller.abort();
  }, [api, id, version, attempt]);

  const ready = state.status === 'ready' ? state : undefined;
  const events = ready?.events ?? [];
  const latest = events.reduce((max, event) => Math.max(max, event.version), version);
  const at = events.find((event) => event.version === version)?.occurredAt ?? ready?.todo.updatedAt;
  const headingRef = usePageTitle(ready ? `“${ready.todo.title}”, version ${version} of ${latest}` : `Version ${version}`);

  // Neighbouring versions that can be shown (a deletion cannot).
  const viewable = events.filter((event) => event.type !== 'TodoDeleted').map((event) => event.version);
  const older = Math.max(0, ...viewable.filter((v) => v < version));
  const newer = Math.min(Infinity, ...viewable.filter((v) => v > version));
  const currentTitle = lastKnownTitle(events, id);

  return (
    <section className="page" aria-labelledby="item-version-heading">
      <p className="breadcrumb">
        <Link to={itemHistoryPath(id)}>← Back to the history{currentTitle ? ` of “${currentTitle}”` : ''}</Link>
      </p>
      <h1 id="item-version-heading" ref={headingRef} tabIndex={-1}>
        {ready && at ? (
          <>
            Version {version} of {latest}, as it was on <time dateTime={at}>{formatAbsolute(at)}</time>
          </>
        ) : (
          `Version ${version}`
        )}
      </h1>
      {state.status === 'loading' && (
        <p className="muted" role="status">
          Loading this version…
        </p>
      )}
      {state.status === 'unavailable' && (
        <div className="notice notice-error" role="alert">
          <p>This version cannot be shown: {state.message}</p>
        </div>
      )}
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
      {ready && (
        <>
          <PastNotice
            actions={
              <>
                <Link className="button button-small" to={itemHistoryPath(id)}>
                  Back to the history
                </Link>
                {!isDeleted(events) && (
                  <Link className="button button-small button-quiet" to="/">
                    Go to your to-dos now
                  </Link>
                )}
              </>
            }
          >
            {version === latest
              ? 'This is the latest version. It is shown read-only, as recorded.'
              : 'This is a past version, shown read-only: it cannot be changed.'}
            {isDeleted(events) && <strong className="deleted-note"> This to-do has since been deleted.</strong>}
          </PastNotice>
          <PastTodoCard todo={ready.todo} now={now} />
          <nav className="version-nav" aria-label="Other versions">
            {older > 0 ? (
              <Link to={itemVersionPath(id, older)} className="button button-small">
                ← Older: version {older}
              </Link>
            ) : (
              <span />
            )}
            {Number.isFinite(newer) && (
              <Link to={itemVersionPath(id, newer)} className="button button-small">
                Newer: version {newer} →
              </Link>
            )}
          </nav>
        </>
      )}
    </section>
  );
}

/** A todo as recorded at some moment: every field, and no control that could change it. */
function PastTodoCard({ todo, now }: { todo: Todo; now: number }) {
  return (
    <article className="card past-todo" aria-labelledby="past-todo-title">
      <h2 id="past-todo-title" className="past-todo-title">
        {todo.title}
      </h2>
      {todo.notes ? <p className="todo-notes">{todo.notes}</p> : <p className="muted">No notes.</p>}
      <dl className="facts">
        <dt>Status</dt>
        <dd>{todo.completed ? 'Completed' : 'Not completed'}</dd>
        {todo.completed && todo.completedAt && (
          <>
            <dt>Completed</dt>
            <dd>
              <Timestamp iso={todo.completedAt} now={now} />
            </dd>
          </>
        )}
        <dt>Added</dt>
        <dd>
          <Timestamp iso={todo.createdAt} now={now} />
        </dd>
        <dt>Last changed</dt>
        <dd>
          <Timestamp iso={todo.updatedAt} now={now} />
        </dd>
      </dl>
    </article>
  );
}
