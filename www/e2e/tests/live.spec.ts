/**
 * Live updates: what one session of a user does shows in that user's other sessions within a
 * second, without a reload; none of it reaches another user. (Against the real stack, through its
 * `/live` socket; against the mock, through the mock stack's socket fed by its in-memory API.)
 */
import type { BrowserContext, Locator, Page, WebSocketRoute } from '@playwright/test';
import { addTodo, editTodo, expectCounts, expectSaved, item, signIn, signUp, uniqueEmail } from '../support/app';
import { expect, test } from '../support/fixtures';

/** "Within a second": each check starts once the change has been saved on the other page. */
const WITHIN_A_SECOND = { timeout: 1_000 };

/** The list's quiet "Live" / "Reconnecting…" line. */
function liveIndicator(page: Page): Locator {
  return page.getByRole('region', { name: 'Your to-dos' }).locator('.live-indicator');
}

/** A second session of the same user: another browser (its own storage), signed in with the same account. */
async function secondSession(newBrowser: () => Promise<BrowserContext>, email: string): Promise<Page> {
  const other = await (await newBrowser()).newPage();
  await other.goto('/');
  await signIn(other, email);
  await expect(liveIndicator(other)).toHaveText('Live');
  return other;
}

/** Marks the page; if the mark is still there later, the page was never reloaded. */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { notReloaded?: boolean }).notReloaded = true;
  });
}

async function expectNotReloaded(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
}

