/**
 * Offline (the real stack only: the mock stack answers from Playwright's request routing, which a
 * service worker's fetches bypass, so the mock project runs without service workers and skips this
 * file, see playwright.config.ts). After one online visit the app opens with no network, shows the
 * list it last read, queues what is changed meanwhile in IndexedDB, and sends it when back online:
 * the server's histories then hold each change once, in order.
 */
import type { APIRequestContext, Page } from '@playwright/test';
import { addTodo, editTodo, item, signIn, signUp, uniqueEmail } from '../support/app';
import { expectNoAxeViolations } from '../support/axe';
import { expect, test } from '../support/fixtures';

/** The page is controlled by the service worker, whose install precached the shell and config.json. */
async function expectInstalled(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null && (await caches.match('/config.json')) !== undefined;
  });
}

/** The ID token the page signed in with (oidc-client-ts keeps the user in localStorage). */
async function idToken(page: Page): Promise<string> {
  return page.evaluate(() => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('oidc.user:'));
    const user = key ? (JSON.parse(localStorage.getItem(key) ?? '{}') as { id_token?: string }) : {};
    if (!user.id_token) throw new Error('not signed in');
    return user.id_token;
  });
}

interface Event {
  todoId: string;
  type: string;
  version: number;
  data: { title?: string; completed?: boolean };
}

