import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeBackend } from '../testing/fakeBackend';
import { renderWithBackend, USER } from '../testing/render';
import { TodoPage } from './TodoPage';

function seeded() {
  const backend = new FakeBackend();
  backend.seed(USER, 'Buy milk', { notes: '2 litres' });
  backend.seed(USER, 'Walk the dog', { completed: true });
  backend.seed(USER, 'Write report');
  return backend;
}

async function renderPage(backend = seeded(), firstTitle = 'Buy milk') {
  const result = renderWithBackend(<TodoPage />, backend);
  await screen.findByRole('checkbox', { name: firstTitle });
  return { ...result, user: userEvent.setup() };
}

const list = () => screen.getByRole('list', { name: /to-dos$/ });
const titles = () => within(list()).queryAllByRole('checkbox').map((box) => box.getAttribute('id') && box.closest('li')?.querySelector('label')?.textContent);
const filterButton = (name: RegExp) => screen.getByRole('button', { name });

describe('TodoPage: the list', () => {
  it('shows every item with the counts of each filter, and filters', async () => {
    const { user } = await renderPage();
    expect(titles()).toEqual(['Buy milk', 'Walk the dog', 'Write report']);
    expect(filterButton(/^All 3$/)).toHaveAttribute('aria-pressed', 'true');
    expect(filterButton(/^Active 2$/)).toHaveAttribute('aria-pressed', 'false');
    expect(filterButton(/^Completed 1$/)).toBeInTheDocument();
    expect(screen.getByText('2 litres')).toBeInTheDocument();

    await user.click(filterButton(/^Active/));
    expect(titles()).toEqual(['Buy milk', 'Write report']);
    expect(filterButton(/^Active/)).toHaveAttribute('aria-pressed', 'true');

    await user.click(filterButton(/^Completed/));
    expect(titles()).toEqual(['Walk the dog']);
    expect(screen.getByRole('checkbox', { name: 'Walk the dog' })).toBeChecked();
  });

  it('loads every page of a long list', async () => {
    const backend = new FakeBackend({ pageSize: 2 });
    for (let i = 1; i <= 5; i++) backend.seed(USER, `Item ${i}`);
    await renderPage(backend, 'Item 5');
    expect(filterButton(/^All 5$/)).toBeInTheDocument();
    expect(backend.requests.filter((r) => r.path === '/item' && r.method === 'GET')).toHaveLength(3);
  });

  it('shows a load failure in the alert region and retries on request', async () => {
    const backend = seeded();
    backend.failNext('GET', /^\/item$/, { kind: 'status', status: 503 });
    const user = userEvent.setup();
    renderWithBackend(<TodoPage />, backend);
    expect(await screen.findByText(/Loading your to-dos failed: the server had a problem \(HTTP 503\)/)).toBeInTheDocument();
    expect(screen.getAllByRole('alert')[0]).toHaveTextContent('HTTP 503');
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('checkbox', { name: 'Buy milk' })).toBeInTheDocument();
  });

  it('completes and reopens with the checkbox, sending If-Match with the current version', async () => {
    const { user, backend } = await renderPage();
    const box = screen.getByRole('checkbox', { name: 'Buy milk' });
    await user.click(box);
    expect(box).toBeChecked(); // optimistic
    await waitFor(() => expect(backend.todosOf(USER)[0].completed).toBe(true));
    expect(filterButton(/^Completed 2$/)).toBeInTheDocument();
    const done = backend.requests.find((r) => r.method === 'POST' && r.path.endsWith('/done'));
    expect(done?.headers['if-match']).toBe('"1"');

    await waitFor(() => expect(box.closest('li')).not.toHaveAttribute('aria-busy'));
    await user.click(box);
    await waitFor(() => expect(backend.todosOf(USER)[0].completed).toBe(false));
    const reopen = backend.requests.find((r) => r.method === 'PUT');
    expect(reopen?.body).toEqual({ completed: false });
    expect(reopen?.headers['if-match']).toBe('"2"');
    expect(box).not.toBeChecked();
  });
});

