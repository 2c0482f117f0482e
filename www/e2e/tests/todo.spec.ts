import {
  addForm,
  addTodo,
  editTodo,
  expectCounts,
  expectSaved,
  expectSignedIn,
  filter,
  item,
  signUp,
  timelineBadges,
  uniqueEmail,
} from '../support/app';
import { expect, test } from '../support/fixtures';

test('sign-in is the authorization code flow with PKCE', async ({ page, baseURL }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your to-do list, with its whole history');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.searchParams.has('code_challenge'));
  const authorize = new URL(page.url());
  expect(authorize.searchParams.get('response_type')).toBe('code');
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('client_id')).toBe('todo-spa');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${baseURL}/`);
  expect(authorize.searchParams.get('scope')?.split(' ')).toContain('openid');
  expect(authorize.searchParams.get('state')).toBeTruthy();
});

test('a new user signs up, manages to-dos and reads their history', async ({ page, saveScreenshot }) => {
  await page.goto('/');
  await saveScreenshot(page, '01-landing');
  await signUp(page, uniqueEmail('alice'));
  await expect(page.getByText('Nothing to do yet. Add your first to-do above.')).toBeVisible();

  // Add (the form checks its limits first).
  await addForm(page).getByRole('button', { name: 'Add' }).click();
  await expect(addForm(page).getByText('Enter a title.')).toBeVisible();
  await addTodo(page, 'Buy milk', '2 litres');
  await addTodo(page, 'Walk the dog');
  await addTodo(page, 'Write report');
  await expectCounts(page, { all: 3, active: 3, completed: 0 });

  // Edit in place.
  await editTodo(page, 'Buy milk', { title: 'Buy oat milk', notes: 'Barista edition' });
  await expect(item(page, 'Buy oat milk')).toContainText('Barista edition');
  await expectSaved(page);

  // Complete, filter, reopen.
  await item(page, 'Walk the dog').getByRole('checkbox').check();
  await expectSaved(page);
  await expectCounts(page, { all: 3, active: 2, completed: 1 });
  await item(page, 'Buy oat milk').getByRole('checkbox').check();
  await expectSaved(page);
  await filter(page, 'Completed').click();
  await expect(page.getByRole('checkbox')).toHaveCount(2);
  await filter(page, 'Active').click();
  await expect(page.getByRole('checkbox')).toHaveCount(1);
  await expect(page.getByRole('checkbox', { name: 'Write report' })).toBeVisible();
  await filter(page, 'All').click();
  await saveScreenshot(page, '02-list');
  await item(page, 'Buy oat milk').getByRole('checkbox').uncheck();
  await expectSaved(page);
  await expectCounts(page, { all: 3, active: 2, completed: 1 });

  // The session survives a reload.
  await page.reload();
  await expectSignedIn(page);
  await expect(page.getByRole('checkbox', { name: 'Buy oat milk' })).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Walk the dog' })).toBeChecked();

  // The item's history shows every event, from what to what.
  await page.getByRole('link', { name: 'History of “Buy oat milk”' }).click();
  await expect(page).toHaveURL(/\/item\/[^/]+\/history$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('History of “Buy oat milk”');
  await expect(timelineBadges(page)).toHaveText(['Created', 'Edited', 'Completed', 'Reopened']);
  const timeline = page.getByRole('list', { name: 'Events' });
  await expect(timeline).toContainText('Title: “Buy milk”');
  await expect(timeline).toContainText('Title changed from “Buy milk” to “Buy oat milk”');
  await expect(timeline).toContainText('Notes changed from “2 litres” to “Barista edition”');
  await expect(timeline.locator('time').first()).toHaveAttribute('datetime', /^\d{4}-\d{2}-\d{2}T/);
  await saveScreenshot(page, '03-item-history');

  // Delete with a confirmation; the deleted item's history stays readable.
  await page.getByRole('link', { name: '← Back to your to-dos' }).click();
  await page.getByRole('button', { name: 'Delete “Buy oat milk”' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Delete this to-do?' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await saveScreenshot(page, '04-delete-dialog');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('checkbox', { name: 'Buy oat milk' })).toHaveCount(0);
  await expect(page.getByRole('checkbox', { name: 'Walk the dog' })).toBeFocused();
  await expectCounts(page, { all: 2, active: 1, completed: 1 });
  await page.getByRole('link', { name: 'View its history' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('History of “Buy oat milk”');
  await expect(page.getByText('This item has been deleted.')).toBeVisible();
  await expect(timelineBadges(page)).toHaveText(['Created', 'Edited', 'Completed', 'Reopened', 'Deleted']);

  // The whole history, in time order, deleted item included.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your history');
  await expect(timelineBadges(page)).toHaveText([
    'Created',
    'Created',
    'Created',
    'Edited',
    'Completed',
    'Completed',
    'Reopened',
    'Deleted',
  ]);
  await saveScreenshot(page, '05-user-history');

  // A deep link still works after a reload (the server serves the SPA for /history).
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your history');
});

test('another user sees none of the first user’s items', async ({ page, newBrowser }) => {
  await signUp(page, uniqueEmail('carol'));
  await addTodo(page, 'Carol’s private plan');
  await page.getByRole('link', { name: 'History of “Carol’s private plan”' }).click();
  const carolsItemHistory = new URL(page.url()).pathname;

  const other = await (await newBrowser()).newPage();
  await signUp(other, uniqueEmail('dave'));
  await expect(other.getByText('Nothing to do yet. Add your first to-do above.')).toBeVisible();
  await expectCounts(other, { all: 0, active: 0, completed: 0 });
  await other.goto('/history');
  await expect(other.getByText('Nothing has happened yet.')).toBeVisible();
  await other.goto(carolsItemHistory);
  await expect(other.getByText(/There is no history for this item/)).toBeVisible();
  await expect(other.getByText('Carol’s private plan')).toHaveCount(0);
});

test('a stale edit from another tab gets the conflict message and the current state', async ({ page, context, saveScreenshot }) => {
  // This tab never hears of the other tab's change (a push lost on the way, or no live updates at
  // all): its socket is answered here, and nothing is ever sent on it.
  await page.routeWebSocket(/\/live/, () => undefined);
  await signUp(page, uniqueEmail('erin'));
  await addTodo(page, 'Shared item');

  // Same browser, second tab: the session is shared, the item is changed there.
  const otherTab = await context.newPage();
  await otherTab.goto('/');
  await expectSignedIn(otherTab);
  await editTodo(otherTab, 'Shared item', { title: 'Changed in the other tab' });
  await expect(otherTab.getByRole('checkbox', { name: 'Changed in the other tab' })).toBeVisible();
  await expectSaved(otherTab);

  // The first tab still shows version 1; its edit is refused and it shows what is there now.
  await editTodo(page, 'Shared item', { title: 'Changed in this tab' });
  const current = item(page, 'Changed in the other tab');
  await expect(current.getByRole('alert')).toContainText('This item was changed elsewhere');
  await expect(current.getByRole('alert')).toContainText('was not saved');
  await expect(page.getByRole('checkbox', { name: 'Changed in this tab' })).toHaveCount(0);
  await saveScreenshot(page, '06-conflict');

  // Having seen the current version, the next change goes through.
  await current.getByRole('checkbox').check();
  await expectSaved(page);
  await expect(page.getByRole('checkbox', { name: 'Changed in the other tab' })).toBeChecked();
  await expect(current.getByRole('alert')).toHaveCount(0);
});

test('signing out ends the session', async ({ page }) => {
  await signUp(page, uniqueEmail('frank'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});

test('on a phone-sized screen', async ({ newBrowser, saveScreenshot }) => {
  const phone = await (await newBrowser({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true })).newPage();
  await phone.goto('/');
  await saveScreenshot(phone, '07-phone-landing');
  await signUp(phone, uniqueEmail('grace'));
  await addTodo(phone, 'Pick up the parcel from the post office before it closes at six', 'Bring ID');
  await addTodo(phone, 'Call mum');
  await item(phone, 'Call mum').getByRole('checkbox').check();
  await expectSaved(phone);
  // Nothing sticks out sideways.
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await saveScreenshot(phone, '08-phone-list');
  await phone.getByRole('button', { name: 'Delete “Call mum”' }).click();
  await saveScreenshot(phone, '09-phone-dialog');
});