async function api<T>(request: APIRequestContext, token: string, path: string): Promise<T> {
  const response = await request.get(`/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

function idOf(page: Page, title: string): Promise<string | null> {
  return item(page, title).getAttribute('data-id');
}

function offlineNote(page: Page) {
  return page.getByRole('region', { name: 'Your to-dos' }).locator('.offline-note');
}

test('opens offline after one visit; changes made offline survive a reload and reach the server once each, in order', async ({
  page,
  context,
  request,
  saveScreenshot,
}) => {
  await signUp(page, uniqueEmail('olga'));
  await addTodo(page, 'Alpha');
  await addTodo(page, 'Bravo');
  await addTodo(page, 'Charlie');
  const ids = { Alpha: await idOf(page, 'Alpha'), Bravo: await idOf(page, 'Bravo'), Charlie: await idOf(page, 'Charlie') };
  await expectInstalled(page);

  // No network: the shell from the service worker, the list from IndexedDB, and a quiet note.
  await context.setOffline(true);
  const reload = await page.reload();
  expect(reload?.fromServiceWorker()).toBe(true);
  await expect(page.locator('.todo-title')).toHaveText(['Alpha', 'Bravo', 'Charlie']);
  await expect(offlineNote(page)).toContainText('Offline, showing what was last synced at');
  await expectNoAxeViolations(page, 'the list, offline');

  // Create three, edit one (made offline), complete one, delete one: all shown at once, as not sent.
  await addTodo(page, 'One');
  await addTodo(page, 'Two');
  await addTodo(page, 'Three');
  await editTodo(page, 'Two', { title: 'Two, edited' });
  await expect(page.getByRole('checkbox', { name: 'Two, edited', exact: true })).toBeVisible();
  // A click, not check(): the box turns once the change is stored in IndexedDB, a moment later.
  await item(page, 'Alpha').getByRole('checkbox').click();
  await expect(page.getByRole('checkbox', { name: 'Alpha', exact: true })).toBeChecked();
  await page.getByRole('button', { name: 'Delete “Bravo”' }).click();
  await page.getByRole('alertdialog', { name: 'Delete this to-do?' }).getByRole('button', { name: 'Delete' }).click();

  const expectPendingShown = async () => {
    await expect(page.locator('.todo-title')).toHaveText(['Alpha', 'Bravo', 'Charlie', 'One', 'Two, edited', 'Three']);
    for (const title of ['One', 'Two, edited', 'Three']) await expect(item(page, title)).toContainText('Added here, not sent yet');
    await expect(item(page, 'Alpha')).toContainText('Change not sent yet');
    await expect(page.getByRole('checkbox', { name: 'Alpha', exact: true })).toBeChecked();
    await expect(item(page, 'Bravo')).toContainText('Deletion not sent yet');
    await expect(item(page, 'Charlie')).not.toContainText('not sent');
    await expect(offlineNote(page)).toContainText('6 changes wait to be sent.');
  };
  await expectPendingShown();
  await expectNoAxeViolations(page, 'the list, offline, with pending changes');

  // A reload (a closed tab would do the same) still has every one of them.
  await page.reload();
  await expectPendingShown();
  await saveScreenshot(page, '30-offline-pending');

  // Back online: sent in order, then nothing pending.
  await context.setOffline(false);
  await expect(page.locator('li.todo-pending')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.locator('.todo-title')).toHaveText(['Alpha', 'Charlie', 'One', 'Two, edited', 'Three']);
  await expect(offlineNote(page)).toHaveText('');
  await expectNoAxeViolations(page, 'the list, back online');

  const token = await idToken(page);
  const { items } = await api<{ items: { id: string; title: string }[] }>(request, token, '/item');
  const id = (title: string) => items.find((todo) => todo.title === title)?.id as string;
  const history = async (todoId: string) =>
    (await api<{ events: Event[] }>(request, token, `/item/${todoId}/history`)).events.map((event) => event.type);

  expect(items.map((todo) => todo.title)).toEqual(['Alpha', 'Charlie', 'One', 'Two, edited', 'Three']);
  expect(await history(ids.Alpha as string)).toEqual(['TodoCreated', 'TodoCompleted']);
  expect(await history(ids.Bravo as string)).toEqual(['TodoCreated', 'TodoDeleted']);
  expect(await history(ids.Charlie as string)).toEqual(['TodoCreated']);
  expect(await history(id('One'))).toEqual(['TodoCreated']);
  expect(await history(id('Two, edited'))).toEqual(['TodoCreated', 'TodoUpdated']);
  expect(await history(id('Three'))).toEqual(['TodoCreated']);

  // The user's whole history: the three online creates, then the six offline changes in the order they were made.
  const all = (await api<{ events: Event[] }>(request, token, '/history?limit=100')).events;
  const described = all.map((event) => `${event.type} ${event.data.title ?? items.find((t) => t.id === event.todoId)?.title ?? event.todoId}`);
  expect(described).toEqual([
    'TodoCreated Alpha',
    'TodoCreated Bravo',
    'TodoCreated Charlie',
    'TodoCreated One',
    'TodoCreated Two',
    'TodoCreated Three',
    'TodoUpdated Two, edited',
    'TodoCompleted Alpha',
    'TodoDeleted Bravo',
  ]);
});

test('a todo changed online while this page changed it offline: both versions, and “keep mine” wins on the server', async ({
  page,
  context,
  newBrowser,
  request,
  saveScreenshot,
}) => {
  const email = uniqueEmail('conrad');
  await signUp(page, email);
  await addTodo(page, 'Water the plants');
  const todoId = (await idOf(page, 'Water the plants')) as string;
  await expectInstalled(page);

  // A second page of the same user, in another browser (online throughout).
  const other = await (await newBrowser()).newPage();
  await other.goto('/');
  await signIn(other, email);

  await context.setOffline(true);
  await editTodo(page, 'Water the plants', { title: 'Water the plants and the herbs' });
  await expect(item(page, 'Water the plants and the herbs')).toContainText('Change not sent yet');

  await editTodo(other, 'Water the plants', { title: 'Water the cactus only' });
  await expect(other.locator('li.todo[aria-busy="true"]')).toHaveCount(0);

  // Back online: the first page's edit was made on version 1, the server is at 2.
  await context.setOffline(false);
  const conflict = page.getByRole('alert').filter({ hasText: 'was changed elsewhere before your edit reached the server' });
  await expect(conflict).toBeVisible({ timeout: 15_000 });
  await expect(conflict).toContainText('Your version');
  await expect(conflict).toContainText('Water the plants and the herbs');
  await expect(conflict).toContainText('Their version (version 2)');
  await expect(conflict).toContainText('Water the cactus only');
  await expectNoAxeViolations(page, 'the list with a conflict');
  await saveScreenshot(page, '31-offline-conflict');

  await conflict.getByRole('button', { name: 'Keep mine' }).click();
  await expect(page.locator('li.todo-pending')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.locator('.todo-title')).toHaveText(['Water the plants and the herbs']);

  const token = await idToken(page);
  const todo = await api<{ title: string; version: number }>(request, token, `/item/${todoId}`);
  expect(todo).toMatchObject({ title: 'Water the plants and the herbs', version: 3 });
  const events = (await api<{ events: Event[] }>(request, token, `/item/${todoId}/history`)).events;
  expect(events.map((event) => [event.type, event.data.title])).toEqual([
    ['TodoCreated', 'Water the plants'],
    ['TodoUpdated', 'Water the cactus only'],
    ['TodoUpdated', 'Water the plants and the herbs'],
  ]);
  // The other page follows (live updates).
  await expect(other.locator('.todo-title')).toHaveText(['Water the plants and the herbs']);
});

test('histories opened online read offline from this device, with the note', async ({ page, context }) => {
  await signUp(page, uniqueEmail('hanna'));
  await addTodo(page, 'Read a book');
  await editTodo(page, 'Read a book', { title: 'Read two books' });
  await expect(page.locator('li.todo[aria-busy="true"]')).toHaveCount(0);
  await page.getByRole('link', { name: 'History of “Read two books”' }).click();
  await expect(page.getByRole('list', { name: 'Events' }).locator('.timeline-entry')).toHaveCount(2);
  await page.getByRole('link', { name: '← Back to your to-dos' }).click();
  await page.getByRole('link', { name: 'History', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Your history' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Events' }).locator('.timeline-entry')).toHaveCount(2);
  await expectInstalled(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('list', { name: 'Events' }).locator('.timeline-entry')).toHaveCount(2);
  await expect(page.locator('.offline-note')).toContainText('Offline, showing what was last synced at');
  await expectNoAxeViolations(page, 'your history, offline');

  await page.getByRole('link', { name: '← Back to your to-dos' }).click();
  await page.getByRole('link', { name: 'History of “Read two books”' }).click();
  await expect(page.getByRole('list', { name: 'Events' }).locator('.timeline-entry')).toHaveCount(2);
  await expect(page.locator('.offline-note')).toContainText('Offline, showing what was last synced at');
  await expectNoAxeViolations(page, 'a to-do’s history, offline');

  // A view never opened online says so, accessibly.
  await page.getByRole('link', { name: 'Stats' }).click();
  await expect(page.getByText(/could not reach the server/).first()).toBeVisible();
  await expectNoAxeViolations(page, 'stats, offline');
});
