/**
 * Sign-in while offline (the real stack only, like offline.spec.ts: it needs the service worker,
 * which the mock project blocks, see playwright.config.ts). Tokens that expire while the page is
 * offline do not drop the changes queued meanwhile: back online, the SPA renews the session with its
 * refresh token without asking anything, or, when the sign-in server refuses that, asks the user to
 * sign in again, and then sends the queue. The server's histories then hold each change once.
 *
 * How the session is made to expire: the dev sign-in's tokens last an hour, so the test ages the
 * stored session instead of waiting. oidc-client-ts keeps the user in localStorage
 * (`oidc.user:<authority>:<client>`); both clocks the SPA reads are put in the past: the user's
 * `expires_at` (what oidc-client-ts and react-oidc-context call expired) and the `exp` claim of the
 * ID token (what the SPA checks before each API call, see idTokenSource in src/auth/oidc.ts). The
 * rewritten ID token keeps its claims otherwise but no longer matches its signature: were the SPA
 * ever to send it instead of renewing, the API would answer 401 and the SPA would show its
 * "session expired" prompt, which the first test asserts never happens.
 */
import type { APIRequestContext, BrowserContext, Page, Request } from '@playwright/test';
import { addTodo, expectSignedIn, item, PASSWORD, signUp, uniqueEmail } from '../support/app';
import { expect, test } from '../support/fixtures';

/** The page is controlled by the service worker, whose install precached the shell and config.json. */
async function expectInstalled(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null && (await caches.match('/config.json')) !== undefined;
  });
}

interface StoredUser {
  id_token: string;
  refresh_token?: string;
  expires_at?: number;
}

/** The signed-in user as oidc-client-ts stored it. */
async function storedUser(page: Page): Promise<StoredUser> {
  return page.evaluate(() => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('oidc.user:'));
    const user = key ? (JSON.parse(localStorage.getItem(key) ?? '{}') as StoredUser) : undefined;
    if (!user?.id_token) throw new Error('not signed in');
    return user;
  });
}

/** Seconds since the epoch at which a JWT expires (its `exp` claim). */
function jwtExpiry(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number };
  return payload.exp;
}

/**
 * Ages the stored session as an hour offline would: `expires_at` and the ID token's `exp` a minute
 * in the past. Returns the ID token as it is now stored.
 */
async function expireStoredSession(page: Page): Promise<string> {
  return page.evaluate(() => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('oidc.user:'));
    if (!key) throw new Error('not signed in');
    const user = JSON.parse(localStorage.getItem(key) as string) as {
      id_token: string;
      expires_at: number;
      profile: Record<string, unknown>;
    };
    const past = Math.floor(Date.now() / 1000) - 60;
    const [header, payload, signature] = user.id_token.split('.');
    const decode = (part: string) => atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const encode = (text: string) => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const claims = JSON.parse(decode(payload)) as Record<string, unknown>;
    user.id_token = [header, encode(JSON.stringify({ ...claims, exp: past })), signature].join('.');
    user.expires_at = past;
    user.profile = { ...user.profile, exp: past };
    localStorage.setItem(key, JSON.stringify(user));
    return user.id_token;
  });
}

/** The changes waiting in this origin's offline queue (IndexedDB `todo-offline-<sub>`, store `outbox`). */
async function queuedOnDevice(page: Page): Promise<{ kind: string; title: string; state: string }[]> {
  return page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((db) => db.name ?? '').filter((name) => name.startsWith('todo-offline-'));
    if (names.length !== 1) throw new Error(`expected one offline database, found ${JSON.stringify(names)}`);
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const opening = indexedDB.open(names[0]);
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error ?? new Error('could not open the offline database'));
    });
    try {
      const ops = await new Promise<{ kind: string; title: string; state: string }[]>((resolve, reject) => {
        const reading = db.transaction('outbox').objectStore('outbox').getAll();
        reading.onsuccess = () => resolve(reading.result as { kind: string; title: string; state: string }[]);
        reading.onerror = () => reject(reading.error ?? new Error('could not read the queue'));
      });
      return ops.map(({ kind, title, state }) => ({ kind, title, state }));
    } finally {
      db.close();
    }
  });
}

interface Event {
  todoId: string;
  type: string;
  data: { title?: string; completed?: boolean };
}

