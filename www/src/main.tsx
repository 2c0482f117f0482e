import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { hasAuthParams } from 'react-oidc-context';
import type { UserManager } from 'oidc-client-ts';
import { createUserManager, isRefusal } from './auth/oidc';
import { App } from './components/App';
import { loadConfig } from './config';
import { registerServiceWorker } from './serviceWorker';
import './styles.css';

/**
 * A stored session whose tokens expired while no tab was open: renew it with the refresh token
 * (if there is one) before the first render, instead of showing the sign-in screen.
 */
async function restoreExpiredSession(userManager: UserManager): Promise<void> {
  const user = await userManager.getUser();
  if (!user?.expired || !user.refresh_token || !navigator.onLine) return;
  try {
    await userManager.signinSilent();
  } catch (error) {
    // Refused: the session is over. Unreachable: keep it (and what it queued offline) to renew later.
    if (isRefusal(error)) await userManager.removeUser();
  }
}

async function start(container: HTMLElement): Promise<void> {
  const root = createRoot(container);
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    root.render(
      <main className="splash" role="alert">
        <h1>To Do could not start</h1>
        <p>{error instanceof Error ? error.message : String(error)}</p>
        <p>Reload the page to try again.</p>
      </main>,
    );
    return;
  }
  const userManager = createUserManager(config);

  // Silent renew without a refresh token loads redirect_uri in a hidden iframe: hand the answer to
  // the parent window and render nothing.
  if (window.parent !== window && hasAuthParams()) {
    await userManager.signinCallback().catch(() => undefined);
    return;
  }
  if (!hasAuthParams()) await restoreExpiredSession(userManager);

  root.render(
    <StrictMode>
      <App config={config} userManager={userManager} />
    </StrictMode>,
  );
}

registerServiceWorker();

const container = document.getElementById('root');
if (container) void start(container);
