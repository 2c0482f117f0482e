import { act, fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COGNITO_ENDPOINT, renderAccountPage } from '../testing/account';
import { captureDownloads } from '../testing/downloads';
import { FakeBackend } from '../testing/fakeBackend';
import { USER } from '../testing/render';

function seeded(options: ConstructorParameters<typeof FakeBackend>[0] = {}): FakeBackend {
  const backend = new FakeBackend({ cognitoEndpoint: COGNITO_ENDPOINT, ...options });
  const milk = backend.seed(USER, 'Buy milk');
  backend.changeElsewhere(USER, milk.id, { title: 'Buy oat milk' });
  backend.seed(USER, 'Call mum', { completed: true });
  backend.seed('bob', "Bob's list stays");
  return backend;
}

const opener = () => screen.getByRole('button', { name: 'Delete my account…' });
const dialog = () => screen.getByRole('alertdialog', { name: 'Delete your account for good?' });
/** The role=alert element that says `text` (the app's alert region is one too, and empty). */
async function alertSaying(text: RegExp, timeout = 1_000): Promise<HTMLElement> {
  const found = await screen.findByText(text, {}, { timeout });
  const alert = found.closest<HTMLElement>('[role="alert"]');
  if (!alert) throw new Error(`"${found.textContent}" is not in an alert`);
  return alert;
}

const accountRequests = (backend: FakeBackend) => backend.requests.filter((r) => r.path === '/account');

