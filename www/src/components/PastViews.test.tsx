import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { itemHistoryPath, navigate, useRoute } from '../lib/router';
import { formatAbsolute, toDateTimeLocalValue } from '../lib/time';
import { FakeBackend } from '../testing/fakeBackend';
import { renderWithBackend, USER } from '../testing/render';
import { Page } from './App';
import { ItemVersionPage } from './ItemVersionPage';
import { ListAsOfPage } from './ListAsOfPage';

/** A fake clock a minute further on each reading, from 09:00 UTC (long past, so never "the future"). */
function clock(start = Date.parse('2025-11-25T09:00:00Z')) {
  let t = start;
  return () => {
    t += 60_000;
    return new Date(t);
  };
}

/** The app's pages behind the real router, so links can be followed. */
function RoutedPage() {
  return <Page route={useRoute()} />;
}

function renderAt(path: string, backend: FakeBackend) {
  navigate(path, { replace: true });
  return { ...renderWithBackend(<RoutedPage />, backend), user: userEvent.setup() };
}

const h1 = () => screen.getByRole('heading', { level: 1 });
const entries = () =>
  within(screen.getByRole('list', { name: 'Events' }))
    .getAllByRole('listitem')
    .filter((li) => li.classList.contains('timeline-entry'));

describe('a past version of one to-do', () => {
  function itemEditedTwice() {
    const backend = new FakeBackend({ now: clock() });
    const todo = backend.seed(USER, 'Buy milk', { notes: '2 litres' }); // v1, 09:01
    backend.changeElsewhere(USER, todo.id, { title: 'Buy oat milk' }); // v2, 09:02
    backend.changeElsewhere(USER, todo.id, { completed: true }); // v3, 09:03
    return { backend, todo };
  }

  it('opens from the timeline, read-only and marked as the past, and goes back to the history in one click', async () => {
    const { backend, todo } = itemEditedTwice();
    const { user } = renderAt(itemHistoryPath(todo.id), backend);
    await screen.findByRole('heading', { level: 1, name: 'History of “Buy oat milk”' });
    expect(entries().map((li) => within(li).getByRole('link', { name: /^View version/ }).textContent)).toEqual([
      'View version 1',
      'View version 2',
      'View version 3',
    ]);

    await user.click(screen.getByRole('link', { name: 'View version 1' }));
    const when = formatAbsolute('2025-11-25T09:01:00.000Z');
    expect(await screen.findByRole('heading', { level: 1, name: `Version 1 of 3, as it was on ${when}` })).toHaveFocus();
    expect(h1().querySelector('time')).toHaveAttribute('dateTime', '2025-11-25T09:01:00.000Z');
    expect(window.location.pathname).toBe(`/item/${todo.id}/version/1`);
    expect(backend.requests.some((r) => r.path === `/item/${todo.id}` && r.search === '?version=1')).toBe(true);

    expect(screen.getByRole('heading', { level: 2, name: 'Buy milk' })).toBeInTheDocument();
    expect(screen.getByText('2 litres')).toBeInTheDocument();
    expect(screen.getByText('Not completed')).toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('This is a past version, shown read-only');
    // Nothing to change it with.
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Edit|Delete|Save/ })).not.toBeInTheDocument();
    expect(document.title).toBe('“Buy milk”, version 1 of 3 · To Do');

    await user.click(screen.getByRole('link', { name: 'Newer: version 2 →' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Buy oat milk' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: '← Older: version 1' })).toBeInTheDocument();

    await user.click(within(screen.getByRole('note')).getByRole('link', { name: 'Back to the history' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'History of “Buy oat milk”' })).toBeInTheDocument();
  });

  it('says when it is the latest version, and when the to-do has since been deleted', async () => {
    const { backend, todo } = itemEditedTwice();
    backend.deleteElsewhere(USER, todo.id); // v4
    renderWithBackend(<ItemVersionPage id={todo.id} version={3} />, backend);
    expect(await screen.findByRole('heading', { level: 2, name: 'Buy oat milk' })).toBeInTheDocument();
    expect(h1()).toHaveTextContent(/^Version 3 of 4, as it was on/);
    expect(screen.getByText('Completed', { selector: 'dd' })).toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('This to-do has since been deleted.');
    // A deletion has no state to show: no link to it.
    expect(screen.queryByRole('link', { name: /version 4/ })).not.toBeInTheDocument();
  });

  it('offers no version link on a deletion in the timeline', async () => {
    const { backend, todo } = itemEditedTwice();
    backend.deleteElsewhere(USER, todo.id);
    renderAt(itemHistoryPath(todo.id), backend);
    await screen.findByText('This item has been deleted.');
    expect(within(entries()[3]).queryByRole('link')).not.toBeInTheDocument();
    expect(within(entries()[2]).getByRole('link', { name: 'View version 3' })).toBeInTheDocument();
  });

  it('says why a version cannot be shown, in the server’s words', async () => {
    const { backend, todo } = itemEditedTwice();
    renderWithBackend(<ItemVersionPage id={todo.id} version={9} />, backend);
    expect(await screen.findByText(/^This version cannot be shown: .*3, the todo's current version/)).toBeInTheDocument();
    expect(h1()).toHaveTextContent('Version 9');
  });

  it('shows a server fault with a retry', async () => {
    const { backend, todo } = itemEditedTwice();
    backend.failNext('GET', /^\/item\/[^/]+$/, { kind: 'status', status: 503 });
    const user = userEvent.setup();
    renderWithBackend(<ItemVersionPage id={todo.id} version={2} />, backend);
    expect(await screen.findByText(/Loading this version failed: the server had a problem \(HTTP 503\)/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { level: 2, name: 'Buy oat milk' })).toBeInTheDocument();
  });
});

describe('hashes in the timeline', () => {
  it('shows a short hash, with both full hashes behind a disclosure', async () => {
    const backend = new FakeBackend({ now: clock() });
    const todo = backend.seed(USER, 'Buy milk');
    backend.changeElsewhere(USER, todo.id, { title: 'Buy oat milk' });
    const [first, second] = backend.eventsOf(USER);
    const user = userEvent.setup();
    renderAt(itemHistoryPath(todo.id), backend);
    await screen.findByRole('heading', { level: 1, name: 'History of “Buy oat milk”' });

    const summary = within(entries()[1]).getByText(/^Hash/, { selector: 'summary' });
    expect(summary).toHaveTextContent(`Hash ${second.hash?.slice(0, 12)}…`);
    const details = summary.closest('details');
    expect(details).not.toHaveAttribute('open');
    await user.click(summary);
    expect(details).toHaveAttribute('open');
    expect(within(entries()[1]).getByText(second.hash ?? '')).toBeVisible();
    expect(within(entries()[1]).getByText(first.hash ?? '')).toBeVisible();
  });

  it('shows nothing for events written before hashing', async () => {
    const backend = new FakeBackend({ now: clock(), hashing: false });
    const todo = backend.seed(USER, 'Buy milk');
    renderAt(itemHistoryPath(todo.id), backend);
    await screen.findByRole('heading', { level: 1, name: 'History of “Buy milk”' });
    expect(entries()[0].querySelector('details')).toBeNull();
  });
});

describe('the whole list as of a moment', () => {
  /** Created at 09:01, renamed at 09:02 and 09:04, another added at 09:03 and completed at 09:05. */
  function editedList() {
    const backend = new FakeBackend({ now: clock() });
    const plan = backend.seed(USER, 'First draft');
    backend.changeElsewhere(USER, plan.id, { title: 'Second draft' });
    const walk = backend.seed(USER, 'Walk the dog');
    backend.changeElsewhere(USER, plan.id, { title: 'Final draft' });
    backend.changeElsewhere(USER, walk.id, { completed: true });
    return backend;
  }

  it('is chosen on the history page, shown read-only as the past, with one click back to now', async () => {
    const backend = editedList();
    const { user } = renderAt('/history', backend);
    await screen.findByRole('list', { name: 'Events' });

    const input = screen.getByLabelText('Show my list as of');
    expect(input).toHaveAttribute('type', 'datetime-local');
    expect(input).toHaveAttribute('step', '1');
    expect(input).toHaveAccessibleDescription(/In your local time/);
    const between = new Date(Date.parse('2025-11-25T09:03:30Z'));
    fireEvent.change(input, { target: { value: toDateTimeLocalValue(between) } });
    await user.click(screen.getByRole('button', { name: 'Show the list' }));

    const when = formatAbsolute('2025-11-25T09:03:30.000Z');
    expect(await screen.findByRole('heading', { level: 1, name: `Your list as it stood on ${when}` })).toHaveFocus();
    expect(window.location.pathname).toBe('/history/as-of/2025-11-25T09:03:30.000Z');
    const list = await screen.findByRole('list', { name: 'All to-dos then' });
    expect(within(list).getAllByRole('listitem').map((li) => li.querySelector('.todo-title')?.textContent)).toEqual([
      'Second draft',
      'Walk the dog',
    ]);
    expect(within(list).getAllByText('Not completed')).toHaveLength(2);
    expect(screen.getByRole('note')).toHaveTextContent('This is the past, shown read-only');
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Edit|Delete|Add/ })).not.toBeInTheDocument();
    expect(backend.requests.find((r) => r.path === '/item')?.search).toBe('?asOf=2025-11-25T09%3A03%3A30.000Z&status=all');

    // Each item leads to that version of it.
    expect(within(list).getByRole('link', { name: 'Details of “Second draft” then' })).toHaveAttribute(
      'href',
      `/item/${backend.todosOf(USER)[0].id}/version/2`,
    );

    await user.click(screen.getByRole('link', { name: 'Back to now' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Your to-dos' })).toBeInTheDocument();
    expect(await screen.findByRole('checkbox', { name: 'Final draft' })).toBeInTheDocument();
  });

  it('filters the past list like the present one', async () => {
    const backend = editedList();
    const { user } = renderAt('/history/as-of/2025-11-25T09:05:30Z', backend);
    await screen.findByRole('list', { name: 'All to-dos then' });
    expect(screen.getByRole('button', { name: 'Completed 1' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Completed 1' }));
    const list = screen.getByRole('list', { name: 'Completed to-dos then' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(1);
    expect(list).toHaveTextContent('Walk the dog');
    await user.click(screen.getByRole('button', { name: 'Active 1' }));
    expect(screen.getByRole('list', { name: 'Active to-dos then' })).toHaveTextContent('Final draft');
  });

  it('follows every page of the past list', async () => {
    const backend = new FakeBackend({ now: clock(), pageSize: 2 });
    for (let i = 1; i <= 5; i++) backend.seed(USER, `Item ${i}`);
    renderWithBackend(<ListAsOfPage asOf="2025-11-25T09:05:30Z" />, backend);
    const list = await screen.findByRole('list', { name: 'All to-dos then' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(5);
    const searches = backend.requests.filter((r) => r.path === '/item').map((r) => new URLSearchParams(r.search));
    expect(searches).toHaveLength(3);
    expect(searches.every((q) => q.get('asOf') === '2025-11-25T09:05:30Z')).toBe(true);
  });

  it('says the list was empty before anything happened', async () => {
    renderWithBackend(<ListAsOfPage asOf="2025-11-25T09:00:30Z" />, editedList());
    expect(await screen.findByText('Your list was empty then.')).toBeInTheDocument();
  });

  it('shows the server’s reason when it refuses the moment', async () => {
    renderWithBackend(<ListAsOfPage asOf="2999-01-01T00:00:00Z" />, editedList());
    expect(await screen.findByText(/^That moment cannot be shown: .*future/)).toBeInTheDocument();
    expect(screen.getByLabelText('Show my list as of')).toBeInTheDocument();
  });

  it('says so when the address holds no moment, without asking the server', async () => {
    const backend = editedList();
    renderAt('/history/as-of/not-a-time', backend);
    expect(h1()).toHaveTextContent('Your list in the past');
    expect(screen.getByText('That moment cannot be shown: “not-a-time” is not a date and time.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to now' })).toHaveAttribute('href', '/');
    expect(backend.requests.filter((r) => r.path === '/item')).toHaveLength(0);
  });

  it('checks the moment before asking for it', async () => {
    const { user } = renderAt('/history', editedList());
    await screen.findByRole('list', { name: 'Events' });
    const input = screen.getByLabelText('Show my list as of');
    const show = screen.getByRole('button', { name: 'Show the list' });

    fireEvent.change(input, { target: { value: '' } });
    await user.click(show);
    expect(screen.getByText('Enter a date and a time.')).toBeInTheDocument();
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input).toHaveAccessibleDescription(/Enter a date and a time\./);
    expect(input).toHaveFocus();

    fireEvent.change(input, { target: { value: toDateTimeLocalValue(new Date(Date.now() + 86_400_000)) } });
    await user.click(show);
    expect(screen.getByText('Choose a moment in the past.')).toBeInTheDocument();
    expect(window.location.pathname).toBe('/history');
    await waitFor(() => expect(input).toHaveFocus());
  });
});
