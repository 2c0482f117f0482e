import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveClient } from '../api/live';
import { FakeBackend, tokenFor } from '../testing/fakeBackend';
import { FakeLiveServer } from '../testing/fakeLive';
import { liveSession, renderWithBackend, USER } from '../testing/render';
import { LiveContext } from './LiveContext';
import { INDICATOR_GRACE_MS, LiveIndicator } from './LiveIndicator';
import { TodoPage } from './TodoPage';

function seeded() {
  const backend = new FakeBackend();
  backend.seed(USER, 'Buy milk', { notes: '2 litres' });
  backend.seed(USER, 'Walk the dog', { completed: true });
  backend.seed(USER, 'Write report');
  return backend;
}

async function renderLivePage(backend = seeded()) {
  const session = liveSession(backend);
  const result = renderWithBackend(<TodoPage />, backend, USER, session.live);
  await screen.findByRole('checkbox', { name: 'Buy milk' });
  await waitFor(() => expect(session.server.open()).toHaveLength(1));
  // The socket opened after the list was read: the list reads once more, then it is in step.
  await waitFor(() => expect(listReads(backend)).toBe(2));
  return { ...result, ...session, user: userEvent.setup() };
}

const listReads = (backend: FakeBackend) => backend.requests.filter((r) => r.method === 'GET' && r.path === '/item').length;
const list = () => screen.getByRole('list', { name: /to-dos$/ });
const titles = () => within(list()).queryAllByRole('checkbox').map((box) => box.closest('li')?.querySelector('label')?.textContent);
const filterButton = (name: RegExp) => screen.getByRole('button', { name });
const idOf = (backend: FakeBackend, title: string) => backend.todosOf(USER).find((t) => t.title === title)?.id ?? '';

