/**
 * axe-core on every view of the app, online (the offline, pending and conflict states are checked in
 * offline.spec.ts): 0 violations of the rules axe runs by default.
 */
import { addTodo, editTodo, signUp, uniqueEmail } from '../support/app';
import { expectNoAxeViolations } from '../support/axe';
import { expect, test } from '../support/fixtures';

test('every view has no axe violations', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Create an account' })).toBeVisible();
  await expectNoAxeViolations(page, 'the landing page');

  await signUp(page, uniqueEmail('axel'));
  await expectNoAxeViolations(page, 'the empty list');
  await addTodo(page, 'Water the plants', 'The ferns too');
  await addTodo(page, 'Call the bank');
  await editTodo(page, 'Water the plants', { title: 'Water the plants today' });
  await expect(page.locator('li.todo[aria-busy="true"]')).toHaveCount(0);
  await page.getByRole('checkbox', { name: 'Call the bank', exact: true }).check();
  await expectNoAxeViolations(page, 'the list');

  await page.getByRole('button', { name: 'Delete “Call the bank”' }).click();
  await expect(page.getByRole('alertdialog', { name: 'Delete this to-do?' })).toBeVisible();
  await expectNoAxeViolations(page, 'the delete confirmation');
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('link', { name: 'History of “Water the plants today”' }).click();
  await expect(page.getByRole('list', { name: 'Events' }).locator('.timeline-entry')).toHaveCount(2);
  await expectNoAxeViolations(page, 'a to-do’s history');

  await page.getByRole('link', { name: 'View version 1' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Version 1 of 2/);
  await expectNoAxeViolations(page, 'a past version');

  await page.getByRole('link', { name: 'History', exact: true }).click();
  await expect(page.getByRole('list', { name: 'Events' }).locator('.timeline-entry')).toHaveCount(4);
  await expectNoAxeViolations(page, 'your history');

  await page.goto(`/history/as-of/${encodeURIComponent(new Date(Date.now() - 1000).toISOString())}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Your list as it stood on/);
  await expectNoAxeViolations(page, 'the list as of a moment');

  await page.getByRole('link', { name: 'Stats' }).click();
  await expect(page.getByRole('table')).toBeVisible();
  await expectNoAxeViolations(page, 'stats');

  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectNoAxeViolations(page, 'account');

  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expectNoAxeViolations(page, 'page not found');
});
