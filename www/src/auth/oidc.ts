import { ErrorResponse, UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';
import { NetworkError } from '../api/client';
import type { RuntimeConfig } from '../config';

/**
 * Where the signed-in user (tokens and profile) is kept: localStorage.
 *
 * Why not sessionStorage (oidc-client-ts's default)? sessionStorage is per tab, so every new tab,
 * or a link opened in one, would need its own round trip to the sign-in page, and closing the tab
 * signs the user out: surprising for a to-do list people keep open in several tabs. localStorage
 * keeps one session across reloads and tabs. The cost: the tokens outlive the tab and a script
 * injected into this origin could read them (it could as well from sessionStorage). We accept it
 * because the ID/access tokens are short-lived (1 h on Cognito by default), the SPA renders no HTML
 * from user input (React escapes), and signing out removes the stored user in every case. A host
 * that wants per-tab sessions changes this one line.
 */
export function userStorage(): Storage {
  return window.localStorage;
}

/** Renew this long before the tokens expire, so no API call goes out with an expiring ID token. */
export const RENEW_BEFORE_EXPIRY_SECONDS = 120;

export function createUserManager(config: RuntimeConfig, storage: Storage = userStorage()): UserManager {
  return new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    post_logout_redirect_uri: config.postLogoutRedirectUri,
    scope: config.scope,
    // Authorization code flow; oidc-client-ts adds PKCE (S256) to every code request.
    response_type: 'code',
    // Renews before expiry: with a refresh token (Cognito issues one for the code grant) through the
    // token endpoint, otherwise through a hidden iframe (prompt=none) that loads redirect_uri.
    automaticSilentRenew: true,
    accessTokenExpiringNotificationTimeInSeconds: RENEW_BEFORE_EXPIRY_SECONDS,
    userStore: new WebStorageStateStore({ store: storage }),
    // The PKCE verifier and state live just across the redirect; localStorage also survives a
    // sign-in page opened from another tab.
    stateStore: new WebStorageStateStore({ store: storage, prefix: 'oidc.state.' }),
    loadUserInfo: false,
    // Cognito has no check_session_iframe.
    monitorSession: false,
  });
}

/** What we pass through the sign-in redirect to land the user back where they were. */
export interface SigninState {
  returnTo?: string;
}

export function currentPath(): string {
  return `${window.location.pathname}${window.location.search}${window.location.hash}`;
}

/** Only same-origin paths: a crafted state must not turn the callback into an open redirect. */
export function safeReturnPath(state: unknown): string {
  const returnTo = (state as SigninState | null | undefined)?.returnTo;
  if (typeof returnTo !== 'string' || !returnTo.startsWith('/') || returnTo.startsWith('//') || returnTo.includes('\\')) {
    return '/';
  }
  // Never return to a URL that still carries the callback's code/state.
  const url = new URL(returnTo, window.location.origin);
  url.searchParams.delete('code');
  url.searchParams.delete('state');
  url.searchParams.delete('session_state');
  url.searchParams.delete('iss');
  return `${url.pathname}${url.search}${url.hash}`;
}

/** Seconds since the epoch at which a JWT expires, or undefined when it cannot be read. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const claims: unknown = JSON.parse(atob(base64));
    const exp = (claims as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The ID token for API calls. The API takes the ID token, whose expiry can differ from the access
 * token's (which drives oidc-client-ts's renew timer), so check it here too and renew first when it
 * is about to expire. Resolves to null when there is no usable token: the API client turns that
 * into a 401, and the app sends the user to sign in.
 *
 * A renewal that could not reach the sign-in server (offline) is not a refusal: it rejects with a
 * NetworkError, like any request that cannot get out, so that nothing sends the user to a sign-in
 * page that cannot load and queued changes wait for the network instead.
 */
export function idTokenSource(userManager: UserManager, now: () => number = Date.now): () => Promise<string | null> {
  let renewing: Promise<{ user: User | null; error?: unknown }> | null = null;
  const usable = (token: string, marginSeconds: number) => {
    const exp = jwtExpiry(token);
    return exp === undefined || exp * 1000 > now() + marginSeconds * 1000;
  };
  return async () => {
    const user = await userManager.getUser();
    const token = user?.id_token;
    if (!token) return null;
    if (usable(token, 30)) return token;
    renewing ??= userManager
      .signinSilent()
      .then((user) => ({ user }), (error: unknown) => ({ user: null, error }))
      .finally(() => {
        renewing = null;
      });
    const { user: renewed, error } = await renewing;
    if (renewed?.id_token) return renewed.id_token;
    if (usable(token, 0)) return token;
    if (error !== undefined && !isRefusal(error)) throw new NetworkError('Could not reach the sign-in server to renew your session.', { cause: error });
    return null;
  };
}

/**
 * Sign out. With `logoutUrl` (Cognito managed login, which publishes no end_session_endpoint):
 * forget the user here, then let Cognito end its own session and come back to
 * postLogoutRedirectUri. Otherwise the provider's end-session endpoint (RP-initiated logout).
 */
export async function signOut(
  userManager: UserManager,
  config: RuntimeConfig,
  assign: (url: string) => void = (url) => window.location.assign(url),
): Promise<void> {
  if (config.logoutUrl) {
    await userManager.removeUser();
    const url = new URL(config.logoutUrl);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('logout_uri', config.postLogoutRedirectUri);
    assign(url.toString());
    return;
  }
  try {
    await userManager.signoutRedirect();
  } catch {
    // The provider has no end-session endpoint: signing out here is all that can be done.
    await userManager.removeUser();
    assign(config.postLogoutRedirectUri);
  }
}

/** The provider answered and said no (the refresh token is revoked or expired, a sign-in is needed). */
export function isRefusal(error: unknown): boolean {
  return error instanceof ErrorResponse;
}
