import { describe, expect, it, vi } from 'vitest';
import { NetworkError } from '../api/client';
import { FakeBackend, tokenFor } from '../testing/fakeBackend';
import { CognitoError, deleteCognitoUser } from './cognito';

const ENDPOINT = 'http://cognito.test/';

describe('deleteCognitoUser', () => {
  it("sends Cognito's DeleteUser with the access token, and the sign-in is gone", async () => {
    const backend = new FakeBackend({ cognitoEndpoint: ENDPOINT });
    await deleteCognitoUser(ENDPOINT, tokenFor('alice'), backend.fetch);

    expect(backend.cognitoRequests).toEqual([
      {
        method: 'POST',
        path: '/',
        search: '',
        headers: expect.objectContaining({
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.DeleteUser',
        }),
        body: { AccessToken: 'token-alice' },
      },
    ]);
    expect(backend.hasSignIn('alice')).toBe(false);
    expect(backend.hasSignIn('bob')).toBe(true);
  });

  it("rejects with Cognito's exception and message", async () => {
    const backend = new FakeBackend({ cognitoEndpoint: ENDPOINT });
    backend.refuseDeleteUser('NotAuthorizedException', 'Access Token has expired');
    const error = await deleteCognitoUser(ENDPOINT, tokenFor('alice'), backend.fetch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognitoError);
    expect(error).toMatchObject({ type: 'NotAuthorizedException', message: 'Access Token has expired', status: 400 });
    expect(backend.hasSignIn('alice')).toBe(true);
  });

  it('drops the namespace AWS may put before the exception, and copes with a body that is not JSON', async () => {
    const namespaced = vi.fn(
      async () =>
        new Response(JSON.stringify({ __type: 'com.amazonaws.cognito.identity.idp.model#TooManyRequestsException', message: 'Rate exceeded' }), {
          status: 400,
        }),
    );
    await expect(deleteCognitoUser(ENDPOINT, 'token', namespaced)).rejects.toMatchObject({ type: 'TooManyRequestsException', message: 'Rate exceeded' });

    const html = vi.fn(async () => new Response('<html>Bad gateway</html>', { status: 502 }));
    await expect(deleteCognitoUser(ENDPOINT, 'token', html)).rejects.toMatchObject({
      type: 'HTTP 502',
      message: 'The sign-in service answered with an error (502).',
    });
  });

  it('takes "no such user" as done (a retry after the answer was lost), and no answer as a network error', async () => {
    const backend = new FakeBackend({ cognitoEndpoint: ENDPOINT });
    backend.refuseDeleteUser('UserNotFoundException', 'User does not exist.');
    await expect(deleteCognitoUser(ENDPOINT, tokenFor('alice'), backend.fetch)).resolves.toBeUndefined();

    const offline = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(deleteCognitoUser(ENDPOINT, 'token', offline)).rejects.toBeInstanceOf(NetworkError);
  });

  it('refuses a token whose sign-in is already deleted, as Cognito does', async () => {
    const backend = new FakeBackend({ cognitoEndpoint: ENDPOINT });
    await deleteCognitoUser(ENDPOINT, tokenFor('alice'), backend.fetch);
    await expect(deleteCognitoUser(ENDPOINT, tokenFor('alice'), backend.fetch)).rejects.toMatchObject({ type: 'NotAuthorizedException' });
    // And the API no longer takes that user's tokens.
    const list = await backend.fetch('http://api.test/api/item', { headers: { Authorization: `Bearer ${tokenFor('alice')}` } });
    expect(list.status).toBe(401);
  });
});
