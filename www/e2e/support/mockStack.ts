/**
 * A stand-in for the local stack, entirely inside the browser context's request routing: the built
 * SPA from dist/, its /config.json, an OIDC provider (discovery, an authorize page shaped like the
 * dev sign-in's, with its accounts, a token endpoint that checks PKCE, and Cognito's DeleteUser at
 * `/auth/cognito-idp`), the API (the in-memory FakeBackend) and its live updates socket
 * (`/live?token=`, fed by the FakeBackend's changes). It lets
 * the browser tests run before todo-local exists; `npm run e2e` runs the same tests on the real one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, normalize, resolve } from 'node:path';
import type { BrowserContext, Route, WebSocketRoute } from '@playwright/test';
import { FakeBackend } from '../../src/testing/fakeBackend';

export const MOCK_ORIGIN = 'http://127.0.0.1:47999';
const MOCK_LIVE_URL = 'ws://127.0.0.1:47999/live';
const DIST = resolve(import.meta.dirname, '../../dist');
const CLIENT_ID = 'todo-spa';
const COGNITO_ENDPOINT = `${MOCK_ORIGIN}/auth/cognito-idp`;

interface CodeGrant {
  sub: string;
  email: string;
  challenge: string;
  redirectUri: string;
}

/** An account of the mock sign-in: like the dev sign-in's, a new `sub` each time one is created. */
interface Account {
  sub: string;
  password: string;
}

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function unsignedJwt(claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: 'RS256', kid: 'mock' }))}.${base64url(JSON.stringify(claims))}.bW9jaw`;
}

export function subjectOf(token: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : null;
  } catch {
    return null;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The authorize parameters the form carries through its post, as the dev sign-in's hidden fields. */
const CARRIED = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'scope', 'nonce'];

/** Shaped like the dev sign-in's page: a form posted to /auth/authorize, an error in a role=alert. */
function signInPage(params: URLSearchParams, email = '', error?: string): string {
  const hidden = CARRIED.filter((name) => params.has(name))
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? '')}">`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (mock)</title>
<style>body{font-family:system-ui;max-width:22rem;margin:10vh auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.4rem 0}input,button{padding:.5rem;font:inherit}</style>
</head><body><main><h1>Sign in (mock provider)</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/auth/authorize">${hidden}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit" name="action" value="sign-in">Sign in</button><button type="submit" name="action" value="create-account">Create account</button></form></main>
</body></html>`;
}

export class MockStack {
  readonly url = MOCK_ORIGIN;
  readonly backend = new FakeBackend({ baseUrl: `${MOCK_ORIGIN}/api`, userFromToken: subjectOf, cognitoEndpoint: COGNITO_ENDPOINT });
  /** Authorize requests seen, to check what the SPA asked for. */
  readonly authorizeRequests: URL[] = [];
  /** The sign-in's accounts, by email. */
  private readonly accounts = new Map<string, Account>();

  async install(context: BrowserContext): Promise<void> {
    await context.route(`${MOCK_ORIGIN}/**`, (route) => this.handle(route));
    await context.routeWebSocket(
      (url) => `${url.protocol}//${url.host}${url.pathname}` === MOCK_LIVE_URL,
      (socket) => this.serveLive(socket),
    );
  }

  /**
   * The live socket: every change of the token's user, as the back end's notifier pushes it. (A test
   * that routes a page's socket itself hands it on to this, in place of `connectToServer`.)
   */
  serveLive(socket: WebSocketRoute): void {
    const user = subjectOf(new URL(socket.url()).searchParams.get('token') ?? '');
    if (!user) {
      // The real server refuses before the upgrade; closing at once is the nearest a mock gets.
      void socket.close({ code: 1008, reason: 'unauthorized' });
      return;
    }
    const unwatch = this.backend.watch((owner, push) => {
      if (owner !== user) return;
      try {
        socket.send(JSON.stringify(push));
      } catch {
        unwatch();
      }
    });
    socket.onMessage(() => undefined);
    socket.onClose(() => unwatch());
  }

  private async handle(route: Route): Promise<void> {
    const request = route.request();
    const url = new URL(request.url());
    const path = url.pathname;

    if (path === '/config.json') {
      return route.fulfill({
        json: {
          apiBaseUrl: `${MOCK_ORIGIN}/api`,
          authority: `${MOCK_ORIGIN}/auth`,
          clientId: CLIENT_ID,
          redirectUri: `${MOCK_ORIGIN}/`,
          postLogoutRedirectUri: `${MOCK_ORIGIN}/`,
          scope: 'openid email profile aws.cognito.signin.user.admin',
          logoutUrl: null,
          liveUrl: MOCK_LIVE_URL,
          cognitoEndpoint: COGNITO_ENDPOINT,
        },
      });
    }
    if (path.startsWith('/api/')) return this.api(route);
    if (path === '/auth/.well-known/openid-configuration') {
      return route.fulfill({
        json: {
          issuer: `${MOCK_ORIGIN}/auth`,
          authorization_endpoint: `${MOCK_ORIGIN}/auth/authorize`,
          token_endpoint: `${MOCK_ORIGIN}/auth/token`,
          end_session_endpoint: `${MOCK_ORIGIN}/auth/logout`,
          jwks_uri: `${MOCK_ORIGIN}/auth/.well-known/jwks.json`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256'],
          subject_types_supported: ['public'],
        },
      });
    }
    if (path === '/auth/authorize' && request.method() === 'POST') return this.authorizeSubmit(route);
    if (path === '/auth/authorize') {
      this.authorizeRequests.push(url);
      return route.fulfill({ contentType: 'text/html', body: signInPage(url.searchParams) });
    }
    if (path === '/auth/cognito-idp') return this.cognito(route);
    if (path === '/auth/token' && request.method() === 'POST') return this.token(route);
    if (path === '/auth/logout') {
      return route.fulfill({ status: 302, headers: { Location: url.searchParams.get('post_logout_redirect_uri') ?? '/' } });
    }
    return this.staticFile(route, path);
  }

  private async api(route: Route): Promise<void> {
    const request = route.request();
    const sent = await request.allHeaders();
    const forwarded = Object.fromEntries(
      Object.entries(sent).filter(([name]) => ['authorization', 'content-type', 'if-match', 'accept'].includes(name)),
    );
    const response = await this.backend.fetch(request.url(), {
      method: request.method(),
      headers: forwarded,
      body: request.postData() ?? undefined,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return route.fulfill({ status: response.status, headers, body: await response.text() });
  }

  /** The sign-in form: "Create account" registers a new account, "Sign in" checks the password. */
  private async authorizeSubmit(route: Route): Promise<void> {
    const form = new URLSearchParams(route.request().postData() ?? '');
    const email = (form.get('email') ?? '').trim().toLowerCase();
    const password = form.get('password') ?? '';
    const refuse = (status: number, error: string) =>
      route.fulfill({ status, contentType: 'text/html', body: signInPage(form, form.get('email') ?? '', error) });
    if (!email.includes('@')) return refuse(400, 'Enter an email address like name@example.com.');
    if (!password) return refuse(400, 'Enter your password.');
    let account = this.accounts.get(email);
    if (form.get('action') === 'create-account') {
      if (account) return refuse(409, 'An account with this email already exists. Sign in instead.');
      account = { sub: randomUUID(), password };
      this.accounts.set(email, account);
    } else if (!account || account.password !== password) {
      return refuse(401, 'Incorrect email or password.');
    }
    const grant: CodeGrant = {
      sub: account.sub,
      email,
      challenge: form.get('code_challenge') ?? '',
      redirectUri: form.get('redirect_uri') ?? '',
    };
    const target = new URL(grant.redirectUri);
    target.searchParams.set('code', Buffer.from(JSON.stringify(grant)).toString('base64'));
    target.searchParams.set('state', form.get('state') ?? '');
    return route.fulfill({ status: 302, headers: { Location: target.toString() } });
  }

  /** Cognito's DeleteUser, answered by the FakeBackend; the account goes with its user. */
  private async cognito(route: Route): Promise<void> {
    const request = route.request();
    const response = await this.backend.fetch(request.url(), {
      method: request.method(),
      headers: await request.allHeaders(),
      body: request.postData() ?? undefined,
    });
    if (response.ok) {
      const token = (JSON.parse(request.postData() ?? '{}') as { AccessToken?: string }).AccessToken ?? '';
      const sub = subjectOf(token);
      for (const [email, account] of this.accounts) if (account.sub === sub) this.accounts.delete(email);
    }
    return route.fulfill({
      status: response.status,
      headers: { 'Content-Type': response.headers.get('Content-Type') ?? 'application/x-amz-json-1.1' },
      body: await response.text(),
    });
  }

  private async token(route: Route): Promise<void> {
    const form = new URLSearchParams(route.request().postData() ?? '');
    const fail = (error: string) => route.fulfill({ status: 400, json: { error } });
    let sub: string;
    let email: string;
    if (form.get('grant_type') === 'authorization_code') {
      let grant: CodeGrant;
      try {
        grant = JSON.parse(Buffer.from(form.get('code') ?? '', 'base64').toString()) as CodeGrant;
      } catch {
        return fail('invalid_grant');
      }
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return fail('invalid_grant: PKCE');
      if (form.get('redirect_uri') !== grant.redirectUri || form.get('client_id') !== CLIENT_ID) return fail('invalid_request');
      ({ sub, email } = grant);
    } else if (form.get('grant_type') === 'refresh_token') {
      try {
        ({ sub, email } = JSON.parse(Buffer.from((form.get('refresh_token') ?? '').replace(/^refresh-/, ''), 'base64url').toString()) as {
          sub: string;
          email: string;
        });
      } catch {
        return fail('invalid_grant');
      }
      // A deleted account's refresh token is refused, as Cognito revokes it.
      if (this.accounts.get(email)?.sub !== sub) return fail('invalid_grant');
    } else {
      return fail('unsupported_grant_type');
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: `${MOCK_ORIGIN}/auth`,
      aud: CLIENT_ID,
      sub,
      email,
      'cognito:username': email,
      token_use: 'id',
      iat: now,
      auth_time: now,
      exp: now + 3600,
    };
    return route.fulfill({
      json: {
        id_token: unsignedJwt(claims),
        access_token: unsignedJwt({ ...claims, token_use: 'access', aud: undefined, client_id: CLIENT_ID }),
        refresh_token: `refresh-${base64url(JSON.stringify({ sub, email }))}`,
        token_type: 'Bearer',
        expires_in: 3600,
      },
    });
  }

  private async staticFile(route: Route, path: string): Promise<void> {
    const file = normalize(join(DIST, decodeURIComponent(path)));
    if (file.startsWith(DIST) && existsSync(file) && statSync(file).isFile()) return route.fulfill({ path: file });
    // Like the local stack: unknown paths get the SPA, which routes them itself.
    return route.fulfill({ path: join(DIST, 'index.html'), contentType: 'text/html' });
  }
}