describe('TodoPage: live updates', () => {
  it('shows changes made elsewhere as they are pushed: created, edited, completed, reopened, deleted', async () => {
    const { backend } = await renderLivePage();
    const reads = listReads(backend);

    act(() => void backend.seed(USER, 'Call mum'));
    expect(titles()).toEqual(['Buy milk', 'Walk the dog', 'Write report', 'Call mum']);
    expect(filterButton(/^All 4$/)).toBeInTheDocument();

    act(() => void backend.changeElsewhere(USER, idOf(backend, 'Buy milk'), { title: 'Buy oat milk', notes: 'Barista' }));
    expect(screen.getByRole('checkbox', { name: 'Buy oat milk' })).toBeInTheDocument();
    expect(screen.getByText('Barista')).toBeInTheDocument();

    act(() => void backend.changeElsewhere(USER, idOf(backend, 'Write report'), { completed: true }));
    expect(screen.getByRole('checkbox', { name: 'Write report' })).toBeChecked();
    act(() => void backend.changeElsewhere(USER, idOf(backend, 'Walk the dog'), { completed: false }));
    expect(screen.getByRole('checkbox', { name: 'Walk the dog' })).not.toBeChecked();
    expect(filterButton(/^Completed 1$/)).toBeInTheDocument();

    const id = idOf(backend, 'Call mum');
    act(() => backend.deleteElsewhere(USER, id));
    expect(screen.queryByRole('checkbox', { name: 'Call mum' })).not.toBeInTheDocument();
    expect(screen.getByText(/This item was deleted elsewhere: “Call mum”/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'View its history' })).toHaveAttribute('href', `/item/${id}/history`);

    // Every push applied in place: no re-read.
    expect(listReads(backend)).toBe(reads);
    await waitFor(() => expect(screen.getAllByRole('status').some((s) => /was deleted elsewhere|reopened elsewhere/.test(s.textContent ?? ''))).toBe(true));
  });

  it('respects the filter the list is showing', async () => {
    const { backend, user } = await renderLivePage();
    await user.click(filterButton(/^Active/));
    expect(titles()).toEqual(['Buy milk', 'Write report']);

    act(() => void backend.changeElsewhere(USER, idOf(backend, 'Buy milk'), { completed: true }));
    expect(titles()).toEqual(['Write report']);
    act(() => void backend.seed(USER, 'New and active'));
    expect(titles()).toEqual(['Write report', 'New and active']);

    await user.click(filterButton(/^Completed/));
    act(() => void backend.seed(USER, 'Not for this view'));
    expect(titles()).toEqual(['Buy milk', 'Walk the dog']);
    expect(filterButton(/^Completed 2$/)).toBeInTheDocument();
  });

  it('shows the page’s own changes once, however the push and the answer cross', async () => {
    const { backend, user } = await renderLivePage();
    const form = screen.getByRole('form', { name: 'Add a to-do' });
    await user.type(within(form).getByLabelText('Title'), 'Mine');
    await user.click(within(form).getByRole('button', { name: 'Add' }));
    await waitFor(() => expect(backend.todosOf(USER)).toHaveLength(4));
    await user.click(screen.getByRole('checkbox', { name: 'Mine' }));
    await waitFor(() => expect(backend.todosOf(USER)[3].completed).toBe(true));
    await waitFor(() => expect(screen.getByRole('checkbox', { name: 'Mine' }).closest('li')).not.toHaveAttribute('aria-busy'));
    expect(titles()).toEqual(['Buy milk', 'Walk the dog', 'Write report', 'Mine']);
    expect(screen.getByRole('checkbox', { name: 'Mine' })).toBeChecked();
    expect(screen.queryByText(/elsewhere/)).not.toBeInTheDocument();
  });

  it('another user’s changes never show', async () => {
    const { backend } = await renderLivePage();
    act(() => void backend.seed('bob', 'Bob’s secret'));
    expect(screen.queryByText('Bob’s secret')).not.toBeInTheDocument();
    expect(filterButton(/^All 3$/)).toBeInTheDocument();
  });

  it('re-reads the list on a version gap', async () => {
    const { backend, server } = await renderLivePage();
    const id = idOf(backend, 'Write report');
    // Two changes the socket never delivered, then one it did.
    server.feedFrom(new FakeBackend());
    backend.changeElsewhere(USER, idOf(backend, 'Buy milk'), { title: 'Missed change' });
    backend.changeElsewhere(USER, id, { title: 'Missed too' });
    const latest = backend.changeElsewhere(USER, id, { title: 'Third version' });
    act(() => server.latest.send({ type: 'todo', change: 'updated', todo: latest, id, version: latest.version }));

    expect(screen.getByRole('checkbox', { name: 'Third version' })).toBeInTheDocument();
    expect(await screen.findByRole('checkbox', { name: 'Missed change' })).toBeInTheDocument();
    expect(listReads(backend)).toBe(3);
  });

  it('re-reads the list when the server says it fell behind', async () => {
    const { backend, server } = await renderLivePage();
    server.feedFrom(new FakeBackend());
    backend.seed(USER, 'Dropped push');
    act(() => server.latest.send({ type: 'reread' }));
    expect(await screen.findByRole('checkbox', { name: 'Dropped push' })).toBeInTheDocument();
    expect(listReads(backend)).toBe(3);
  });

  it('reconnects after a drop and re-reads what it missed meanwhile', async () => {
    const { backend, server } = await renderLivePage();
    const first = server.latest;
    act(() => first.drop());
    backend.seed(USER, 'While offline');
    expect(screen.queryByRole('checkbox', { name: 'While offline' })).not.toBeInTheDocument();
    expect(await screen.findByRole('checkbox', { name: 'While offline' })).toBeInTheDocument();
    expect(server.latest).not.toBe(first);
    expect(listReads(backend)).toBe(3);

    // And the new connection delivers pushes.
    act(() => void backend.seed(USER, 'After reconnecting'));
    expect(screen.getByRole('checkbox', { name: 'After reconnecting' })).toBeInTheDocument();
  });

  it('reads the list once when the socket was already open', async () => {
    const backend = seeded();
    const session = liveSession(backend);
    await waitFor(() => expect(session.server.open()).toHaveLength(1));
    renderWithBackend(<TodoPage />, backend, USER, session.live);
    await screen.findByRole('checkbox', { name: 'Buy milk' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(listReads(backend)).toBe(1);
  });

  it('keeps working without a connection', async () => {
    const backend = seeded();
    const session = liveSession(backend, USER, { autoOpen: false });
    renderWithBackend(<TodoPage />, backend, USER, session.live);
    await screen.findByRole('checkbox', { name: 'Buy milk' });
    await waitFor(() => expect(session.server.sockets.length).toBeGreaterThan(0));
    act(() => session.server.latest.drop());
    const user = userEvent.setup();
    await user.click(screen.getByRole('checkbox', { name: 'Write report' }));
    await waitFor(() => expect(backend.todosOf(USER)[2].completed).toBe(true));
    expect(listReads(backend)).toBe(1);
  });

  it('moves focus on when a push takes away the focused item', async () => {
    const { backend } = await renderLivePage();
    screen.getByRole('checkbox', { name: 'Walk the dog' }).focus();
    act(() => backend.deleteElsewhere(USER, idOf(backend, 'Walk the dog')));
    expect(screen.getByRole('checkbox', { name: 'Write report' })).toHaveFocus();
  });
});

describe('TodoPage: an open editor and a change made elsewhere', () => {
  it('keeps what the user typed, says the todo changed (with its version), and offers to load it', async () => {
    const { backend, user } = await renderLivePage();
    await user.click(screen.getByRole('button', { name: 'Edit “Buy milk”' }));
    const editor = screen.getByRole('form', { name: 'Edit “Buy milk”' });
    const title = within(editor).getByLabelText('Title');
    await user.clear(title);
    await user.type(title, 'Buy bread');

    act(() => void backend.changeElsewhere(USER, idOf(backend, 'Buy milk'), { title: 'Buy milk and eggs' }));
    expect(title).toHaveValue('Buy bread');
    expect(title).toHaveFocus();
    const notice = within(editor).getByRole('status');
    expect(notice).toHaveTextContent('Changed elsewhere while you were editing: this to-do is now version 2, “Buy milk and eggs”.');

    await user.click(within(editor).getByRole('button', { name: 'Load version 2' }));
    expect(title).toHaveValue('Buy milk and eggs');
    expect(title).toHaveFocus();
    expect(within(editor).getByRole('status')).toBeEmptyDOMElement();
  });

  it('saves only the fields the user changed, on top of the change made elsewhere', async () => {
    const { backend, user } = await renderLivePage();
    const id = idOf(backend, 'Buy milk');
    await user.click(screen.getByRole('button', { name: 'Edit “Buy milk”' }));
    const editor = screen.getByRole('form', { name: 'Edit “Buy milk”' });
    await user.clear(within(editor).getByLabelText('Notes'));
    await user.type(within(editor).getByLabelText('Notes'), '1 litre');
    act(() => void backend.changeElsewhere(USER, id, { title: 'Buy milk and eggs' }));
    await user.click(within(editor).getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(backend.todosOf(USER)[0]).toMatchObject({ title: 'Buy milk and eggs', notes: '1 litre', version: 3 }));
    const put = backend.requests.find((r) => r.method === 'PUT');
    expect(put?.body).toEqual({ notes: '1 litre' });
    expect(put?.headers['if-match']).toBe('"2"');
    expect(await screen.findByRole('checkbox', { name: 'Buy milk and eggs' })).toBeInTheDocument();
  });
});

describe('LiveIndicator', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function renderIndicator() {
    const server = new FakeLiveServer();
    const live = new LiveClient({ url: 'ws://api.test/live', getIdToken: async () => tokenFor(USER), createSocket: server.connect, random: () => 0 });
    render(
      <LiveContext.Provider value={live}>
        <LiveIndicator />
      </LiveContext.Provider>,
    );
    return { server, live };
  }

  it('says “Live” at once, and “Reconnecting…” only when a reconnect takes a while', async () => {
    vi.useFakeTimers();
    const { server, live } = renderIndicator();
    const indicator = screen.getByRole('status');
    expect(indicator).toHaveAttribute('aria-live', 'polite');
    expect(indicator).toBeEmptyDOMElement();
    await act(async () => {
      live.start();
      await vi.advanceTimersByTimeAsync(0);
    });
    act(() => server.latest.open());
    expect(indicator).toHaveTextContent(/^Live$/);

    // A quick reconnect (a renewal, a "re-read") changes nothing on screen.
    await act(async () => {
      server.latest.drop();
      await vi.advanceTimersByTimeAsync(500);
    });
    act(() => server.latest.open());
    expect(indicator).toHaveTextContent(/^Live$/);

    await act(async () => {
      server.latest.drop();
      await vi.advanceTimersByTimeAsync(INDICATOR_GRACE_MS - 100);
    });
    expect(indicator).toHaveTextContent(/^Live$/);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(100);
    });
    expect(indicator).toHaveTextContent(/^Reconnecting…$/);

    act(() => live.stop());
    expect(indicator).toBeEmptyDOMElement();
  });

  it('shows nothing without live updates', () => {
    const { container } = render(<LiveIndicator />);
    expect(container).toBeEmptyDOMElement();
  });
});