describe('TodoPage: adding', () => {
  it('adds with a client-generated id, optimistically, and is ready for the next one', async () => {
    const { user, backend } = await renderPage();
    const form = screen.getByRole('form', { name: 'Add a to-do' });
    await user.type(within(form).getByLabelText('Title'), 'Call mum');
    await user.type(within(form).getByLabelText('Notes (optional)'), 'Sunday');
    await user.click(within(form).getByRole('button', { name: 'Add' }));

    expect(screen.getByRole('checkbox', { name: 'Call mum' })).toBeInTheDocument();
    expect(within(form).getByLabelText('Title')).toHaveValue('');
    expect(within(form).getByLabelText('Title')).toHaveFocus();
    await waitFor(() => expect(backend.todosOf(USER).map((t) => t.title)).toContain('Call mum'));
    const post = backend.requests.find((r) => r.method === 'POST' && r.path === '/item');
    expect(post?.body).toMatchObject({ title: 'Call mum', notes: 'Sunday' });
    expect((post?.body as { id: string }).id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(filterButton(/^All 4$/)).toBeInTheDocument();
  });

  it('validates in the form with visible messages and sends nothing', async () => {
    const { user, backend } = await renderPage();
    const form = screen.getByRole('form', { name: 'Add a to-do' });
    const title = within(form).getByLabelText('Title');
    await user.click(within(form).getByRole('button', { name: 'Add' }));
    expect(within(form).getByText('Enter a title.')).toBeVisible();
    expect(title).toHaveAttribute('aria-invalid', 'true');
    expect(title).toHaveAccessibleDescription(/Enter a title\./);
    expect(title).toHaveFocus();

    await user.click(title);
    await user.paste('x'.repeat(201));
    expect(within(form).getByText(/The title is 201 characters long; the limit is 200\./)).toBeVisible();
    const notes = within(form).getByLabelText('Notes (optional)');
    await user.click(notes);
    await user.paste('n'.repeat(2001));
    expect(within(form).getByText(/The notes are 2001 characters long; the limit is 2000\./)).toBeVisible();
    await user.click(within(form).getByRole('button', { name: 'Add' }));
    expect(backend.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('keeps an item that could not be sent, says so, and retries with the same id', async () => {
    const { user, backend } = await renderPage();
    backend.failNext('POST', /^\/item$/, { kind: 'network' });
    const form = screen.getByRole('form', { name: 'Add a to-do' });
    await user.type(within(form).getByLabelText('Title'), 'Pay rent');
    await user.click(within(form).getByRole('button', { name: 'Add' }));

    expect(await screen.findByText(/Adding “Pay rent” failed: could not reach the server/)).toBeInTheDocument();
    const item = screen.getByRole('checkbox', { name: 'Pay rent' }).closest('li') as HTMLElement;
    expect(within(item).getByText('Not saved')).toBeInTheDocument();
    await user.click(within(item).getByRole('button', { name: 'Retry saving “Pay rent”' }));
    await waitFor(() => expect(within(item).queryByText('Not saved')).not.toBeInTheDocument());
    const posts = backend.requests.filter((r) => r.method === 'POST' && r.path === '/item');
    expect(posts).toHaveLength(2);
    expect((posts[0].body as { id: string }).id).toBe((posts[1].body as { id: string }).id);
  });

  it('takes a 409 on a retried create as "already stored" when the item is there', async () => {
    const { user, backend } = await renderPage();
    backend.failNext('POST', /^\/item$/, { kind: 'network' });
    const form = screen.getByRole('form', { name: 'Add a to-do' });
    await user.type(within(form).getByLabelText('Title'), 'Pay rent');
    await user.click(within(form).getByRole('button', { name: 'Add' }));
    const item = (await screen.findByText('Not saved')).closest('li') as HTMLElement;
    // The first attempt did reach the server after all; this server answers a repeated id with 409.
    const id = (backend.requests.find((r) => r.method === 'POST')?.body as { id: string }).id;
    await backend.fetch(`http://api.test/api/item`, {
      method: 'POST',
      headers: { Authorization: `Bearer token-${USER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id, title: 'Pay rent' }),
    });
    backend.failNext('POST', /^\/item$/, { kind: 'status', status: 409, code: 'conflict', message: 'That id exists.' });
    await user.click(within(item).getByRole('button', { name: 'Retry saving “Pay rent”' }));
    await waitFor(() => expect(within(item).queryByText('Not saved')).not.toBeInTheDocument());
    expect(screen.queryByText(/That id exists/)).not.toBeInTheDocument();
    expect(backend.todosOf(USER).filter((t) => t.title === 'Pay rent')).toHaveLength(1);
  });

  it('gives the text back when the server rejects it', async () => {
    const { user, backend } = await renderPage();
    backend.failNext('POST', /^\/item$/, { kind: 'status', status: 400, code: 'invalid_title', message: 'The title is not allowed.' });
    const form = screen.getByRole('form', { name: 'Add a to-do' });
    await user.type(within(form).getByLabelText('Title'), 'Bad one');
    await user.click(within(form).getByRole('button', { name: 'Add' }));
    expect(await screen.findByText('Adding “Bad one” failed: The title is not allowed. (reference req-' , { exact: false })).toBeInTheDocument();
    await waitFor(() => expect(within(form).getByLabelText('Title')).toHaveValue('Bad one'));
    expect(screen.queryByRole('checkbox', { name: 'Bad one' })).not.toBeInTheDocument();
  });
});

describe('TodoPage: editing', () => {
  it('edits title and notes in place, sending only what changed', async () => {
    const { user, backend } = await renderPage();
    await user.click(screen.getByRole('button', { name: 'Edit “Buy milk”' }));
    const editor = screen.getByRole('form', { name: 'Edit “Buy milk”' });
    const title = within(editor).getByLabelText('Title');
    expect(title).toHaveFocus();
    await user.clear(title);
    await user.type(title, 'Buy oat milk');
    await user.clear(within(editor).getByLabelText('Notes'));
    await user.click(within(editor).getByRole('button', { name: 'Save' }));

    expect(screen.getByRole('checkbox', { name: 'Buy oat milk' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Edit “Buy oat milk”' })).toHaveFocus();
    await waitFor(() => expect(backend.todosOf(USER)[0]).toMatchObject({ title: 'Buy oat milk', version: 2 }));
    expect(backend.todosOf(USER)[0].notes).toBeUndefined();
    const put = backend.requests.find((r) => r.method === 'PUT');
    expect(put?.body).toEqual({ title: 'Buy oat milk', notes: '' });
    expect(put?.headers['if-match']).toBe('"1"');
  });

  it('validates the edit, and Escape cancels it', async () => {
    const { user, backend } = await renderPage();
    await user.click(screen.getByRole('button', { name: 'Edit “Write report”' }));
    const editor = screen.getByRole('form', { name: 'Edit “Write report”' });
    await user.clear(within(editor).getByLabelText('Title'));
    await user.click(within(editor).getByRole('button', { name: 'Save' }));
    expect(within(editor).getByText('Enter a title.')).toBeVisible();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('form', { name: 'Edit “Write report”' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Edit “Write report”' })).toHaveFocus();
    expect(backend.requests.some((r) => r.method === 'PUT')).toBe(false);
  });

  it('on a conflict, says the item changed elsewhere and shows its current state', async () => {
    const { user, backend } = await renderPage();
    const id = backend.todosOf(USER)[0].id;
    backend.changeElsewhere(USER, id, { title: 'Buy milk and eggs', notes: 'from the other tab' });

    await user.click(screen.getByRole('button', { name: 'Edit “Buy milk”' }));
    const editor = screen.getByRole('form', { name: 'Edit “Buy milk”' });
    await user.clear(within(editor).getByLabelText('Title'));
    await user.type(within(editor).getByLabelText('Title'), 'Buy bread');
    await user.click(within(editor).getByRole('button', { name: 'Save' }));

    const item = (await screen.findByRole('checkbox', { name: 'Buy milk and eggs' })).closest('li') as HTMLElement;
    expect(within(item).getByRole('alert')).toHaveTextContent(
      'Your edit of “Buy milk” was not saved. This item was changed elsewhere (in another tab or on another device). This is its latest version.',
    );
    expect(within(item).getByText('from the other tab')).toBeInTheDocument();
    expect(screen.queryByRole('checkbox', { name: 'Buy bread' })).not.toBeInTheDocument();
    expect(backend.requests.find((r) => r.method === 'PUT')?.headers['if-match']).toBe('"1"');
    expect(backend.requests.some((r) => r.method === 'GET' && r.path === `/item/${id}`)).toBe(true);

    // The next change uses the version it was shown.
    await user.click(screen.getByRole('checkbox', { name: 'Buy milk and eggs' }));
    await waitFor(() => expect(backend.todosOf(USER)[0].completed).toBe(true));
  });

  it('reopens the editor with the text when saving fails for another reason', async () => {
    const { user, backend } = await renderPage();
    backend.failNext('PUT', /^\/item\//, { kind: 'status', status: 500 });
    await user.click(screen.getByRole('button', { name: 'Edit “Write report”' }));
    const editor = screen.getByRole('form', { name: 'Edit “Write report”' });
    await user.type(within(editor).getByLabelText('Title'), ' now');
    await user.click(within(editor).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/Your edit of “Write report” failed: the server had a problem \(HTTP 500\)/)).toBeInTheDocument();
    const reopened = await screen.findByRole('form', { name: 'Edit “Write report”' });
    expect(within(reopened).getByLabelText('Title')).toHaveValue('Write report now');
  });
});

describe('TodoPage: deleting', () => {
  it('asks for confirmation; Cancel keeps the item and returns focus', async () => {
    const { user, backend } = await renderPage();
    const deleteButton = screen.getByRole('button', { name: 'Delete “Buy milk”' });
    await user.click(deleteButton);
    const dialog = screen.getByRole('alertdialog', { name: 'Delete this to-do?' });
    expect(dialog).toHaveAccessibleDescription(/“Buy milk” will be removed/);
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(deleteButton).toHaveFocus();
    expect(backend.requests.some((r) => r.method === 'DELETE')).toBe(false);

    await user.click(deleteButton);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
  });

  it('keeps Tab inside the dialog', async () => {
    const { user } = await renderPage();
    await user.click(screen.getByRole('button', { name: 'Delete “Buy milk”' }));
    const dialog = screen.getByRole('alertdialog');
    await user.tab();
    expect(within(dialog).getByRole('button', { name: 'Delete' })).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
  });

  it('deletes on confirmation, moves focus to the next item and links to the history', async () => {
    const { user, backend } = await renderPage();
    const id = backend.todosOf(USER)[0].id;
    await user.click(screen.getByRole('button', { name: 'Delete “Buy milk”' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete' }));

    expect(screen.queryByRole('checkbox', { name: 'Buy milk' })).not.toBeInTheDocument();
    expect(screen.getByRole('checkbox', { name: 'Walk the dog' })).toHaveFocus();
    await waitFor(() => expect(backend.todosOf(USER)).toHaveLength(2));
    expect(backend.requests.find((r) => r.method === 'DELETE')?.headers['if-match']).toBe('"1"');
    const link = await screen.findByRole('link', { name: 'View its history' });
    expect(link).toHaveAttribute('href', `/item/${id}/history`);
    expect(filterButton(/^All 2$/)).toBeInTheDocument();
  });

  it('does not delete an item that changed elsewhere, and shows its latest version', async () => {
    const { user, backend } = await renderPage();
    const id = backend.todosOf(USER)[2].id;
    backend.changeElsewhere(USER, id, { title: 'Write the final report' });
    await user.click(screen.getByRole('button', { name: 'Delete “Write report”' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete' }));

    const item = (await screen.findByRole('checkbox', { name: 'Write the final report' })).closest('li') as HTMLElement;
    expect(within(item).getByRole('alert')).toHaveTextContent(/It was not deleted\. This item was changed elsewhere/);
    expect(backend.todosOf(USER)).toHaveLength(3);
  });

  it('focuses the heading when the last item goes', async () => {
    const backend = new FakeBackend();
    backend.seed(USER, 'Only one');
    const { user } = await renderPage(backend, 'Only one');
    await user.click(screen.getByRole('button', { name: 'Delete “Only one”' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Your to-dos' })).toHaveFocus();
    expect(await screen.findByText('Nothing to do yet. Add your first to-do above.')).toBeInTheDocument();
  });
});
