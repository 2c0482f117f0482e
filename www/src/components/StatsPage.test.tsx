import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { FakeBackend } from '../testing/fakeBackend';
import { renderWithBackend, USER } from '../testing/render';
import { StatsPage } from './StatsPage';
import type { WeeklyChartProps } from './WeeklyChart';

// jsdom has no canvas: stand in for the chart and keep what it was asked to draw.
const drawn = vi.hoisted(() => ({ props: [] as WeeklyChartProps[] }));
vi.mock('./WeeklyChart', () => ({
  default: (props: WeeklyChartProps) => {
    drawn.props.push(props);
    return <div data-testid="weekly-chart" />;
  },
}));

/** A back end whose clock the test moves. */
function backendAt(start: string) {
  let at = start;
  const backend = new FakeBackend({ now: () => new Date(at) });
  return {
    backend,
    at: (instant: string) => {
      at = instant;
    },
  };
}

/** Three to-dos this week (two completed 2 h 5 min after they were added), one from two weeks ago since deleted. */
function seededBackend() {
  const { backend, at } = backendAt('2026-11-10T08:00:00Z'); // 2026-W46
  const old = backend.seed(USER, 'Old one');
  at('2026-11-17T08:00:00Z'); // 2026-W47
  backend.changeElsewhere(USER, old.id, { completed: true });
  backend.deleteElsewhere(USER, old.id);
  at('2026-11-25T09:00:00Z'); // 2026-W48
  const milk = backend.seed(USER, 'Buy milk');
  const dog = backend.seed(USER, 'Walk the dog');
  backend.seed(USER, 'Call mum');
  at('2026-11-25T11:05:00Z');
  backend.changeElsewhere(USER, milk.id, { completed: true });
  backend.changeElsewhere(USER, dog.id, { completed: true });
  at('2026-11-29T18:00:00Z');
  return { backend, at };
}

/** A week's Monday as the page writes it, in the test machine's locale. */
function day(date: string, withYear = false): string {
  const format = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: withYear ? 'numeric' : undefined, timeZone: 'UTC' });
  return format.format(new Date(`${date}T00:00:00Z`));
}

function stat(name: string): HTMLElement {
  const term = screen.getByText(name, { selector: 'dt' });
  return term.nextElementSibling as HTMLElement;
}

function bodyRows(table: HTMLElement): HTMLElement[] {
  return within(table).getAllByRole('row').filter((row) => row.closest('tbody'));
}

