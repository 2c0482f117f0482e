/**
 * Cognito's own API, for the one call the SPA makes to it: `DeleteUser`, which deletes the signed-in
 * user's sign-in account with their access token (scope `aws.cognito.signin.user.admin`). The local
 * stack answers the same request at its `cognitoEndpoint`.
 */
import { NetworkError } from '../api/client';

/** Cognito said no: `{"__type": "NotAuthorizedException", "message": "..."}`, usually with a 400. */
export class CognitoError extends Error {
  /** The exception's name without its namespace, e.g. `NotAuthorizedException`. */
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status: number) {
    super(message);
    this.name = 'CognitoError';
    this.type = type;
    this.status = status;
  }
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const DELETE_USER = 'AWSCognitoIdentityProviderService.DeleteUser';

/**
 * Deletes the user the access token belongs to. Resolves once Cognito says it is done, or says the
 * user no longer exists (a retry after an answer that was lost on the way); rejects otherwise.
 */
export async function deleteCognitoUser(
  endpoint: string,
  accessToken: string,
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): Promise<void> {
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': CONTENT_TYPE, 'X-Amz-Target': DELETE_USER },
      body: JSON.stringify({ AccessToken: accessToken }),
    });
  } catch (cause) {
    throw new NetworkError('Could not reach the sign-in service. Check your connection and try again.', { cause });
  }
  if (response.ok) return;
  const error = await cognitoErrorFrom(response);
  if (error.type === 'UserNotFoundException') return;
  throw error;
}

async function cognitoErrorFrom(response: Response): Promise<CognitoError> {
  let type = `HTTP ${response.status}`;
  let message = `The sign-in service answered with an error (${response.status}).`;
  try {
    const parsed = (await response.json()) as { __type?: unknown; message?: unknown; Message?: unknown } | null;
    // AWS may send the type with its namespace: `com.amazonaws...#NotAuthorizedException`.
    if (typeof parsed?.__type === 'string' && parsed.__type) type = parsed.__type.split('#').pop() ?? type;
    const text = parsed?.message ?? parsed?.Message;
    if (typeof text === 'string' && text) message = text;
  } catch {
    // Not JSON (a proxy's error page): keep the generic message.
  }
  return new CognitoError(type, message, response.status);
}
