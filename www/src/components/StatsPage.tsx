import { Component, lazy, Suspense, useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import type { Stats, WeekStats } from '../api/types';
import { describeError, isAbort } from '../lib/errors';
import { parseIsoWeek } from '../lib/isoWeek';
import { Link } from '../lib/router';
import { formatAbsolute, formatDuration, isoDuration } from '../lib/time';
import { useApi } from './ApiContext';
import { usePageTitle } from './PageTitle';

/** Chart.js is only downloaded when this page is opened. */
const WeeklyChart = lazy(() => import('./WeeklyChart'));

export const STATS_WEEKS = 12;

type Status = 'loading' | 'ready' | 'failed';

const START_FORMAT = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const START_FORMAT_WITH_YEAR = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/** "Week 37" (the API's `2026-W37`); the raw text when it is not an ISO week. */
function weekName(week: WeekStats): string {
  const parsed = parseIsoWeek(week.week);
  return parsed ? `Week ${parsed.week}` : week.week;
}

/**
 * "7 Sep": the week's Monday, a UTC calendar day, so shown in UTC whatever the user's zone; with
 * its year ("29 Dec 2025") when that is not the year of the current week's Monday.
 */
function weekStart(week: WeekStats, currentYear: string | undefined): string {
  const date = new Date(`${week.start}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return week.start;
  return (week.start.slice(0, 4) === currentYear ? START_FORMAT : START_FORMAT_WITH_YEAR).format(date);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Your numbers: open and completed to-dos, how long completing takes, and the last weeks, charted and tabled. */
export function StatsPage() {
  const api = useApi();
  const headingRef = usePageTitle('Your stats');
  const [stats, setStats] = useState<Stats | undefined>();
  const [status, setStatus] = useState<Status>('loading');
  const [error, setError] = useState('');
  const [attempt, setAttempt] = useState(0);

  // The projection catches up a few milliseconds after each change: read it on every visit, and on Refresh.
  useEffect(() => {
    const controller = new AbortController();
    api.getStats({ weeks: STATS_WEEKS, signal: controller.signal }).then(
      (loaded) => {
        setStats(loaded);
        setStatus('ready');
      },
      (caught: unknown) => {
        if (isAbort(caught) || controller.signal.aborted) return;
        setError(describeError(caught, 'Loading your stats'));
        setStatus('failed');
      },
    );
    return () => controller.abort();
  }, [api, attempt]);

  const reload = () => {
    if (status === 'loading') return;
    setStatus('loading');
    setAttempt((n) => n + 1);
  };

  return (
    <section className="page" aria-labelledby="stats-heading">
      <h1 id="stats-heading" ref={headingRef} tabIndex={-1}>
        Your stats
      </h1>
      <div className="stats-toolbar">
        <p className="muted stats-as-of">
          {stats ? (
            <>
              As of <time dateTime={stats.asOf}>{formatAbsolute(stats.asOf)}</time>
            </>
          ) : (
            'Counting your to-dos…'
          )}
        </p>
        {stats && (
          <button
            type="button"
            className="button button-small"
            onClick={reload}
            // Not `disabled`: focus stays on the button while the numbers are read again.
            aria-disabled={status === 'loading' || undefined}
          >
            Refresh
          </button>
        )}
      </div>
      {/* Always in the page: screen readers announce changes only to a region that already exists. */}
      <p className="visually-hidden" role="status">
        {status === 'loading' ? 'Loading your stats…' : status === 'ready' && attempt > 0 ? 'Stats updated.' : ''}
      </p>
      {status === 'failed' && (
        <div className="notice notice-error" role="alert">
          <p>{error}</p>
          <button type="button" className="button button-small" onClick={reload}>
            Try again
          </button>
        </div>
      )}
      {stats && <StatsView stats={stats} />}
    </section>
  );
}

function StatsView({ stats }: { stats: Stats }) {
  const weeksHeadingId = useId();
  const nothingYet = stats.open === 0 && stats.completed === 0 && stats.medianCompletionSeconds === null && stats.weeks.every((w) => w.created === 0 && w.completed === 0);
  const quietWeeks = stats.weeks.every((w) => w.created === 0 && w.completed === 0);

  return (
    <>
      <dl className="stats-tiles">
        <div className="stat">
          <dt>Open</dt>
          <dd className="stat-value">{stats.open}</dd>
        </div>
        <div className="stat">
          <dt>Completed</dt>
          <dd className="stat-value">{stats.completed}</dd>
        </div>
        <div className="stat stat-wide">
          <dt>Median time to complete</dt>
          <dd className={stats.medianCompletionSeconds === null ? 'stat-none' : 'stat-value'}>
            {stats.medianCompletionSeconds === null ? (
              'No completed to-dos yet'
            ) : (
              <time dateTime={isoDuration(stats.medianCompletionSeconds)}>{formatDuration(stats.medianCompletionSeconds)}</time>
            )}
          </dd>
        </div>
      </dl>
      <p className="muted stats-note">
        Open and completed count the to-dos on your list now. The median is the middle of the times from adding a to-do to
        completing it, deleted ones included.
      </p>

      <section className="card stats-weeks" aria-labelledby={weeksHeadingId}>
        <h2 id={weeksHeadingId} className="card-title">
          Week by week
        </h2>
        {nothingYet ? (
          <p className="empty">
            Nothing to count yet. <Link to="/">Add a to-do</Link>, and your weeks will show here.
          </p>
        ) : (
          <>
            {quietWeeks && <p className="muted">Nothing was added or completed in these {stats.weeks.length} weeks.</p>}
            <WeeklyBreakdown weeks={stats.weeks} />
          </>
        )}
      </section>
    </>
  );
}

function WeeklyBreakdown({ weeks }: { weeks: WeekStats[] }) {
  const currentYear = weeks.at(-1)?.start.slice(0, 4);
  const chart = useMemo(
    () => ({
      labels: weeks.map((w) => {
        const parsed = parseIsoWeek(w.week);
        return parsed ? `W${parsed.week}` : w.week;
      }),
      titles: weeks.map((w) => `${weekName(w)}, from ${weekStart(w, currentYear)}`),
      created: weeks.map((w) => w.created),
      completed: weeks.map((w) => w.completed),
    }),
    [weeks, currentYear],
  );
  const totalCreated = weeks.reduce((sum, w) => sum + w.created, 0);
  const totalCompleted = weeks.reduce((sum, w) => sum + w.completed, 0);

  return (
    <div className="stats-weekly">
      <ChartBoundary>
        <Suspense fallback={<div className="stats-chart" aria-hidden="true" />}>
          <WeeklyChart {...chart} />
        </Suspense>
      </ChartBoundary>
      <div className="stats-table-wrap">
        <table className="stats-table">
          <caption>
            To-dos added and completed in each of the last {plural(weeks.length, 'week', 'weeks')} (weeks start on Monday, UTC)
          </caption>
          <thead>
            <tr>
              <th scope="col">Week</th>
              <th scope="col">Created</th>
              <th scope="col">Completed</th>
            </tr>
          </thead>
          <tbody>
            {weeks.map((week, index) => {
              const current = index === weeks.length - 1;
              return (
                <tr key={week.week} className={current ? 'stats-current-week' : undefined} aria-current={current ? 'date' : undefined}>
                  <th scope="row">
                    <span className="week-name">{weekName(week)}</span>{' '}
                    {current && (
                      <>
                        <span className="badge badge-created week-now">this week</span>{' '}
                      </>
                    )}
                    <span className="week-start">from {weekStart(week, currentYear)}</span>
                  </th>
                  <td>{week.created}</td>
                  <td>{week.completed}</td>
                </tr>
              );
            })}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td>{totalCreated}</td>
              <td>{totalCompleted}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </div>
  );
}

/** If the chart's code cannot be loaded (offline), the table still has every number: show no chart rather than no page. */
class ChartBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  render() {
    return this.state.failed ? null : this.props.children;
  }
}