describe('StatsPage', () => {
  it('says it is loading, then shows the counts, the median and every week in a table', async () => {
    const { backend } = seededBackend();
    renderWithBackend(<StatsPage />, backend);

    expect(screen.getByRole('heading', { level: 1, name: 'Your stats' })).toBeInTheDocument();
    expect(screen.getByText('Loading your stats…')).toHaveAttribute('role', 'status');

    const table = await screen.findByRole('table', { name: /^To-dos added and completed in each of the last 12 weeks/ });
    expect(stat('Open')).toHaveTextContent(/^1$/);
    expect(stat('Completed')).toHaveTextContent(/^2$/);
    const median = within(stat('Median time to complete')).getByText('2 h 5 min');
    expect(median.tagName).toBe('TIME');
    expect(median).toHaveAttribute('datetime', 'PT2H5M');
    expect(screen.getByText('As of', { exact: false }).querySelector('time')).toHaveAttribute('datetime', '2026-11-29T18:00:00.000Z');

    expect(within(table).getAllByRole('columnheader').map((th) => [th.textContent, th.getAttribute('scope')])).toEqual([
      ['Week', 'col'],
      ['Created', 'col'],
      ['Completed', 'col'],
    ]);
    const rows = bodyRows(table);
    expect(rows).toHaveLength(12);
    const cells = (row: HTMLElement) => within(row).getAllByRole('cell').map((td) => td.textContent);
    // Oldest first, the current week last and marked as such.
    expect(within(rows[0]).getByRole('rowheader')).toHaveTextContent(`Week 37 from ${day('2026-09-07')}`);
    expect(within(rows[9]).getByRole('rowheader')).toHaveTextContent(`Week 46 from ${day('2026-11-09')}`);
    expect(cells(rows[9])).toEqual(['1', '0']);
    expect(cells(rows[10])).toEqual(['0', '1']);
    const thisWeek = rows[11];
    expect(within(thisWeek).getByRole('rowheader')).toHaveAttribute('scope', 'row');
    expect(within(thisWeek).getByRole('rowheader')).toHaveTextContent(`Week 48 this week from ${day('2026-11-23')}`);
    expect(thisWeek).toHaveAttribute('aria-current', 'date');
    expect(cells(thisWeek)).toEqual(['3', '2']);
    const total = within(table).getAllByRole('row').at(-1) as HTMLElement;
    expect(within(total).getByRole('rowheader')).toHaveTextContent('Total');
    expect(cells(total)).toEqual(['4', '3']);

    // The chart is drawn from the same numbers as the table.
    expect(await screen.findByTestId('weekly-chart')).toBeInTheDocument();
    const chart = drawn.props.at(-1) as WeeklyChartProps;
    expect(chart.labels).toEqual(Array.from({ length: 12 }, (_, i) => `W${37 + i}`));
    expect(chart.created.slice(-3)).toEqual([1, 0, 3]);
    expect(chart.completed.slice(-3)).toEqual([0, 1, 2]);
    expect(chart.titles.at(-1)).toBe(`Week 48, from ${day('2026-11-23')}`);

    expect(backend.requests.filter((r) => r.path === '/stats').map((r) => r.search)).toEqual(['?weeks=12']);
  });

  it('says when nothing has been completed or added yet, with no empty chart', async () => {
    const { backend } = backendAt('2026-11-29T18:00:00Z');
    renderWithBackend(<StatsPage />, backend);

    expect(await screen.findByText('No completed to-dos yet')).toBeInTheDocument();
    expect(stat('Open')).toHaveTextContent(/^0$/);
    expect(stat('Completed')).toHaveTextContent(/^0$/);
    expect(screen.getByText(/Nothing to count yet/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Add a to-do' })).toHaveAttribute('href', '/');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.queryByTestId('weekly-chart')).not.toBeInTheDocument();
  });

  it('shows the weeks, all zero, for someone whose to-dos are older than the 12 weeks', async () => {
    const { backend, at } = backendAt('2026-01-05T08:00:00Z');
    backend.seed(USER, 'Ancient');
    at('2026-11-29T18:00:00Z');
    renderWithBackend(<StatsPage />, backend);

    const table = await screen.findByRole('table');
    expect(stat('Open')).toHaveTextContent(/^1$/);
    expect(screen.getByText('Nothing was added or completed in these 12 weeks.')).toBeInTheDocument();
    expect(bodyRows(table)).toHaveLength(12);
  });

  it('names the year of a week from the year before', async () => {
    const { backend, at } = backendAt('2025-12-31T08:00:00Z'); // 2026-W01, which starts on 29 Dec 2025
    backend.seed(USER, 'New year plans');
    at('2026-01-07T08:00:00Z'); // 2026-W02
    renderWithBackend(<StatsPage />, backend);

    const rows = bodyRows(await screen.findByRole('table'));
    const headers = rows.map((row) => within(row).getByRole('rowheader').textContent);
    expect(headers.slice(-3)).toEqual([
      `Week 52 from ${day('2025-12-22', true)}`,
      `Week 1 from ${day('2025-12-29', true)}`,
      `Week 2 this week from ${day('2026-01-05')}`,
    ]);
    expect(within(rows[10]).getAllByRole('cell').map((td) => td.textContent)).toEqual(['1', '0']);
  });

  it('says what went wrong and tries again', async () => {
    const { backend } = seededBackend();
    backend.failNext('GET', /^\/stats$/, { kind: 'status', status: 503, message: 'Busy.' });
    const user = userEvent.setup();
    renderWithBackend(<StatsPage />, backend);

    const alert = await screen.findByText(/^Loading your stats failed: the server had a problem \(HTTP 503\)/);
    expect(alert.closest('[role="alert"]')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('table')).toBeInTheDocument();
    expect(stat('Open')).toHaveTextContent(/^1$/);
    expect(screen.queryByText(/Loading your stats failed/)).not.toBeInTheDocument();
  });

  it('reads the numbers again on Refresh, keeping focus on the button, and keeps the old ones when that fails', async () => {
    const { backend, at } = seededBackend();
    const user = userEvent.setup();
    renderWithBackend(<StatsPage />, backend);
    await screen.findByRole('table');

    // The projection caught up with a change made after the page was opened.
    at('2026-11-29T18:01:00Z');
    const call = backend.seed(USER, 'Pay the bills');
    const refresh = screen.getByRole('button', { name: 'Refresh' });
    await user.click(refresh);
    expect(await screen.findByText('Stats updated.')).toHaveAttribute('role', 'status');
    expect(stat('Open')).toHaveTextContent(/^2$/);
    expect(refresh).toHaveFocus();
    expect(screen.getByText('As of', { exact: false }).querySelector('time')).toHaveAttribute('datetime', '2026-11-29T18:01:00.000Z');

    backend.changeElsewhere(USER, call.id, { completed: true });
    backend.failNext('GET', /^\/stats$/, { kind: 'network' });
    await user.click(refresh);
    expect(await screen.findByText(/^Loading your stats failed: could not reach the server/)).toBeInTheDocument();
    expect(stat('Open')).toHaveTextContent(/^2$/);
    expect(screen.getByRole('table')).toBeInTheDocument();
  });
});