async function deleteTodo(page: Page, title: string): Promise<void> {
  await page.getByRole('button', { name: `Delete “${title}”` }).click();
  await page.getByRole('alertdialog', { name: 'Delete this to-do?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('checkbox', { name: title, exact: true })).toHaveCount(0);
}

test('a change on one page shows on the user’s other page within a second, and on nobody else’s', async ({
  page,
  newBrowser,
  saveScreenshot,
}) => {
  const email = uniqueEmail('lena');
  await signUp(page, email);
  await expect(liveIndicator(page)).toHaveText('Live');
  const other = await secondSession(newBrowser, email);
  await markPage(other);

  // Another user, watching their own list and their socket.
  const stranger = await (await newBrowser()).newPage();
  let strangerFrames = 0;
  stranger.on('websocket', (socket) => socket.on('framereceived', () => (strangerFrames += 1)));
  await signUp(stranger, uniqueEmail('mallory'));
  await expect(liveIndicator(stranger)).toHaveText('Live');

  // Created: in the list's order, with the counts.
  await addTodo(page, 'Buy milk', '2 litres');
  await expect(other.getByRole('checkbox', { name: 'Buy milk', exact: true })).toBeVisible(WITHIN_A_SECOND);
  await addTodo(page, 'Walk the dog');
  await expect(other.locator('.todo-title')).toHaveText(['Buy milk', 'Walk the dog'], WITHIN_A_SECOND);
  await expectCounts(other, { all: 2, active: 2, completed: 0 });

  // Renamed: in place.
  await editTodo(page, 'Buy milk', { title: 'Buy oat milk', notes: 'Barista edition' });
  await expectSaved(page);
  await expect(item(other, 'Buy oat milk')).toContainText('Barista edition', WITHIN_A_SECOND);
  await expect(other.locator('.todo-title')).toHaveText(['Buy oat milk', 'Walk the dog']);

  // Completed, and reopened.
  await item(page, 'Buy oat milk').getByRole('checkbox').check();
  await expectSaved(page);
  await expect(other.getByRole('checkbox', { name: 'Buy oat milk' })).toBeChecked(WITHIN_A_SECOND);
  await expectCounts(other, { all: 2, active: 1, completed: 1 });
  await saveScreenshot(other, '20-live-second-page');
  await item(page, 'Buy oat milk').getByRole('checkbox').uncheck();
  await expectSaved(page);
  await expect(other.getByRole('checkbox', { name: 'Buy oat milk' })).not.toBeChecked(WITHIN_A_SECOND);

  // Deleted: gone, with a word about it.
  await deleteTodo(page, 'Buy oat milk');
  await expect(other.getByRole('checkbox', { name: 'Buy oat milk' })).toHaveCount(0, WITHIN_A_SECOND);
  await expect(other.getByText('This item was deleted elsewhere: “Buy oat milk”.')).toBeVisible();
  await expectCounts(other, { all: 1, active: 1, completed: 0 });

  // And back the other way.
  await addTodo(other, 'Added on the second page');
  await expect(page.getByRole('checkbox', { name: 'Added on the second page' })).toBeVisible(WITHIN_A_SECOND);

  await expectNotReloaded(other);
  await expect(stranger.getByText('Nothing to do yet. Add your first to-do above.')).toBeVisible();
  await expectCounts(stranger, { all: 0, active: 0, completed: 0 });
  expect(strangerFrames).toBe(0);
});

test('an editor open on one page is not overwritten by a change made on the other; it says so', async ({
  page,
  newBrowser,
  saveScreenshot,
}) => {
  const email = uniqueEmail('omar');
  await signUp(page, email);
  await addTodo(page, 'Plan the trip', 'Trains');
  const other = await secondSession(newBrowser, email);
  await expect(other.getByRole('checkbox', { name: 'Plan the trip' })).toBeVisible();

  // B starts editing the notes; meanwhile A renames it.
  await other.getByRole('button', { name: 'Edit “Plan the trip”' }).click();
  const editor = other.getByRole('form', { name: 'Edit “Plan the trip”' });
  await editor.getByLabel('Notes', { exact: true }).fill('Trains, and the ferry');
  await editTodo(page, 'Plan the trip', { title: 'Plan the summer trip' });
  await expectSaved(page);

  const notice = editor.getByRole('status');
  await expect(notice).toContainText(
    'Changed elsewhere while you were editing: this to-do is now version 2, “Plan the summer trip”.',
    WITHIN_A_SECOND,
  );
  await expect(notice.getByRole('button', { name: 'Load version 2' })).toBeVisible();
  await expect(editor.getByLabel('Notes', { exact: true })).toHaveValue('Trains, and the ferry');
  await expect(editor.getByLabel('Title', { exact: true })).toHaveValue('Plan the trip');
  await saveScreenshot(other, '21-live-editor-changed-elsewhere');

  // Saving applies B's notes on top of A's title: neither change is lost.
  await editor.getByRole('button', { name: 'Save' }).click();
  await expectSaved(other);
  await expect(item(other, 'Plan the summer trip')).toContainText('Trains, and the ferry');
  await expect(item(page, 'Plan the summer trip')).toContainText('Trains, and the ferry', WITHIN_A_SECOND);

  // Once more, this time taking the other page's version.
  await other.getByRole('button', { name: 'Edit “Plan the summer trip”' }).click();
  const again = other.getByRole('form', { name: 'Edit “Plan the summer trip”' });
  await item(page, 'Plan the summer trip').getByRole('checkbox').check();
  await expectSaved(page);
  await again.getByRole('button', { name: 'Load version 4' }).click(WITHIN_A_SECOND);
  await expect(again.getByRole('status')).toBeEmpty();
  await expect(again.getByLabel('Title', { exact: true })).toBeFocused();
  await again.getByRole('button', { name: 'Cancel' }).click();
  await expect(other.getByRole('checkbox', { name: 'Plan the summer trip' })).toBeChecked();
});

test('the live indicator is a quiet status; after a lost connection the page catches up by itself', async ({
  page,
  newBrowser,
  environment,
}) => {
  const email = uniqueEmail('pia');
  await signUp(page, email);

  // The second page's socket goes through this route, which can cut it and hold the reconnection.
  const other = await (await newBrowser()).newPage();
  let current = undefined as WebSocketRoute | undefined;
  let hold: Promise<void> | undefined;
  await other.routeWebSocket(/\/live/, async (socket) => {
    if (hold) await hold;
    current = socket;
    if (environment.mock) environment.mock.serveLive(socket);
    else socket.connectToServer();
  });
  await other.goto('/');
  await signIn(other, email);

  const indicator = liveIndicator(other);
  await expect(indicator).toHaveText('Live');
  await expect(indicator).toHaveAttribute('role', 'status');
  await expect(indicator).toHaveAttribute('aria-live', 'polite');
  await expect(indicator.locator('[aria-hidden="true"]')).toHaveCount(1);
  // No animation: it must not draw the eye while nothing is wrong.
  const animations = await indicator.evaluate((element) =>
    [element, ...Array.from(element.querySelectorAll('*'))].flatMap((e) => e.getAnimations()).length,
  );
  expect(animations).toBe(0);

  // The connection drops, and does not come back at once.
  let release: () => void = () => undefined;
  hold = new Promise((resolve) => (release = resolve));
  await current?.close();
  await addTodo(page, 'Made while the other page was cut off');
  await expect(indicator).toHaveText('Reconnecting…', { timeout: 5_000 });
  await expect(other.getByRole('checkbox', { name: 'Made while the other page was cut off' })).toHaveCount(0);

  // Back: it reconnects by itself and re-reads the list.
  hold = undefined;
  release();
  await expect(indicator).toHaveText('Live', { timeout: 10_000 });
  await expect(other.getByRole('checkbox', { name: 'Made while the other page was cut off' })).toBeVisible(WITHIN_A_SECOND);
});
