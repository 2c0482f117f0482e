/**
 * Users' rights (issue 13): a user takes their data with them, then deletes their account. Every
 * to-do and its history is erased, the sign-in account is deleted too (Cognito's DeleteUser; the
 * local stack's dev sign-in answers it the same way), and the user is signed out with a notice.
 * Afterwards the sign-in does not know them, and signing up again with the same email starts empty.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { addTodo, expectSaved, PASSWORD, signUp, uniqueEmail } from '../support/app';
import { expectNoAxeViolations } from '../support/axe';
import { expect, test } from '../support/fixtures';

async function openAccountPage(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
}

test('download my data, delete the account: signed out with a notice, the sign-in forgets the email, a new sign-up starts empty', async ({
  page,
  saveScreenshot,
}) => {
  const email = uniqueEmail('rosa');
  await signUp(page, email);
  await addTodo(page, 'Renew passport', 'Photos first');
  await addTodo(page, 'Book the dentist');
  await page.getByRole('checkbox', { name: 'Book the dentist', exact: true }).check();
  await expectSaved(page);

  await openAccountPage(page);
  await page.getByRole('button', { name: 'Delete my account…' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Delete your account for good?' });
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await expect(dialog.getByRole('listitem')).toHaveText([
    'every to-do you have, open, completed or deleted;',
    'the whole history of each one, every change you ever made;',
    'your stats;',
    'your sign-in: you will not be able to sign in with it again.',
  ]);
  await expect(dialog).toContainText('It cannot be undone.');
  await expectNoAxeViolations(page, 'the confirmation to delete the account');

  // "Download my data" first, from the confirmation itself.
  const downloading = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Download my data' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^todo-export-\d{4}-\d{2}-\d{2}\.jsonl$/);
  const records = readFileSync(await download.path(), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { type?: string; data?: { title?: string; notes?: string }; digest?: { todos: number; events: number } });
  const events = records.slice(0, -1);
  expect(events.map((event) => event.type).sort()).toEqual(['TodoCompleted', 'TodoCreated', 'TodoCreated']);
  const created = events.filter((event) => event.type === 'TodoCreated').map((event) => event.data);
  expect(created).toEqual(
    expect.arrayContaining([
      { title: 'Renew passport', notes: 'Photos first' },
      { title: 'Book the dentist' },
    ]),
  );
  expect(records[records.length - 1].digest).toMatchObject({ todos: 2, events: 3 });
  await expect(dialog.getByText(`Downloaded ${download.suggestedFilename()}: 3 events and the digest.`)).toBeVisible();
  await saveScreenshot(page, '20-delete-account-confirmation');

  await dialog.getByRole('button', { name: 'Delete my account', exact: true }).click();
  const notice = page.getByRole('status').filter({ hasText: 'Your account and all your data were deleted.' });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText(/Erasure receipt \S+: 3 events and 2 to-dos erased\./);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your to-do list, with its whole history');
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  await expect(page).toHaveURL((url) => url.pathname === '/');
  await expectNoAxeViolations(page, 'the landing page after the deletion');
  await saveScreenshot(page, '21-account-deleted');

  // The sign-in no longer knows the user.
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Incorrect email or password.');

  // The same email signs up again, to an empty account.
  await signUp(page, email);
  await expect(page.getByText('Nothing to do yet. Add your first to-do above.')).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(page.getByText('Nothing has happened yet.')).toBeVisible();
});

test('cancelling the confirmation keeps everything', async ({ page }) => {
  await signUp(page, uniqueEmail('sven'));
  await addTodo(page, 'Keep me');
  await openAccountPage(page);

  const opener = page.getByRole('button', { name: 'Delete my account…' });
  await opener.click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alertdialog')).toHaveCount(0);
  await expect(opener).toBeFocused();
  await opener.click();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('alertdialog')).toHaveCount(0);

  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'To-dos' }).click();
  await expect(page.getByRole('checkbox', { name: 'Keep me', exact: true })).toBeVisible();
});