async function api<T>(request: APIRequestContext, token: string, path: string): Promise<T> {
  const response = await request.get(`/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status(), path).toBe(200);
  return (await response.json()) as T;
}

function offlineNote(page: Page) {
  return page.getByRole('region', { name: 'Your to-dos' }).locator('.offline-note');
}

const SESSION_EXPIRED = 'Your session has expired or is no longer valid. Taking you to the sign-in page…';

/** What the page asks of the sign-in server: token requests (by grant) and sign-in page loads. */
function watchSignIn(page: Page) {
  const seen = { refreshGrants: 0, codeGrants: 0, signInPages: 0 };
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (url.pathname === '/auth/token' && request.method() === 'POST') {
      const grant = new URLSearchParams(request.postData() ?? '').get('grant_type');
      if (grant === 'refresh_token') seen.refreshGrants += 1;
      if (grant === 'authorization_code') seen.codeGrants += 1;
    }
    if (url.pathname === '/auth/authorize' && request.isNavigationRequest()) seen.signInPages += 1;
  });
  return seen;
}

/**
 * Signs up, adds Alpha and Bravo online, installs, then offline creates Charlie and completes
 * Alpha (queued, shown as not sent), ages the session and reloads offline: still shown as pending.
 */
async function queueChangesWhileOfflineThenExpire(
  page: Page,
  context: BrowserContext,
  email: string,
  beforeExpiry: () => Promise<void> = async () => undefined,
) {
  await signUp(page, email);
  await addTodo(page, 'Alpha');
  await addTodo(page, 'Bravo');
  const ids = {
    Alpha: (await item(page, 'Alpha').getAttribute('data-id')) as string,
    Bravo: (await item(page, 'Bravo').getAttribute('data-id')) as string,
  };
  await expectInstalled(page);
  const before = await storedUser(page);
  expect(before.refresh_token, 'the dev sign-in issues a refresh token').toBeTruthy();

  await context.setOffline(true);
  await addTodo(page, 'Charlie');
  // A click, not check(): the box turns once the change is stored in IndexedDB, a moment later.
  await item(page, 'Alpha').getByRole('checkbox').click();
  await expect(page.getByRole('checkbox', { name: 'Alpha', exact: true })).toBeChecked();
  await expect(offlineNote(page)).toContainText('2 changes wait to be sent.');

  await beforeExpiry();
  const expiredToken = await expireStoredSession(page);

  // Opened again with the network still down and the session expired: the list and its queue are here.
  await page.reload();
  await expect(page.locator('.todo-title')).toHaveText(['Alpha', 'Bravo', 'Charlie']);
  await expect(item(page, 'Charlie')).toContainText('Added here, not sent yet');
  await expect(item(page, 'Alpha')).toContainText('Change not sent yet');
  await expect(page.getByRole('checkbox', { name: 'Alpha', exact: true })).toBeChecked();
  await expect(item(page, 'Bravo')).not.toContainText('not sent');
  await expect(offlineNote(page)).toContainText('2 changes wait to be sent.');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  // Nothing reached the server meanwhile, and the expired session is still the stored one.
  expect((await storedUser(page)).id_token).toBe(expiredToken);

  return { ids, before, expiredToken };
}

/** The server has exactly the online creates, then the two offline changes, each once. */
async function expectEventsOnServer(request: APIRequestContext, token: string, ids: { Alpha: string; Bravo: string }) {
  const { items } = await api<{ items: { id: string; title: string; completed: boolean }[] }>(request, token, '/item');
  expect(items.map((todo) => [todo.title, todo.completed])).toEqual([
    ['Alpha', true],
    ['Bravo', false],
    ['Charlie', false],
  ]);
  const charlie = items.find((todo) => todo.title === 'Charlie')?.id as string;
  const history = async (todoId: string) =>
    (await api<{ events: Event[] }>(request, token, `/item/${todoId}/history`)).events.map((event) => event.type);
  expect(await history(ids.Alpha)).toEqual(['TodoCreated', 'TodoCompleted']);
  expect(await history(ids.Bravo)).toEqual(['TodoCreated']);
  expect(await history(charlie)).toEqual(['TodoCreated']);

  const all = (await api<{ events: Event[] }>(request, token, '/history?limit=100')).events;
  const title = (todoId: string) => items.find((todo) => todo.id === todoId)?.title ?? todoId;
  expect(all.map((event) => `${event.type} ${title(event.todoId)}`)).toEqual([
    'TodoCreated Alpha',
    'TodoCreated Bravo',
    'TodoCreated Charlie',
    'TodoCompleted Alpha',
  ]);
}

test('a session that expired offline is renewed with the refresh token on reconnect, without asking, and the queue is sent once', async ({
  page,
  context,
  request,
}) => {
  const { ids, before, expiredToken } = await queueChangesWhileOfflineThenExpire(page, context, uniqueEmail('rena'));
  const seen = watchSignIn(page);

  await context.setOffline(false);
  await expect(page.locator('li.todo-pending')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.locator('.todo-title')).toHaveText(['Alpha', 'Bravo', 'Charlie']);
  await expect(page.getByRole('checkbox', { name: 'Alpha', exact: true })).toBeChecked();
  await expect(offlineNote(page)).toHaveText('');

  // Renewed silently: through the token endpoint with the refresh token, never the sign-in page.
  expect(seen.refreshGrants).toBeGreaterThanOrEqual(1);
  expect(seen.signInPages).toBe(0);
  expect(seen.codeGrants).toBe(0);
  await expect(page.getByText(SESSION_EXPIRED)).toHaveCount(0);
  expect(new URL(page.url()).pathname).toBe('/');
  await expectSignedIn(page);
  const renewed = await storedUser(page);
  expect(renewed.id_token).not.toBe(expiredToken);
  expect(renewed.id_token).not.toBe(before.id_token);
  expect(renewed.refresh_token, 'the refresh token rotated').not.toBe(before.refresh_token);
  expect(jwtExpiry(renewed.id_token) * 1000).toBeGreaterThan(Date.now());
  expect((renewed.expires_at as number) * 1000).toBeGreaterThan(Date.now());

  await expectEventsOnServer(request, renewed.id_token, ids);
});

test('a session that expired offline and cannot be renewed asks the user to sign in; the queue waits and is sent once after', async ({
  page,
  context,
  request,
}) => {
  const email = uniqueEmail('sigrid');
  let revoked: StoredUser | undefined;
  const { ids } = await queueChangesWhileOfflineThenExpire(page, context, email, async () => {
    // Meanwhile the sign-in ends elsewhere (e.g. signed out on another device): the dev sign-in's
    // logout with id_token_hint revokes every refresh token of that sign-in, as Cognito's
    // revocation does. The test's own request context is online.
    revoked = await storedUser(page);
    const logout = await request.get('/auth/logout', { params: { id_token_hint: revoked.id_token }, maxRedirects: 0 });
    expect(logout.status()).toBe(200);
  });
  // The sign-in server now refuses the stored refresh token.
  const refused = await request.post('/auth/token', {
    form: { grant_type: 'refresh_token', refresh_token: revoked?.refresh_token as string, client_id: 'todo-spa' },
  });
  expect(refused.status()).toBe(400);
  expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant');

  const seen = watchSignIn(page);
  await context.setOffline(false);

  // The renewal is refused: the SPA says so and opens the sign-in page.
  await expect(page.getByRole('alert').filter({ hasText: SESSION_EXPIRED })).toBeVisible({ timeout: 15_000 });
  await expect(page).toHaveURL(/\/auth\/authorize\?/, { timeout: 15_000 });
  await expect(page.getByRole('heading', { name: 'Sign in to To Do' })).toBeVisible();
  expect(seen.refreshGrants).toBeGreaterThanOrEqual(1);
  expect(seen.signInPages).toBe(1);
  // While the user is on the sign-in page, both changes still wait in this device's queue.
  expect(await queuedOnDevice(page)).toEqual([
    { kind: 'create', title: 'Charlie', state: 'pending' },
    { kind: 'complete', title: 'Alpha', state: 'pending' },
  ]);

  // Signed in again, as the same user: back on the list, and the queue goes out.
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expectSignedIn(page);
  expect(new URL(page.url()).pathname).toBe('/');
  await expect(page.locator('li.todo-pending')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.locator('.todo-title')).toHaveText(['Alpha', 'Bravo', 'Charlie']);
  await expect(page.getByRole('checkbox', { name: 'Alpha', exact: true })).toBeChecked();
  expect(seen.codeGrants).toBe(1);

  const signedInAgain = await storedUser(page);
  expect(signedInAgain.id_token).not.toBe(revoked?.id_token);
  await expectEventsOnServer(request, signedInAgain.id_token, ids);
});
