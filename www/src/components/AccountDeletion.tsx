import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import type { UserManager } from 'oidc-client-ts';
import { eraseAccount, type ErasedCounts, type ErasureReceipt } from '../api/account';
import { deleteCognitoUser } from '../auth/cognito';
import { cognitoEndpointOf, type RuntimeConfig } from '../config';
import { describeError } from '../lib/errors';
import { navigate } from '../lib/router';
import { useApi } from './ApiContext';
import { plural } from './DownloadMyData';
import { useSignedOutNotice } from './SignedOutNotice';

/**
 * Where an account deletion stands. It lives above the pages, so that leaving the account page
 * (the back button) neither stops it nor hides how it ended.
 */
export type Deletion =
  | { phase: 'idle' }
  /** `erased`: what the server has erased so far (null before its first answer). */
  | { phase: 'erasing'; erased: ErasedCounts | null }
  | { phase: 'eraseFailed'; message: string }
  | { phase: 'deletingSignIn'; receipt: ErasureReceipt }
  | { phase: 'signInFailed'; receipt: ErasureReceipt; message: string }
  | { phase: 'deleted'; receipt: ErasureReceipt };

/** What ending the session takes, besides the API. */
export interface SessionEnd {
  /** Deletes the sign-in account itself (Cognito's DeleteUser with the user's access token). */
  deleteSignIn(): Promise<void>;
  /** Forgets the user on this device: the stored tokens and whatever else is kept for them. */
  forgetUser(): Promise<void>;
}

interface AccountDeletionApi {
  deletion: Deletion;
  /** Erases the data (or resumes an erasure that failed), then deletes the sign-in, then signs out. */
  deleteAccount(): void;
  /** After the data is erased and only the sign-in's deletion failed: tries that again. */
  retrySignInDeletion(): void;
}

const AccountDeletionContext = createContext<AccountDeletionApi | null>(null);

export function useAccountDeletion(): AccountDeletionApi {
  const api = useContext(AccountDeletionContext);
  if (!api) throw new Error('useAccountDeletion must be used inside <AccountDeletionProvider>');
  return api;
}

export const DELETED_MESSAGE = 'Your account and all your data were deleted.';

interface ProviderProps {
  session: SessionEnd;
  /** Waits between rounds of the erasure (tests may pass their own). */
  wait?: (ms: number) => Promise<void>;
  children: ReactNode;
}

export function AccountDeletionProvider({ session, wait, children }: ProviderProps) {
  const api = useApi();
  const { showNotice } = useSignedOutNotice();
  const [deletion, setDeletion] = useState<Deletion>({ phase: 'idle' });
  const running = useRef(false);

  const finish = useCallback(
    async (receipt: ErasureReceipt) => {
      setDeletion({ phase: 'deletingSignIn', receipt });
      try {
        await session.deleteSignIn();
      } catch (error) {
        setDeletion({ phase: 'signInFailed', receipt, message: describeError(error, 'Deleting your sign-in') });
        return;
      }
      setDeletion({ phase: 'deleted', receipt });
      let details = receiptSummary(receipt);
      try {
        await session.forgetUser();
      } catch (error) {
        details += ` ${describeError(error, 'Clearing what this device kept for you')}`;
      }
      showNotice({ message: DELETED_MESSAGE, details });
      // The landing page is at "/": signing up again starts from the list, not this page.
      navigate('/', { replace: true });
    },
    [session, showNotice],
  );

  /** One deletion at a time, however often the buttons are pressed. */
  const run = useCallback(async (steps: () => Promise<void>) => {
    if (running.current) return;
    running.current = true;
    try {
      await steps();
    } finally {
      running.current = false;
    }
  }, []);

  const deleteAccount = useCallback(() => {
    void run(async () => {
      setDeletion({ phase: 'erasing', erased: null });
      let receipt: ErasureReceipt;
      try {
        receipt = await eraseAccount(api, { wait, onProgress: (erased) => setDeletion({ phase: 'erasing', erased }) });
      } catch (error) {
        setDeletion({ phase: 'eraseFailed', message: describeError(error, 'Erasing your data') });
        return;
      }
      await finish(receipt);
    });
  }, [api, wait, run, finish]);

  const retrySignInDeletion = useCallback(() => {
    if (deletion.phase !== 'signInFailed') return;
    const { receipt } = deletion;
    void run(() => finish(receipt));
  }, [deletion, run, finish]);

  const value = useMemo(() => ({ deletion, deleteAccount, retrySignInDeletion }), [deletion, deleteAccount, retrySignInDeletion]);
  return <AccountDeletionContext.Provider value={value}>{children}</AccountDeletionContext.Provider>;
}

/** The receipt's reference for the user's records (it holds no personal data). */
export function receiptSummary(receipt: ErasureReceipt): string {
  const { events, todos } = receipt.erased;
  return `Erasure receipt ${receipt.requestId}: ${plural(events, 'event', 'events')} and ${plural(todos, 'to-do', 'to-dos')} erased.`;
}

/**
 * The session's end for the real app: Cognito's DeleteUser at the config's endpoint with the current
 * access token (renewed first if it expired), and forgetting the user without a round trip to the
 * sign-in server, which would fail for a user that no longer exists.
 */
export function sessionEndFor(
  config: RuntimeConfig,
  userManager: UserManager,
  forgetOnDevice: () => Promise<void> = async () => undefined,
): SessionEnd {
  return {
    deleteSignIn: async () => {
      let user = await userManager.getUser();
      if (user?.expired) user = await userManager.signinSilent();
      if (!user?.access_token) throw new Error('You are no longer signed in. Sign in again and retry.');
      await deleteCognitoUser(cognitoEndpointOf(config), user.access_token);
    },
    forgetUser: async () => {
      try {
        await forgetOnDevice();
      } finally {
        await userManager.removeUser();
      }
    },
  };
}
