/** What a user does in the SPA, as steps the specs share. */
import { expect, type Locator, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple 42';

let counter = 0;
export function uniqueEmail(who: string): string {
  counter += 1;
  return `${who}-${Date.now().toString(36)}-${counter}@example.com`;
}

/** From the landing page, through the sign-in page's "Create account", back to the list. */
export async function signUp(page: Page, email: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await fillCredentials(page, email);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await expectSignedIn(page);
}

export async function signIn(page: Page, email: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await fillCredentials(page, email);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expectSignedIn(page);
}

async function fillCredentials(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
}

export async function expectSignedIn(page: Page): Promise<void> {
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page).not.toHaveURL(/[?&]code=/);
}

export function addForm(page: Page): Locator {
  return page.getByRole('form', { name: 'Add a to-do' });
}

/** The list item of the to-do titled `title`. */
export function item(page: Page, title: string): Locator {
  return page.getByRole('listitem').filter({ has: page.getByRole('checkbox', { name: title, exact: true }) });
}

export async function expectSaved(page: Page): Promise<void> {
  await expect(page.locator('li.todo[aria-busy="true"]')).toHaveCount(0);
}

export async function addTodo(page: Page, title: string, notes?: string): Promise<void> {
  const form = addForm(page);
  await form.getByLabel('Title', { exact: true }).fill(title);
  if (notes) await form.getByLabel('Notes (optional)').fill(notes);
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByRole('checkbox', { name: title, exact: true })).toBeVisible();
  await expectSaved(page);
}

export async function editTodo(page: Page, title: string, change: { title?: string; notes?: string }): Promise<void> {
  await page.getByRole('button', { name: `Edit “${title}”` }).click();
  const editor = page.getByRole('form', { name: `Edit “${title}”` });
  if (change.title !== undefined) await editor.getByLabel('Title', { exact: true }).fill(change.title);
  if (change.notes !== undefined) await editor.getByLabel('Notes', { exact: true }).fill(change.notes);
  await editor.getByRole('button', { name: 'Save' }).click();
}

export function filter(page: Page, name: 'All' | 'Active' | 'Completed'): Locator {
  return page.getByRole('group', { name: 'Show' }).getByRole('button', { name: new RegExp(`^${name} \\d+$`) });
}

export async function expectCounts(page: Page, counts: { all: number; active: number; completed: number }): Promise<void> {
  await expect(filter(page, 'All')).toHaveText(`All ${counts.all}`);
  await expect(filter(page, 'Active')).toHaveText(`Active ${counts.active}`);
  await expect(filter(page, 'Completed')).toHaveText(`Completed ${counts.completed}`);
}

/** The badges of a history timeline, in order ("Created", "Edited", ...). */
export function timelineBadges(page: Page): Locator {
  return page.getByRole('list', { name: 'Events' }).locator('.timeline-entry .badge');
}
