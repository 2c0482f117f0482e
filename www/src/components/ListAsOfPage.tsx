import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import type { StatusFilter, Todo } from '../api/types';
import { describeError, isAbort } from '../lib/errors';
import { itemVersionPath, Link } from '../lib/router';
import { formatAbsolute } from '../lib/time';
import { useApi } from './ApiContext';
import { AsOfForm } from './AsOfForm';
import { PastNotice } from './PastNotice';
import { usePageTitle } from './PageTitle';

type State =
  | { status: 'loading' }
  | { status: 'ready'; items: Todo[] }
  /** The server refused the instant (malformed, in the future): choosing another one is the fix. */
  | { status: 'refused'; message: string }
  | { status: 'failed'; message: string };

const FILTERS: { value: StatusFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'active', label: 'Active' },
  { value: 'completed', label: 'Completed' },
];

const EMPTY_TEXT: Record<StatusFilter, string> = {
  all: 'Your list was empty then.',
  active: 'Nothing was left to do then.',
  completed: 'Nothing was completed then.',
};

function matches(todo: Todo, filter: StatusFilter): boolean {
  return filter === 'all' || (filter === 'active' ? !todo.completed : todo.completed);
}

/** The whole list as it stood at an instant: read-only, marked as the past, one click back to now. */
export function ListAsOfPage({ asOf }: { asOf: string }) {
  const api = useApi();
  const valid = !Number.isNaN(Date.parse(asOf));
  const [state, setState] = useState<State>(() =>
    valid ? { status: 'loading' } : { status: 'refused', message: `“${asOf}” is not a date and time.` },
  );
  const [attempt, setAttempt] = useState(0);
  const [filter, setFilter] = useState<StatusFilter>('all');
  const when = valid ? formatAbsolute(asOf) : undefined;
  const headingRef = usePageTitle(when ? `Your list as it stood on ${when}` : 'Your list in the past');

  useEffect(() => {
    if (!valid) return;
    const controller = new AbortController();
    api.listAllTodos({ status: 'all', asOf, signal: controller.signal }).then(
      (items) => setState({ status: 'ready', items }),
      (error: unknown) => {
        if (isAbort(error) || controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 400) setState({ status: 'refused', message: error.message });
        else setState({ status: 'failed', message: describeError(error, 'Loading your list as it stood then') });
      },
    );
    return () => controller.abort();
  }, [api, asOf, valid, attempt]);

  const items = state.status === 'ready' ? state.items : [];
  const visible = items.filter((todo) => matches(todo, filter));
  const filterLabel = FILTERS.find((f) => f.value === filter)?.label ?? 'All';

  return (
    <section className="page" aria-labelledby="as-of-heading">
      <p className="breadcrumb">
        <Link to="/history">← Back to your history</Link>
      </p>
      <h1 id="as-of-heading" ref={headingRef} tabIndex={-1}>
        {when ? (
          <>
            Your list as it stood on <time dateTime={asOf}>{when}</time>
          </>
        ) : (
          'Your list in the past'
        )}
      </h1>
      <PastNotice
        actions={
          <Link className="button button-small button-primary" to="/">
            Back to now
          </Link>
        }
      >
        This is the past, shown read-only: nothing here can be changed.
      </PastNotice>

      {state.status === 'loading' && (
        <p className="muted" role="status">
          Loading your list as it stood then…
        </p>
      )}
      {state.status === 'refused' && (
        <div className="notice notice-error" role="alert">
          <p>That moment cannot be shown: {state.message}</p>
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
      {state.status === 'ready' && (
        <>
          <div className="filters" role="group" aria-label="Show">
            {FILTERS.map(({ value, label }) => (
              <button key={value} type="button" className="filter" aria-pressed={filter === value} onClick={() => setFilter(value)}>
                {label} <span className="filter-count">{items.filter((todo) => matches(todo, value)).length}</span>
              </button>
            ))}
          </div>
          {visible.length === 0 && <p className="empty">{EMPTY_TEXT[filter]}</p>}
          <ul className="todo-list todo-list-past" aria-label={`${filterLabel} to-dos then`}>
            {visible.map((todo) => (
              <li key={todo.id} className={`todo todo-past${todo.completed ? ' todo-completed' : ''}`}>
                <div className="todo-past-row">
                  <div className="todo-body">
                    <p className="todo-title">{todo.title}</p>
                    {todo.notes && <p className="todo-notes">{todo.notes}</p>}
                    <p className="todo-meta">
                      {todo.completed ? <span className="badge badge-completed">Completed</span> : <span>Not completed</span>}
                      <span> · version {todo.version}</span>
                    </p>
                  </div>
                  <Link
                    className="button button-small button-quiet"
                    to={itemVersionPath(todo.id, todo.version)}
                    aria-label={`Details of “${todo.title}” then`}
                  >
                    Details
                  </Link>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}

      <section className="card as-of-card" aria-labelledby="as-of-again-heading">
        <h2 id="as-of-again-heading" className="card-title">
          Another moment
        </h2>
        <AsOfForm initial={valid ? asOf : undefined} />
      </section>
    </section>
  );
}