describe('Delete my account', () => {
  let downloads: ReturnType<typeof captureDownloads>;
  beforeEach(() => {
    downloads = captureDownloads();
  });
  afterEach(() => {
    downloads.restore();
    vi.useRealTimers();
  });

  it('asks first, naming everything that will be lost, with Cancel focused', async () => {
    const user = userEvent.setup();
    renderAccountPage(seeded());

    await user.click(opener());
    const confirm = dialog();
    expect(confirm).toHaveAttribute('aria-modal', 'true');
    expect(within(confirm).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    const lost = within(confirm)
      .getAllByRole('listitem')
      .map((item) => item.textContent);
    expect(lost).toEqual([
      'every to-do you have, open, completed or deleted;',
      'the whole history of each one, every change you ever made;',
      'your stats;',
      'your sign-in: you will not be able to sign in with it again.',
    ]);
    expect(confirm).toHaveTextContent('It cannot be undone.');
    expect(confirm).toHaveAccessibleDescription(/every to-do you have.*your sign-in.*It cannot be undone/);
  });

  it('changes nothing when cancelled (button or Escape), and gives focus back', async () => {
    const backend = seeded();
    const user = userEvent.setup();
    const { forgetUser } = renderAccountPage(backend);

    await user.click(opener());
    await user.click(within(dialog()).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(opener()).toHaveFocus();

    await user.click(opener());
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(opener()).toHaveFocus();

    expect(accountRequests(backend)).toHaveLength(0);
    expect(backend.cognitoRequests).toHaveLength(0);
    expect(backend.todosOf(USER).map((todo) => todo.title)).toEqual(['Buy oat milk', 'Call mum']);
    expect(backend.hasSignIn(USER)).toBe(true);
    expect(forgetUser).not.toHaveBeenCalled();
    expect(within(screen.getByRole('region', { name: 'Delete my account' })).getByRole('status')).toBeEmptyDOMElement();
  });

  it('offers "Download my data" in the confirmation: the same export, and the dialog stays', async () => {
    const backend = seeded();
    const user = userEvent.setup();
    renderAccountPage(backend);

    await user.click(opener());
    await user.click(within(dialog()).getByRole('button', { name: 'Download my data' }));

    expect(await within(dialog()).findByText(/^Downloaded todo-export-.*\.jsonl: 4 events and the digest\.$/)).toHaveAttribute('role', 'status');
    expect(downloads.saved).toHaveLength(1);
    const lines = (await downloads.saved[0].blob.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.slice(0, -1).map((event) => event.type)).toEqual(['TodoCreated', 'TodoUpdated', 'TodoCreated', 'TodoCompleted']);
    expect(lines[lines.length - 1]).toHaveProperty('digest');
    expect(accountRequests(backend)).toHaveLength(0);
    expect(within(dialog()).getByRole('button', { name: 'Delete my account' })).toBeInTheDocument();
  });

  it('does not start while that download is still being prepared', async () => {
    const backend = seeded();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fetch = backend.fetch;
    backend.fetch = async (input, init) => {
      if (String(input instanceof Request ? input.url : input).includes('/export')) await held;
      return fetch(input, init);
    };
    const user = userEvent.setup();
    renderAccountPage(backend);

    await user.click(opener());
    await user.click(within(dialog()).getByRole('button', { name: 'Download my data' }));
    await user.click(within(dialog()).getByRole('button', { name: 'Delete my account' }));
    expect(within(dialog()).getByRole('alert')).toHaveTextContent('Your download is still being prepared');
    expect(accountRequests(backend)).toHaveLength(0);

    release();
    expect(await within(dialog()).findByText(/^Downloaded /)).toBeInTheDocument();
    expect(within(dialog()).queryByText(/still being prepared/)).not.toBeInTheDocument();
    await user.click(within(dialog()).getByRole('button', { name: 'Delete my account' }));
    expect(await screen.findByText('Your account and all your data were deleted.')).toBeInTheDocument();
  });

  it('repeats DELETE /account after each Retry-After, showing progress, then deletes the sign-in and signs out', async () => {
    vi.useFakeTimers();
    // 4 events, erased one a round: 202, 202, 202, then 200 with the receipt.
    const backend = seeded({ erasureBatch: 1, erasureRetryAfterSeconds: 4 });
    const { forgetUser } = renderAccountPage(backend);

    // fireEvent: user-event and Testing Library's async helpers wait on real timers.
    fireEvent.click(opener());
    fireEvent.click(within(dialog()).getByRole('button', { name: 'Delete my account' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(opener()).toHaveFocus();
    expect(opener()).toHaveAttribute('aria-disabled', 'true');

    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(accountRequests(backend)).toHaveLength(1);
    expect(screen.getByText('Erasing your data… 1 event so far.')).toHaveAttribute('role', 'status');

    // Not a moment before the server said.
    await act(() => vi.advanceTimersByTimeAsync(3_999));
    expect(accountRequests(backend)).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(accountRequests(backend)).toHaveLength(2);
    expect(screen.getByText('Erasing your data… 2 events so far.')).toBeInTheDocument();
    // The button does nothing while the deletion runs.
    fireEvent.click(opener());
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();

    await act(() => vi.advanceTimersByTimeAsync(4_000));
    expect(accountRequests(backend)).toHaveLength(3);
    expect(screen.getByText('Erasing your data… 3 events so far.')).toBeInTheDocument();
    expect(backend.cognitoRequests).toHaveLength(0);
    expect(backend.hasSignIn(USER)).toBe(true);
    expect(forgetUser).not.toHaveBeenCalled();
    expect(screen.queryByText('Your account and all your data were deleted.')).not.toBeInTheDocument();

    await act(() => vi.advanceTimersByTimeAsync(4_000));
    expect(accountRequests(backend)).toHaveLength(4);
    expect(backend.todosOf(USER)).toEqual([]);
    expect(backend.eventsOf(USER)).toEqual([]);
    expect(backend.todosOf('bob')).toHaveLength(1);
    expect(backend.hasSignIn(USER)).toBe(false);
    expect(forgetUser).toHaveBeenCalledTimes(1);

    await act(() => vi.advanceTimersByTimeAsync(100));
    const notice = screen.getByText('Your account and all your data were deleted.');
    expect(notice.closest('[role="status"]')).not.toBeNull();
    expect(screen.getByText(/^Erasure receipt req-\d+: 4 events and 2 to-dos erased\.$/)).toBeInTheDocument();
    expect(window.location.pathname).toBe('/');
  });

  it('says so when the sign-in could not be deleted, claims nothing more, and retries only that', async () => {
    const backend = seeded();
    backend.refuseDeleteUser('NotAuthorizedException', 'Access Token has expired');
    const user = userEvent.setup();
    const { forgetUser } = renderAccountPage(backend);

    await user.click(opener());
    await user.click(within(dialog()).getByRole('button', { name: 'Delete my account' }));

    const alert = await alertSaying(/^All your data is erased/);
    expect(alert).toHaveTextContent(/^All your data is erased, but your sign-in is not deleted yet\./);
    expect(alert).toHaveTextContent('Deleting your sign-in failed: Access Token has expired');
    expect(alert).toHaveTextContent('You are still signed in, to an empty account.');
    expect(alert).toHaveTextContent(/Erasure receipt req-\d+: 4 events and 2 to-dos erased\./);
    expect(screen.queryByText('Your account and all your data were deleted.')).not.toBeInTheDocument();
    expect(forgetUser).not.toHaveBeenCalled();
    expect(backend.hasSignIn(USER)).toBe(true);
    expect(opener()).not.toHaveAttribute('aria-disabled');

    await user.click(within(alert).getByRole('button', { name: 'Delete my sign-in' }));
    expect(await screen.findByText('Your account and all your data were deleted.')).toBeInTheDocument();
    expect(backend.hasSignIn(USER)).toBe(false);
    expect(forgetUser).toHaveBeenCalledTimes(1);
    // The data was erased once; only the sign-in's deletion was repeated.
    expect(accountRequests(backend)).toHaveLength(1);
    expect(backend.cognitoRequests).toHaveLength(2);
  });

  it('says so when the erasure fails halfway, and a retry finishes it', async () => {
    const backend = seeded({ erasureBatch: 3, erasureRetryAfterSeconds: 1 });
    const fetch = backend.fetch;
    let deletes = 0;
    // The first round erases 3 events (202); the second one meets a server fault.
    backend.fetch = async (input, init) => {
      if (init?.method === 'DELETE' && ++deletes === 2) {
        return new Response(JSON.stringify({ error: { code: 'internal', message: 'Internal error.' } }), { status: 500 });
      }
      return fetch(input, init);
    };
    const user = userEvent.setup();
    const { forgetUser } = renderAccountPage(backend);

    await user.click(opener());
    await user.click(within(dialog()).getByRole('button', { name: 'Delete my account' }));

    const alert = await alertSaying(/^Erasing your data failed/, 3_000);
    expect(alert).toHaveTextContent(/^Erasing your data failed: the server had a problem \(HTTP 500\)/);
    expect(alert).toHaveTextContent('Your account still exists, and part of your data may already be erased.');
    expect(backend.cognitoRequests).toHaveLength(0);
    expect(forgetUser).not.toHaveBeenCalled();

    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(opener()).toHaveFocus();
    expect(await screen.findByText('Your account and all your data were deleted.', {}, { timeout: 3_000 })).toBeInTheDocument();
    expect(deletes).toBe(3);
    expect(backend.todosOf(USER)).toEqual([]);
    expect(forgetUser).toHaveBeenCalledTimes(1);
    expect(backend.hasSignIn(USER)).toBe(false);
  });
});
