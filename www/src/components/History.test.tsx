import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeBackend } from '../testing/fakeBackend';
import { renderWithBackend, USER } from '../testing/render';
import { ItemHistoryPage } from './ItemHistoryPage';
import { UserHistoryPage } from './UserHistoryPage';

function clock(start = Date.parse('2025-11-25T09:00:00Z')) {
  let t = start;
  return () => {
    t += 60_000;
    return new Date(t);
  };
}

function itemWithAFullLife(backend: FakeBackend) {
  const todo = backend.seed(USER, 'Buy milk', { notes: '2 litres' });
  backend.changeElsewhere(USER, todo.id, { title: 'Buy oat milk' });
  backend.changeElsewhere(USER, todo.id, { completed: true });
  backend.changeElsewhere(USER, todo.id, { completed: false });
  backend.changeElsewhere(USER, todo.id, { notes: '' });
  backend.deleteElsewhere(USER, todo.id);
  return todo;
}

describe('ItemHistoryPage', () => {
  it('renders a readable timeline of every event, also for a deleted item', async () => {
    const backend = new FakeBackend({ now: clock() });
    const todo = itemWithAFullLife(backend);
    renderWithBackend(<ItemHistoryPage id={todo.id} />, backend);

    expect(await screen.findByRole('heading', { level: 1, name: 'History of “Buy oat milk”' })).toBeInTheDocument();
    expect(screen.getByText(/6 events/)).toBeInTheDocument();
    expect(screen.getByText('This item has been deleted.')).toBeInTheDocument();

    const entries = within(screen.getByRole('list', { name: 'Events' }))
      .getAllByRole('listitem')
      .filter((li) => li.classList.contains('timeline-entry'));
    expect(entries.map((li) => li.querySelector('.badge')?.textContent)).toEqual([
      'Created',
      'Edited',
      'Completed',
      'Reopened',
      'Edited',
      'Deleted',
    ]);
    expect(entries[0]).toHaveTextContent('Title: “Buy milk”');
    expect(entries[0]).toHaveTextContent('Notes: “2 litres”');
    expect(entries[1]).toHaveTextContent('Title changed from “Buy milk” to “Buy oat milk”');
    expect(entries[4]).toHaveTextContent('Notes cleared (were “2 litres”)');
    expect(entries[5]).toHaveTextContent('version 6');

    // When: relative and absolute, machine-readable too.
    const time = entries[0].querySelector('time');
    expect(time).toHaveAttribute('dateTime', '2025-11-25T09:01:00.000Z');
    expect(time?.textContent).toMatch(/ago|yesterday|last|year|month|week|day/);
    expect(entries[0].querySelector('.timestamp-absolute')?.textContent).toMatch(/2025/);
  });

  it('says so when there is no such item', async () => {
    renderWithBackend(<ItemHistoryPage id="0190a5c2-0000-7000-8000-00000000dead" />);
    expect(await screen.findByText(/There is no history for this item/)).toBeInTheDocument();
  });

  it('shows a server error in an alert with a retry', async () => {
    const backend = new FakeBackend();
    const todo = backend.seed(USER, 'Buy milk');
    backend.failNext('GET', /\/history$/, { kind: 'status', status: 500 });
    renderWithBackend(<ItemHistoryPage id={todo.id} />, backend);
    expect(await screen.findByText(/Loading this history failed: the server had a problem \(HTTP 500\)/)).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'History of “Buy milk”' })).toBeInTheDocument();
  });
});

describe('UserHistoryPage', () => {
  it('lists all the user\'s events in time order, a page at a time', async () => {
    const backend = new FakeBackend({ now: clock() });
    const milk = backend.seed(USER, 'Buy milk');
    backend.seed(USER, 'Walk the dog', { completed: true });
    backend.changeElsewhere(USER, milk.id, { title: 'Buy oat milk' });
    backend.deleteElsewhere(USER, milk.id);
    for (let i = 0; i < 48; i++) backend.seed(USER, `Filler ${i}`);
    backend.seed('bob', "Bob's secret");

    renderWithBackend(<UserHistoryPage />, backend);
    const timeline = await screen.findByRole('list', { name: 'Events' });
    const entries = () => within(timeline).getAllByRole('listitem').filter((li) => li.classList.contains('timeline-entry'));
    expect(entries()).toHaveLength(50);
    expect(entries()[0]).toHaveTextContent('Created');
    expect(within(entries()[0]).getByRole('link', { name: 'Buy milk' })).toHaveAttribute('href', `/item/${milk.id}/history`);
    expect(entries()[3]).toHaveTextContent('Title changed from “Buy milk” to “Buy oat milk”');
    expect(entries()[4]).toHaveTextContent('Deleted');
    expect(within(entries()[4]).getByRole('link', { name: 'Buy oat milk' })).toBeInTheDocument();
    expect(screen.queryByText(/Bob's secret/)).not.toBeInTheDocument();
    expect(backend.requests[0].search).toBe('?limit=50');

    await userEvent.setup().click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(entries()).toHaveLength(53));
    expect(entries()[50]).toHaveFocus();
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });
});
