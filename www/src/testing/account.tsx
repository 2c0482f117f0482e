import { vi } from 'vitest';
import { deleteCognitoUser } from '../auth/cognito';
import { AccountDeletionProvider, type SessionEnd } from '../components/AccountDeletion';
import { AccountPage } from '../components/AccountPage';
import { SignedOutNotice, SignedOutNoticeProvider } from '../components/SignedOutNotice';
import { FakeBackend, tokenFor } from './fakeBackend';
import { renderWithBackend, USER } from './render';

export const COGNITO_ENDPOINT = 'http://cognito.test/';

/**
 * The account page as the signed-in app has it: the real API client and Cognito's DeleteUser, both
 * on the fake back end; signing out is a spy, and the landing page's notice is rendered beside it.
 */
export function renderAccountPage(backend = new FakeBackend({ cognitoEndpoint: COGNITO_ENDPOINT }), user = USER) {
  const forgetUser = vi.fn(async () => undefined);
  const session: SessionEnd = {
    deleteSignIn: () => deleteCognitoUser(COGNITO_ENDPOINT, tokenFor(user), backend.fetch),
    forgetUser,
  };
  const result = renderWithBackend(
    <SignedOutNoticeProvider>
      <AccountDeletionProvider session={session}>
        <AccountPage />
      </AccountDeletionProvider>
      <SignedOutNotice />
    </SignedOutNoticeProvider>,
    backend,
    user,
  );
  return { ...result, forgetUser };
}
