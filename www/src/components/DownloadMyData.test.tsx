import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportFileName } from '../lib/dataExport';
import { renderAccountPage } from '../testing/account';
import { captureDownloads } from '../testing/downloads';
import { FakeBackend } from '../testing/fakeBackend';
import { USER } from '../testing/render';

describe('Download my data', () => {
  let saved: ReturnType<typeof captureDownloads>['saved'];
  let restore: () => void;
  beforeEach(() => {
    ({ saved, restore } = captureDownloads());
  });
  afterEach(() => restore());

  it('saves every event as received, one per line, then the digest, and says what it saved', async () => {
    const backend = new FakeBackend();
    const milk = backend.seed(USER, 'Buy milk', { notes: '2 litres' });
    backend.changeElsewhere(USER, milk.id, { title: 'Buy oat milk' });
    // More than one page of the export (500 events a page).
    for (let i = 0; i < 260; i++) backend.seed(USER, `Filler ${i}`, { completed: true });
    backend.seed('bob', "Bob's secret");
    const user = userEvent.setup();
    renderAccountPage(backend);

    expect(screen.getByRole('heading', { level: 1, name: 'Your account' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Download my data' }));

    const fileName = exportFileName(new Date());
    expect(await screen.findByText(`Downloaded ${fileName}: 522 events and the digest.`)).toHaveAttribute('role', 'status');
    expect(saved).toHaveLength(1);
    expect(saved[0].name).toBe(fileName);
    expect(saved[0].blob.type).toBe('application/jsonl');

    const lines = (await saved[0].blob.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(523);
    const events = lines.slice(0, -1);
    const digest = lines[lines.length - 1];
    expect(Object.keys(digest)).toEqual(['digest']);
    expect(digest.digest).toMatchObject({ todos: 261, events: 522 });

    // Exactly what the server sent, page after page.
    const exportRequests = backend.requests.filter((r) => r.path === '/export');
    expect(exportRequests.map((r) => new URLSearchParams(r.search).has('cursor'))).toEqual([false, true]);
    const sent = backend.eventsOf(USER);
    expect(events).toHaveLength(sent.length);
    expect(events[0]).toEqual({ userId: USER, ...sent[0] });
    expect(events[1]).toEqual({ userId: USER, ...sent[1] });
    expect(events.every((event) => event.userId === USER && /^[0-9a-f]{64}$/.test(String(event.hash)))).toBe(true);

    const facts = screen.getByText('Digest').closest('dl') as HTMLElement;
    expect(within(facts).getByText((digest.digest as { digest: string }).digest)).toBeInTheDocument();
    expect(facts).toHaveTextContent('261 to-dos, 522 events');
  });

  it('says what went wrong, saves nothing, and can try again', async () => {
    const backend = new FakeBackend();
    backend.seed(USER, 'Buy milk');
    backend.failNext('GET', /^\/export$/, { kind: 'status', status: 500 });
    const user = userEvent.setup();
    renderAccountPage(backend);

    const button = screen.getByRole('button', { name: 'Download my data' });
    await user.click(button);
    expect(await screen.findByText(/^Preparing your data failed: the server had a problem \(HTTP 500\).*Nothing was saved\.$/)).toBeInTheDocument();
    expect(saved).toHaveLength(0);
    expect(button).toHaveFocus();

    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText(/^Downloaded todo-export-.*: 1 event and the digest\.$/)).toBeInTheDocument();
    expect(saved).toHaveLength(1);
    expect(screen.queryByText(/Preparing your data failed/)).not.toBeInTheDocument();
  });

  it('shows progress while it works, and does not start twice', async () => {
    const backend = new FakeBackend();
    backend.seed(USER, 'Buy milk');
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fetch = backend.fetch;
    backend.fetch = async (input, init) => {
      await held;
      return fetch(input, init);
    };
    const user = userEvent.setup();
    renderAccountPage(backend);

    const button = screen.getByRole('button', { name: 'Download my data' });
    await user.click(button);
    expect(screen.getByText('Preparing your data… 0 events so far.')).toHaveAttribute('role', 'status');
    expect(button).toHaveAttribute('aria-disabled', 'true');
    await user.click(button);
    release();
    expect(await screen.findByText(/^Downloaded/)).toBeInTheDocument();
    expect(backend.requests.filter((r) => r.path === '/export')).toHaveLength(1);
    expect(saved).toHaveLength(1);
    expect(button).not.toHaveAttribute('aria-disabled');
  });
});
