/**
 * Auditors: any past state of a to-do or of the whole list, and an export that proves the history
 * was not altered (DESIGN.md, "Second wave").
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { addTodo, editTodo, expectSaved, signUp, timelineBadges, uniqueEmail } from '../support/app';
import { expect, test } from '../support/fixtures';

const HASH = /^[0-9a-f]{64}$/;

/** Edits `from` into `to` and waits until the server has answered. */
async function rename(page: Page, from: string, to: string): Promise<void> {
  await editTodo(page, from, { title: to });
  await expect(page.getByRole('checkbox', { name: to, exact: true })).toBeVisible();
  await expectSaved(page);
}

/** The id of the to-do whose history page is open. */
function openItemId(page: Page): string {
  const match = /\/item\/([^/]+)\/history$/.exec(new URL(page.url()).pathname);
  if (!match) throw new Error(`not on an item's history page: ${page.url()}`);
  return decodeURIComponent(match[1]);
}

/** What a datetime-local input holds for `ms` in the page's own time zone (seconds left out when zero, as browsers do). */
function localInputValue(page: Page, ms: number): Promise<string> {
  return page.evaluate((at) => {
    const date = new Date(at);
    const pad = (n: number) => String(n).padStart(2, '0');
    const seconds = date.getSeconds() ? `:${pad(date.getSeconds())}` : '';
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}${seconds}`;
  }, ms);
}

test('an old version of a to-do opens from its history, read-only, with one click back', async ({ page, saveScreenshot }) => {
  await signUp(page, uniqueEmail('ivan'));
  await addTodo(page, 'Original title', 'First notes');
  await rename(page, 'Original title', 'Renamed title');

  await page.getByRole('link', { name: 'History of “Renamed title”' }).click();
  await expect(timelineBadges(page)).toHaveText(['Created', 'Edited']);
  await page.getByRole('link', { name: 'View version 1' }).click();

  await expect(page).toHaveURL(/\/item\/[^/]+\/version\/1$/);
  const heading = page.getByRole('heading', { level: 1 });
  await expect(heading).toHaveText(/^Version 1 of 2, as it was on .*\d{4}/);
  await expect(heading).toBeFocused();
  await expect(page.getByRole('heading', { level: 2, name: 'Original title' })).toBeVisible();
  await expect(page.getByText('First notes')).toBeVisible();
  await expect(page.getByRole('note')).toContainText('This is a past version, shown read-only');
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Edit|Delete/ })).toHaveCount(0);
  await saveScreenshot(page, '10-item-version');

  // The address is a deep link to that version.
  await page.reload();
  await expect(page.getByRole('heading', { level: 2, name: 'Original title' })).toBeVisible();
  await page.getByRole('link', { name: 'Newer: version 2 →' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Version 2 of 2, as it was on /);
  await expect(page.getByRole('heading', { level: 2, name: 'Renamed title' })).toBeVisible();

  await page.getByRole('note').getByRole('link', { name: 'Back to the history' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('History of “Renamed title”');
});

test('the list as of a moment between two edits shows the title it had then, and back to now', async ({ page, saveScreenshot }) => {
  await signUp(page, uniqueEmail('judy'));
  await addTodo(page, 'Plan one');
  await addTodo(page, 'Unrelated errand');
  await rename(page, 'Plan one', 'Plan two');
  // The instant we look at has whole seconds: keep the two edits more than a second apart.
  await page.waitForTimeout(1_100);
  await rename(page, 'Plan two', 'Plan three');

  // When the edits happened, as the server recorded them.
  await page.getByRole('link', { name: 'History of “Plan three”' }).click();
  await expect(timelineBadges(page)).toHaveText(['Created', 'Edited', 'Edited']);
  const recorded = await page
    .getByRole('list', { name: 'Events' })
    .locator('.timeline-meta time')
    .evaluateAll((times) => times.map((time) => Date.parse(time.getAttribute('datetime') ?? '')));
  const [, firstEdit, secondEdit] = recorded;
  const between = Math.floor(firstEdit / 1000) * 1000 + 1000;
  expect(between).toBeGreaterThan(firstEdit);
  expect(between).toBeLessThan(secondEdit);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your history');
  const moment = page.getByLabel('Show my list as of', { exact: true });
  await expect(moment).toHaveAttribute('type', 'datetime-local');
  await moment.fill(await localInputValue(page, between));
  await page.getByRole('button', { name: 'Show the list' }).click();

  await expect(page).toHaveURL((url) => url.pathname === `/history/as-of/${new Date(between).toISOString()}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Your list as it stood on /);
  await expect(page.getByRole('note')).toContainText('This is the past, shown read-only');
  const past = page.getByRole('list', { name: 'All to-dos then' });
  await expect(past.locator('.todo-title')).toHaveText(['Plan two', 'Unrelated errand']);
  await expect(page.getByText('Plan three')).toHaveCount(0);
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Edit|Delete|Add/ })).toHaveCount(0);
  await saveScreenshot(page, '11-list-as-of');

  await page.getByRole('link', { name: 'Back to now' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your to-dos');
  await expect(page.getByRole('checkbox', { name: 'Plan three', exact: true })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Plan two', exact: true })).toHaveCount(0);
});

test('“Download my data” saves one JSON Lines file: every event with its hashes, then the digest', async ({ page, saveScreenshot }) => {
  await signUp(page, uniqueEmail('kim'));
  await addTodo(page, 'Export me');
  await rename(page, 'Export me', 'Exported');
  await page.getByRole('link', { name: 'History of “Exported”' }).click();
  const todoId = openItemId(page);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download my data' }).click();
  const download = await downloading;

  const fileName = download.suggestedFilename();
  expect(fileName).toMatch(/^todo-export-\d{4}-\d{2}-\d{2}\.jsonl$/);
  const text = readFileSync(await download.path(), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const records = text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

  const last = records[records.length - 1];
  expect(Object.keys(last)).toEqual(['digest']);
  const digest = last.digest as { digest: string; asOf: string; todos: number; events: number };
  expect(digest.digest).toMatch(HASH);
  expect(digest).toMatchObject({ todos: 1, events: 2 });
  expect(Number.isNaN(Date.parse(digest.asOf))).toBe(false);

  const events = records.slice(0, -1);
  expect(events).toHaveLength(2);
  const mine = events.filter((event) => event.todoId === todoId);
  expect(mine.map((event) => [event.version, event.type])).toEqual([
    [1, 'TodoCreated'],
    [2, 'TodoUpdated'],
  ]);
  for (const event of mine) expect(event.hash).toMatch(HASH);
  expect(mine[0].prevHash).toBe('0'.repeat(64));
  expect(mine[1].prevHash).toBe(mine[0].hash);

  await expect(page.getByText(`Downloaded ${fileName}: 2 events and the digest.`)).toBeVisible();
  await expect(page.getByText(digest.digest)).toBeVisible();
  await saveScreenshot(page, '12-download');
});

test('the views of the past fit a phone-sized screen', async ({ newBrowser, saveScreenshot }) => {
  const phone = await (await newBrowser({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true })).newPage();
  await signUp(phone, uniqueEmail('leo'));
  await addTodo(phone, 'Pick up the parcel from the post office before it closes at six', 'Bring ID');
  const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  await phone.getByRole('link', { name: /^History of “Pick up the parcel/ }).click();
  await expect(timelineBadges(phone)).toHaveText(['Created']);
  await phone.locator('.hash-details summary').first().click();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await phone.getByRole('link', { name: 'View version 1' }).click();
  await expect(phone.getByRole('heading', { level: 1 })).toHaveText(/^Version 1 of 1/);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await saveScreenshot(phone, '13-phone-item-version');

  // The form starts at this second: let the to-do's creation be a whole second behind it.
  await phone.waitForTimeout(1_100);
  await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(phone.getByLabel('Show my list as of', { exact: true })).toBeVisible();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await phone.getByRole('button', { name: 'Show the list' }).click();
  await expect(phone.getByRole('heading', { level: 1 })).toHaveText(/^Your list as it stood on /);
  await expect(phone.getByRole('list', { name: 'All to-dos then' }).locator('.todo-title')).toHaveText([/^Pick up the parcel/]);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await saveScreenshot(phone, '14-phone-list-as-of');

  await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(phone.getByRole('button', { name: 'Download my data' })).toBeVisible();
  expect(await overflow()).toBeLessThanOrEqual(0);
});
