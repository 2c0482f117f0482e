import type { UserManager } from 'oidc-client-ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RuntimeConfig } from '../config';
import { createSessionApi } from './App';

const CONFIG: RuntimeConfig = {
  apiBaseUrl: 'http://127.0.0.1:8080/api',
  authority: 'http://127.0.0.1:8080/auth',
  clientId: 'todo-spa',
  redirectUri: 'http://127.0.0.1:8080/',
  postLogoutRedirectUri: 'http://127.0.0.1:8080/',
  scope: 'openid email profile',
  logoutUrl: null,
};

describe('a 401 from the API', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('shows a message, then sends the user to sign in once, returning to the same page', async () => {
    vi.useFakeTimers();
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'expired' } }), { status: 401 })),
    );
    window.history.replaceState(null, '', '/history');
    const userManager = {
      getUser: vi.fn(async () => ({ id_token: 'header.e30.sig' })),
      signinRedirect: vi.fn(async () => undefined),
      signinSilent: vi.fn(async () => null),
    };
    const showAlert = vi.fn();
    const api = createSessionApi(CONFIG, userManager as unknown as UserManager, showAlert, 1500);

    await expect(api.listTodos()).rejects.toMatchObject({ status: 401 });
    await expect(api.getHistory()).rejects.toMatchObject({ status: 401 });
    expect(showAlert).toHaveBeenCalledTimes(1);
    expect(showAlert.mock.calls[0][0]).toMatch(/session has expired.*sign-in page/);
    expect(userManager.signinRedirect).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1500);
    expect(userManager.signinRedirect).toHaveBeenCalledTimes(1);
    expect(userManager.signinRedirect).toHaveBeenCalledWith({ state: { returnTo: '/history' } });
  });
});
