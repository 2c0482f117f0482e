import { useId, useRef, useState } from 'react';
import { receiptSummary, useAccountDeletion, type Deletion } from './AccountDeletion';
import { ConfirmDialog } from './ConfirmDialog';
import { DownloadControls, plural, useDataDownload } from './DownloadMyData';

/** What the status region says while the deletion goes on. */
function progressOf(deletion: Deletion): string {
  switch (deletion.phase) {
    case 'erasing':
      return deletion.erased
        ? `Erasing your data… ${plural(deletion.erased.events, 'event', 'events')} so far.`
        : 'Erasing your data…';
    case 'deletingSignIn':
      return 'All your data is erased. Deleting your sign-in…';
    case 'deleted':
      return 'Your account is deleted. Signing you out…';
    default:
      return '';
  }
}

/**
 * "Delete my account": behind a confirmation that says what goes and offers the download first;
 * then the data is erased, the sign-in deleted, and the user signed out.
 */
export function DeleteAccount() {
  const headingId = useId();
  const { deletion, deleteAccount, retrySignInDeletion } = useAccountDeletion();
  const download = useDataDownload();
  const [confirming, setConfirming] = useState(false);
  const [waitForDownload, setWaitForDownload] = useState(false);
  const openerRef = useRef<HTMLButtonElement>(null);
  const busy = deletion.phase === 'erasing' || deletion.phase === 'deletingSignIn' || deletion.phase === 'deleted';

  const closeDialog = () => {
    setConfirming(false);
    setWaitForDownload(false);
    openerRef.current?.focus();
  };

  const confirm = () => {
    // The export reads what the erasure deletes: let the file be complete first.
    if (download.state.status === 'working') {
      setWaitForDownload(true);
      return;
    }
    closeDialog();
    deleteAccount();
  };

  /** The message and its button go away when they are used: carry on from the section's button. */
  const retry = (action: () => void) => {
    openerRef.current?.focus();
    action();
  };

  return (
    <section className="card account-section" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        Delete my account
      </h2>
      <p>
        Deletes your account for good: every to-do, its whole history, your stats and your sign-in. It cannot be undone. If
        you want to keep a copy, download your data first.
      </p>
      <div className="account-actions">
        <button
          ref={openerRef}
          type="button"
          className="button button-danger"
          onClick={() => {
            if (!busy) setConfirming(true);
          }}
          aria-disabled={busy || undefined}
        >
          Delete my account…
        </button>
      </div>
      <p className="export-status" role="status">
        {progressOf(deletion)}
      </p>
      {deletion.phase === 'eraseFailed' && (
        <div className="notice notice-error" role="alert">
          <div>
            <p>{deletion.message}</p>
            <p>Your account still exists, and part of your data may already be erased. Try again to finish the deletion.</p>
          </div>
          <button type="button" className="button button-small" onClick={() => retry(deleteAccount)}>
            Try again
          </button>
        </div>
      )}
      {deletion.phase === 'signInFailed' && (
        <div className="notice notice-error" role="alert">
          <div>
            <p>All your data is erased, but your sign-in is not deleted yet.</p>
            <p>{deletion.message}</p>
            <p>You are still signed in, to an empty account. Try again to delete your sign-in.</p>
            <p className="hint">{receiptSummary(deletion.receipt)}</p>
          </div>
          <button type="button" className="button button-small" onClick={() => retry(retrySignInDeletion)}>
            Delete my sign-in
          </button>
        </div>
      )}
      {confirming && (
        <ConfirmDialog title="Delete your account for good?" confirmLabel="Delete my account" onCancel={closeDialog} onConfirm={confirm}>
          <p>This deletes, for good:</p>
          <ul>
            <li>every to-do you have, open, completed or deleted;</li>
            <li>the whole history of each one, every change you ever made;</li>
            <li>your stats;</li>
            <li>your sign-in: you will not be able to sign in with it again.</li>
          </ul>
          <p>
            <strong>It cannot be undone.</strong> To keep a copy, download your data first.
          </p>
          <DownloadControls download={download} buttonClassName="button" />
          {waitForDownload && download.state.status === 'working' && (
            <p className="notice notice-error" role="alert">
              Your download is still being prepared: wait until it is saved, then delete your account.
            </p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}
