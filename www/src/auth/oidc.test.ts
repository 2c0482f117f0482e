import { ErrorResponse, type User, type UserManager } from 'oidc-client-ts';
import { describe, expect, it, vi } from 'vitest';
import { NetworkError } from '../api/client';
import type { RuntimeConfig } from '../config';
import { createUserManager, idTokenSource, jwtExpiry, safeReturnPath, signOut } from './oidc';

const CONFIG: RuntimeConfig = {
  apiBaseUrl: 'http://127.0.0.1:8080/api',
  authority: 'http://127.0.0.1:8080/auth',
  clientId: 'todo-spa',
  redirectUri: 'http://127.0.0.1:8080/',
  postLogoutRedirectUri: 'http://127.0.0.1:8080/',
  scope: 'openid email profile',
  logoutUrl: null,
};

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${encode({ alg: 'RS256' })}.${encode(claims)}.signature`;
}

function fakeUserManager(user: Partial<User> | null, renewed?: Partial<User> | Error) {
  return {
    getUser: vi.fn(async () => user as User | null),
    signinSilent: vi.fn(async () => {
      if (renewed instanceof Error) throw renewed;
      return (renewed ?? null) as User | null;
    }),
    removeUser: vi.fn(async () => undefined),
    signoutRedirect: vi.fn(async () => undefined),
  };
}

describe('createUserManager', () => {
  it('uses the code flow with automatic renewal and the runtime config', () => {
    const manager = createUserManager(CONFIG, window.sessionStorage);
    expect(manager.settings).toMatchObject({
      authority: CONFIG.authority,
      client_id: 'todo-spa',
      redirect_uri: CONFIG.redirectUri,
      post_logout_redirect_uri: CONFIG.postLogoutRedirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      automaticSilentRenew: true,
    });
  });
});

describe('safeReturnPath', () => {
  it.each([
    [{ returnTo: '/history' }, '/history'],
    [{ returnTo: '/item/abc/history?x=1#top' }, '/item/abc/history?x=1#top'],
    [{ returnTo: '/?code=abc&state=def' }, '/'],
    [{ returnTo: '//evil.example/' }, '/'],
    [{ returnTo: 'https://evil.example/' }, '/'],
    [{ returnTo: '/\\evil.example' }, '/'],
    [undefined, '/'],
    ['nonsense', '/'],
  ])('%j -> %s', (state, path) => {
    expect(safeReturnPath(state)).toBe(path);
  });
});

describe('jwtExpiry', () => {
  it('reads exp from the payload, and nothing from garbage', () => {
    expect(jwtExpiry(jwt({ exp: 1_900_000_000, sub: 'u' }))).toBe(1_900_000_000);
    expect(jwtExpiry('not-a-jwt')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
  });
});

describe('idTokenSource', () => {
  const now = () => 1_000_000_000_000; // ms
  const inSeconds = (s: number) => now() / 1000 + s;

  it('returns the stored ID token (not the access token) while it is valid', async () => {
    const token = jwt({ exp: inSeconds(3600) });
    const manager = fakeUserManager({ id_token: token, access_token: 'access' });
    await expect(idTokenSource(manager as unknown as UserManager, now)()).resolves.toBe(token);
    expect(manager.signinSilent).not.toHaveBeenCalled();
  });

  it('renews first when the ID token is about to expire', async () => {
    const fresh = jwt({ exp: inSeconds(3600) });
    const manager = fakeUserManager({ id_token: jwt({ exp: inSeconds(10) }) }, { id_token: fresh });
    await expect(idTokenSource(manager as unknown as UserManager, now)()).resolves.toBe(fresh);
    expect(manager.signinSilent).toHaveBeenCalledTimes(1);
  });

  it('shares one renewal between concurrent calls', async () => {
    const fresh = jwt({ exp: inSeconds(3600) });
    const manager = fakeUserManager({ id_token: jwt({ exp: inSeconds(10) }) }, { id_token: fresh });
    const source = idTokenSource(manager as unknown as UserManager, now);
    await expect(Promise.all([source(), source(), source()])).resolves.toEqual([fresh, fresh, fresh]);
    expect(manager.signinSilent).toHaveBeenCalledTimes(1);
  });

  it('keeps a still-valid token when renewal fails, and gives none once it has expired', async () => {
    const almost = jwt({ exp: inSeconds(10) });
    const failing = fakeUserManager({ id_token: almost }, new Error('login_required'));
    await expect(idTokenSource(failing as unknown as UserManager, now)()).resolves.toBe(almost);

    const expired = fakeUserManager({ id_token: jwt({ exp: inSeconds(-10) }) }, new ErrorResponse({ error: 'login_required' }));
    await expect(idTokenSource(expired as unknown as UserManager, now)()).resolves.toBeNull();
  });

  it('rejects with a NetworkError when an expired token cannot be renewed because the provider is unreachable', async () => {
    // Offline: not a refusal, so nobody is sent to a sign-in page; queued changes wait for the network.
    const expired = fakeUserManager({ id_token: jwt({ exp: inSeconds(-10) }) }, new TypeError('Failed to fetch'));
    await expect(idTokenSource(expired as unknown as UserManager, now)()).rejects.toBeInstanceOf(NetworkError);
  });

  it('gives null when nobody is signed in', async () => {
    await expect(idTokenSource(fakeUserManager(null) as unknown as UserManager, now)()).resolves.toBeNull();
  });
});

describe('signOut', () => {
  it("with logoutUrl (Cognito): forgets the user, then goes to Cognito's logout with client_id and logout_uri", async () => {
    const manager = fakeUserManager({ id_token: 'x' });
    const assign = vi.fn();
    await signOut(manager as unknown as UserManager, { ...CONFIG, logoutUrl: 'https://todo.auth.eu-west-1.amazoncognito.com/logout' }, assign);
    expect(manager.removeUser).toHaveBeenCalled();
    expect(manager.signoutRedirect).not.toHaveBeenCalled();
    const url = new URL(assign.mock.calls[0][0] as string);
    expect(url.origin + url.pathname).toBe('https://todo.auth.eu-west-1.amazoncognito.com/logout');
    expect(url.searchParams.get('client_id')).toBe('todo-spa');
    expect(url.searchParams.get('logout_uri')).toBe('http://127.0.0.1:8080/');
  });

  it('without logoutUrl: RP-initiated logout through the end-session endpoint', async () => {
    const manager = fakeUserManager({ id_token: 'x' });
    const assign = vi.fn();
    await signOut(manager as unknown as UserManager, CONFIG, assign);
    expect(manager.signoutRedirect).toHaveBeenCalled();
    expect(assign).not.toHaveBeenCalled();
  });

  it('falls back to a local sign-out when the provider has no end-session endpoint', async () => {
    const manager = fakeUserManager({ id_token: 'x' });
    manager.signoutRedirect.mockRejectedValueOnce(new Error('No end session endpoint'));
    const assign = vi.fn();
    await signOut(manager as unknown as UserManager, CONFIG, assign);
    expect(manager.removeUser).toHaveBeenCalled();
    expect(assign).toHaveBeenCalledWith('http://127.0.0.1:8080/');
  });
});
