import { useEffect, useState } from 'react';
import { hasAuthParams, useAuth } from 'react-oidc-context';
import { currentPath } from '../auth/oidc';
import { navigate } from '../lib/router';
import { AlertRegion } from './Alerts';
import { SignedOutNotice } from './SignedOutNotice';

/** Signed out: what this is, sign in, create an account. */
export function Landing() {
  const auth = useAuth();
  const [failed, setFailed] = useState('');
  const callbackError = auth.error?.source === 'signinCallback' ? auth.error : undefined;

  useEffect(() => {
    document.title = 'Sign in · To Do';
    // A failed callback leaves ?code=&state= behind; a reload must not try to redeem them again.
    if (hasAuthParams()) navigate(window.location.pathname, { replace: true });
  }, []);

  const signIn = () => {
    setFailed('');
    // Come back to the page the user asked for (e.g. a bookmarked /history).
    const returnTo = callbackError ? '/' : currentPath();
    auth.signinRedirect({ state: { returnTo } }).catch(() => {
      setFailed('The sign-in page could not be reached. Check your connection and try again.');
    });
  };

  return (
    <div className="landing">
      <AlertRegion />
      <main id="main" className="landing-card card">
        <p className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">✓</span> To Do
        </p>
        <SignedOutNotice />
        <h1>Your to-do list, with its whole history</h1>
        <p className="muted">
          Add, edit and complete to-dos from any device. Every change is kept, so you can always see what changed and when.
        </p>
        {(callbackError || failed) && (
          <p className="notice notice-error" role="alert">
            {failed || `Signing in did not complete (${callbackError?.message}). Please try again.`}
          </p>
        )}
        <div className="landing-actions">
          <button type="button" className="button button-primary button-large" onClick={signIn}>
            Sign in
          </button>
          <button type="button" className="button button-large" onClick={signIn}>
            Create an account
          </button>
        </div>
        <p className="hint">New here? “Create an account” opens the sign-in page; choose its sign-up option there.</p>
      </main>
    </div>
  );
}
