import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { User } from 'oidc-client-ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createUserManager } from '../auth/oidc';
import type { RuntimeConfig } from '../config';
import { FakeBackend, tokenFor } from '../testing/fakeBackend';
import { sessionEndFor } from './AccountDeletion';
import { App } from './App';

const CONFIG: RuntimeConfig = {
  apiBaseUrl: 'http://api.test/api',
  authority: 'http://auth.test/auth',
  clientId: 'todo-spa',
  redirectUri: 'http://localhost:3000/',
  postLogoutRedirectUri: 'http://localhost:3000/',
  scope: 'openid email profile aws.cognito.signin.user.admin',
  logoutUrl: null,
  cognitoEndpoint: 'http://cognito.test/',
};
const STORAGE_KEY = `oidc.user:${CONFIG.authority}:${CONFIG.clientId}`;

/** Signed in as `who`, as oidc-client-ts stores it; tokens as the fake back end reads them. */
function storeSignedInUser(who: string, { expired = false } = {}): void {
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = expired ? now - 60 : now + 3600;
  const user = new User({
    id_token: tokenFor(who),
    access_token: tokenFor(who),
    token_type: 'Bearer',
    profile: { sub: who, email: `${who}@example.com`, iss: CONFIG.authority, aud: CONFIG.clientId, exp: expiresAt, iat: now },
    expires_at: expiresAt,
  });
  window.localStorage.setItem(STORAGE_KEY, user.toStorageString());
}

/** Global fetch on the fake back end (its API and Cognito); anything else is refused and recorded. */
function stubNetwork(backend: FakeBackend): string[] {
  const elsewhere: string[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new Request(input, init).url;
    if (url.startsWith(CONFIG.apiBaseUrl) || url === CONFIG.cognitoEndpoint) return backend.fetch(input, init);
    elsewhere.push(url);
    throw new TypeError('Failed to fetch');
  });
  return elsewhere;
}

describe('deleting the account in the app', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('erases, deletes the sign-in with the access token, signs out here only and shows the landing page with the notice', async () => {
    const backend = new FakeBackend({ cognitoEndpoint: CONFIG.cognitoEndpoint });
    backend.seed('alice', 'Buy milk');
    const elsewhere = stubNetwork(backend);
    storeSignedInUser('alice');
    window.history.replaceState(null, '', '/account');
    const user = userEvent.setup();
    render(<App config={CONFIG} userManager={createUserManager(CONFIG, window.localStorage)} />);

    await user.click(await screen.findByRole('button', { name: 'Delete my account…' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete my account' }));

    const notice = await screen.findByText('Your account and all your data were deleted.');
    expect(notice.closest('[role="status"]')).not.toBeNull();
    expect(screen.getByRole('heading', { level: 1, name: 'Your to-do list, with its whole history' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Sign out' })).not.toBeInTheDocument();
    expect(window.location.pathname).toBe('/');

    expect(backend.todosOf('alice')).toEqual([]);
    expect(backend.hasSignIn('alice')).toBe(false);
    expect(backend.cognitoRequests.map((r) => r.body)).toEqual([{ AccessToken: 'token-alice' }]);
    expect(window.localStorage.getItem(STORAGE_KEY)).toBeNull();
    // No end-session round trip: the sign-in server no longer knows the user.
    expect(elsewhere).toEqual([]);
  });
});

describe('sessionEndFor', () => {
  it('renews an expired access token before DeleteUser, and forgets the user even when clearing the device fails', async () => {
    const backend = new FakeBackend({ cognitoEndpoint: CONFIG.cognitoEndpoint });
    stubNetwork(backend);
    storeSignedInUser('alice', { expired: true });
    const userManager = createUserManager(CONFIG, window.localStorage);
    const renewed = vi.spyOn(userManager, 'signinSilent').mockImplementation(async () => {
      storeSignedInUser('alice');
      return userManager.getUser();
    });
    const session = sessionEndFor(CONFIG, userManager, async () => {
      throw new Error('IndexedDB is blocked');
    });

    await session.deleteSignIn();
    expect(renewed).toHaveBeenCalledTimes(1);
    expect(backend.hasSignIn('alice')).toBe(false);

    await expect(session.forgetUser()).rejects.toThrow('IndexedDB is blocked');
    expect(window.localStorage.getItem(STORAGE_KEY)).toBeNull();
  });

  it('says so when nobody is signed in, instead of calling Cognito', async () => {
    const backend = new FakeBackend({ cognitoEndpoint: CONFIG.cognitoEndpoint });
    stubNetwork(backend);
    const session = sessionEndFor(CONFIG, createUserManager(CONFIG, window.localStorage));
    await expect(session.deleteSignIn()).rejects.toThrow('You are no longer signed in.');
    expect(backend.cognitoRequests).toEqual([]);
  });
});
