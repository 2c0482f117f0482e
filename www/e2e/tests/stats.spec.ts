/**
 * Stats: the counts, the median time to complete and the last weeks, charted and tabled
 * (the `GET /stats` projection, which catches up a few milliseconds after each change).
 */
import type { Locator, Page } from '@playwright/test';
import { addTodo, expectCounts, expectSaved, signUp, uniqueEmail } from '../support/app';
import { expect, test } from '../support/fixtures';

async function complete(page: Page, title: string): Promise<void> {
  await page.getByRole('checkbox', { name: title, exact: true }).check();
  await expectSaved(page);
}

/** The value shown under a stat's name ("Open", "Completed", …). */
function stat(page: Page, name: string): Locator {
  return page.locator('.stat').filter({ has: page.getByText(name, { exact: true }) }).locator('dd');
}

function thisWeek(page: Page): Locator {
  return page.getByRole('table', { name: /^To-dos added and completed/ }).getByRole('row').filter({ hasText: 'this week' });
}

/** Until the projection has caught up: Refresh, then look again. */
async function expectStats(page: Page, expected: { open: number; completed: number; created: number; completedThisWeek: number }) {
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click({ timeout: 2_000 });
    await expect(stat(page, 'Open')).toHaveText(String(expected.open), { timeout: 1_000 });
    await expect(stat(page, 'Completed')).toHaveText(String(expected.completed), { timeout: 1_000 });
    await expect(thisWeek(page).getByRole('cell')).toHaveText([String(expected.created), String(expected.completedThisWeek)], {
      timeout: 1_000,
    });
  }).toPass({ timeout: 15_000 });
}

/** Whether anything was drawn on the canvas (Chart.js draws bars, axes and the legend). */
function hasPaint(canvas: HTMLCanvasElement): boolean {
  const context = canvas.getContext('2d');
  if (!context || canvas.width === 0 || canvas.height === 0) return false;
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha] !== 0) return true;
  return false;
}

const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test('stats count what was added and completed this week, with a chart and its table', async ({ page, saveScreenshot }) => {
  await signUp(page, uniqueEmail('mia'));
  await addTodo(page, 'Water the plants');
  await addTodo(page, 'Book the dentist');
  await addTodo(page, 'Renew the passport');
  await complete(page, 'Water the plants');
  await complete(page, 'Book the dentist');
  await expectCounts(page, { all: 3, active: 1, completed: 2 });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stats' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/stats');
  const heading = page.getByRole('heading', { level: 1 });
  await expect(heading).toHaveText('Your stats');
  await expect(heading).toBeFocused();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stats' })).toHaveAttribute('aria-current', 'page');

  await expectStats(page, { open: 1, completed: 2, created: 3, completedThisWeek: 2 });
  // Completed within seconds of being added.
  await expect(stat(page, 'Median time to complete')).toHaveText(/^(under 1 s|\d+ s)$/);
  const table = page.getByRole('table', { name: /^To-dos added and completed in each of the last 12 weeks/ });
  await expect(table.locator('tbody tr')).toHaveCount(12);
  await expect(table.getByRole('columnheader')).toHaveText(['Week', 'Created', 'Completed']);

  // The chart: a canvas Chart.js has drawn on, hidden from assistive technology (the table has its numbers).
  const canvas = page.locator('.stats-chart canvas');
  await expect(canvas).toBeVisible();
  await expect(page.locator('.stats-chart')).toHaveAttribute('aria-hidden', 'true');
  await expect.poll(() => canvas.evaluate(hasPaint)).toBe(true);
  const box = await canvas.boundingBox();
  expect(box?.width).toBeGreaterThan(200);
  expect(box?.height).toBeGreaterThan(150);
  await saveScreenshot(page, '15-stats');

  // A deep link opens the page by itself.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your stats');
  await expect(stat(page, 'Open')).toHaveText('1');
});

test('the stats page fits a phone-sized screen, and its chart follows the width', async ({ newBrowser, saveScreenshot }) => {
  const phone = await (await newBrowser({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true })).newPage();
  await signUp(phone, uniqueEmail('noah'));
  await addTodo(phone, 'Pick up the dry cleaning');
  await complete(phone, 'Pick up the dry cleaning');

  await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Stats' }).click();
  await expectStats(phone, { open: 0, completed: 1, created: 1, completedThisWeek: 1 });
  const canvas = phone.locator('.stats-chart canvas');
  await expect(canvas).toBeVisible();
  expect(await overflow(phone)).toBeLessThanOrEqual(0);
  const narrow = await canvas.boundingBox();
  expect(narrow?.width).toBeGreaterThan(200);
  expect(narrow?.width).toBeLessThanOrEqual(375);
  await saveScreenshot(phone, '16-phone-stats');

  // Turned sideways: the chart grows with the screen, still without sideways scrolling.
  await phone.setViewportSize({ width: 812, height: 375 });
  await expect.poll(async () => (await canvas.boundingBox())?.width ?? 0).toBeGreaterThan(narrow?.width ?? 0);
  expect(await overflow(phone)).toBeLessThanOrEqual(0);
});
