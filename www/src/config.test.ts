import { describe, expect, it, vi } from 'vitest';
import { cognitoEndpointOf, ConfigError, loadConfig, parseConfig } from './config';

const LOCAL = {
  apiBaseUrl: 'http://127.0.0.1:8080/api',
  authority: 'http://127.0.0.1:8080/auth',
  clientId: 'todo-spa',
  redirectUri: 'http://127.0.0.1:8080/',
  postLogoutRedirectUri: 'http://127.0.0.1:8080/',
  scope: 'openid email profile',
  logoutUrl: null,
};

describe('parseConfig', () => {
  it('accepts the local stack config', () => {
    expect(parseConfig(LOCAL)).toEqual(LOCAL);
  });

  it('accepts a Cognito config with a logoutUrl, and defaults the scope', () => {
    const { scope: _scope, ...rest } = LOCAL;
    const config = parseConfig({ ...rest, logoutUrl: 'https://x.auth.eu-west-1.amazoncognito.com/logout' });
    expect(config.logoutUrl).toBe('https://x.auth.eu-west-1.amazoncognito.com/logout');
    expect(config.scope).toBe('openid email profile');
  });

  it('takes a ws:// or wss:// liveUrl, and no liveUrl as "no live updates"', () => {
    expect(parseConfig({ ...LOCAL, liveUrl: 'ws://127.0.0.1:8080/live' }).liveUrl).toBe('ws://127.0.0.1:8080/live');
    expect(parseConfig({ ...LOCAL, liveUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod' }).liveUrl).toBe(
      'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
    );
    expect(parseConfig(LOCAL).liveUrl).toBeUndefined();
    expect(parseConfig({ ...LOCAL, liveUrl: null }).liveUrl).toBeUndefined();
    expect(() => parseConfig({ ...LOCAL, liveUrl: 'http://127.0.0.1:8080/live' })).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => parseConfig({ ...LOCAL, liveUrl: 42 })).toThrow(ConfigError);
  });

  it("takes a cognitoEndpoint, and without one uses the authority's origin (Cognito's API)", () => {
    const local = parseConfig({ ...LOCAL, cognitoEndpoint: 'http://127.0.0.1:8080/auth/cognito-idp' });
    expect(local.cognitoEndpoint).toBe('http://127.0.0.1:8080/auth/cognito-idp');
    expect(cognitoEndpointOf(local)).toBe('http://127.0.0.1:8080/auth/cognito-idp');

    const cognito = parseConfig({ ...LOCAL, authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123' });
    expect(cognito.cognitoEndpoint).toBeUndefined();
    expect(cognitoEndpointOf(cognito)).toBe('https://cognito-idp.eu-west-1.amazonaws.com/');
    expect(parseConfig({ ...LOCAL, cognitoEndpoint: null }).cognitoEndpoint).toBeUndefined();

    expect(() => parseConfig({ ...LOCAL, cognitoEndpoint: 'cognito-idp' })).toThrow(/cognitoEndpoint cognito-idp is not a URL/);
    expect(() => parseConfig({ ...LOCAL, cognitoEndpoint: 'ws://127.0.0.1:8080/x' })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseConfig({ ...LOCAL, cognitoEndpoint: 7 })).toThrow(ConfigError);
  });

  it('names what is missing', () => {
    expect(() => parseConfig({ ...LOCAL, clientId: '', authority: undefined })).toThrow(/authority, clientId/);
    expect(() => parseConfig([])).toThrow(ConfigError);
  });
});

describe('loadConfig', () => {
  it('fetches /config.json without caching', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify(LOCAL), { status: 200 }));
    await expect(loadConfig(fetchMock)).resolves.toEqual(LOCAL);
    expect(fetchMock).toHaveBeenCalledWith('/config.json', expect.objectContaining({ cache: 'no-store' }));
  });

  it('explains a missing or broken file', async () => {
    await expect(loadConfig(async () => new Response('nope', { status: 404 }))).rejects.toThrow(/HTTP 404/);
    await expect(loadConfig(async () => new Response('{', { status: 200 }))).rejects.toThrow(/not valid JSON/);
  });
});
