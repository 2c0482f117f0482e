/**
 * Runtime configuration, fetched from `/config.json` when the app starts and never baked into the
 * build: the same `dist/` runs against the local stack and against a Cognito user pool.
 */
export interface RuntimeConfig {
  apiBaseUrl: string;
  /** The OIDC issuer: the local dev sign-in or `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  authority: string;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scope: string;
  /**
   * Cognito publishes no `end_session_endpoint`; its managed login signs out at
   * `https://<domain>/logout?client_id=..&logout_uri=..`. Null: use the provider's end-session endpoint.
   */
  logoutUrl: string | null;
  /**
   * The live updates socket, `ws://` or `wss://` without a query (locally `ws://<host>/live`, on AWS
   * the WebSocket API's stage URL). Absent: no live updates; the list is as fresh as its last read.
   */
  liveUrl?: string;
  /**
   * Where Cognito's own API answers (`DeleteUser` with the user's access token, when they delete
   * their account): locally `http://<host>/auth/cognito-idp`. Absent: the authority's origin, which
   * is right for Cognito (`https://cognito-idp.<region>.amazonaws.com/<pool id>`). See cognitoEndpointOf.
   */
  cognitoEndpoint?: string;
}

export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

const REQUIRED = ['apiBaseUrl', 'authority', 'clientId', 'redirectUri', 'postLogoutRedirectUri'] as const;

export function parseConfig(raw: unknown): RuntimeConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('config.json is not a JSON object.');
  }
  const record = raw as Record<string, unknown>;
  const missing = REQUIRED.filter((key) => typeof record[key] !== 'string' || record[key] === '');
  if (missing.length > 0) {
    throw new ConfigError(`config.json is missing ${missing.join(', ')}.`);
  }
  const logoutUrl = record.logoutUrl;
  if (logoutUrl !== undefined && logoutUrl !== null && typeof logoutUrl !== 'string') {
    throw new ConfigError('config.json: logoutUrl must be a string or null.');
  }
  return {
    apiBaseUrl: record.apiBaseUrl as string,
    authority: record.authority as string,
    clientId: record.clientId as string,
    redirectUri: record.redirectUri as string,
    postLogoutRedirectUri: record.postLogoutRedirectUri as string,
    scope: typeof record.scope === 'string' && record.scope ? record.scope : 'openid email profile',
    logoutUrl: logoutUrl ? logoutUrl : null,
    liveUrl: parseLiveUrl(record.liveUrl),
    cognitoEndpoint: parseCognitoEndpoint(record.cognitoEndpoint),
  };
}

/** The endpoint of Cognito's API for this config: its `cognitoEndpoint`, else the authority's origin. */
export function cognitoEndpointOf(config: Pick<RuntimeConfig, 'authority' | 'cognitoEndpoint'>): string {
  return config.cognitoEndpoint ?? `${new URL(config.authority).origin}/`;
}

function parseCognitoEndpoint(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError('config.json: cognitoEndpoint must be a string or null.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`config.json: cognitoEndpoint ${value} is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`config.json: cognitoEndpoint must be an http:// or https:// URL, not ${value}.`);
  }
  return value;
}

function parseLiveUrl(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError('config.json: liveUrl must be a string or null.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`config.json: liveUrl ${value} is not a URL.`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ConfigError(`config.json: liveUrl must be a ws:// or wss:// URL, not ${value}.`);
  }
  return value;
}

export async function loadConfig(fetchImpl: typeof fetch = (i, init) => fetch(i, init)): Promise<RuntimeConfig> {
  let response: Response;
  try {
    // no-store: a changed config must take effect on the next load, whatever a CDN or the browser cached.
    response = await fetchImpl('/config.json', { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch (cause) {
    throw new ConfigError('Could not load /config.json: the server could not be reached.', { cause });
  }
  if (!response.ok) throw new ConfigError(`Could not load /config.json (HTTP ${response.status}).`);
  let raw: unknown;
  try {
    raw = await response.json();
  } catch (cause) {
    throw new ConfigError('/config.json is not valid JSON.', { cause });
  }
  return parseConfig(raw);
}
