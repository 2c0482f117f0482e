import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { AuthProvider, hasAuthParams, useAuth } from 'react-oidc-context';
import type { User, UserManager } from 'oidc-client-ts';
import { ApiClient, type TodoApi } from '../api/client';
import { LiveClient } from '../api/live';
import { currentPath, idTokenSource, safeReturnPath, signOut } from '../auth/oidc';
import type { RuntimeConfig } from '../config';
import { describeError } from '../lib/errors';
import { Link, navigate, useRoute, type Route } from '../lib/router';
import { Outbox } from '../offline/queue';
import { OfflineStore } from '../offline/store';
import { AccountDeletionProvider, sessionEndFor } from './AccountDeletion';
import { AccountPage } from './AccountPage';
import { AlertRegion, AlertsProvider, useAlerts } from './Alerts';
import { ApiContext } from './ApiContext';
import { ConfirmDialog } from './ConfirmDialog';
import { ItemHistoryPage } from './ItemHistoryPage';
import { ItemVersionPage } from './ItemVersionPage';
import { Landing } from './Landing';
import { LiveContext } from './LiveContext';
import { OfflineContext, useOutbox } from './OfflineContext';
import { ListAsOfPage } from './ListAsOfPage';
import { usePageTitle } from './PageTitle';
import { SignedOutNoticeProvider } from './SignedOutNotice';
import { StatsPage } from './StatsPage';
import { TodoPage } from './TodoPage';
import { UserHistoryPage } from './UserHistoryPage';

interface AppProps {
  config: RuntimeConfig;
  userManager: UserManager;
  /** How long the "session expired" message shows before the sign-in page opens. */
  signinDelayMs?: number;
}

/** Back from the sign-in page: drop ?code=&state= and return to the page the user was on. */
function onSigninCallback(user: User | undefined): void {
  navigate(safeReturnPath(user?.state), { replace: true });
}

export function App({ config, userManager, signinDelayMs = 1500 }: AppProps) {
  return (
    <AuthProvider userManager={userManager} onSigninCallback={onSigninCallback}>
      <AlertsProvider>
        <SignedOutNoticeProvider>
          <AuthGate config={config} userManager={userManager} signinDelayMs={signinDelayMs} />
        </SignedOutNoticeProvider>
      </AlertsProvider>
    </AuthProvider>
  );
}

function AuthGate({ config, userManager, signinDelayMs }: Required<AppProps>) {
  const auth = useAuth();
  if (auth.isLoading) {
    return (
      <p className="splash" role="status">
        {hasAuthParams() ? 'Signing you in…' : 'Loading…'}
      </p>
    );
  }
  // A session whose tokens expired while offline stays: it is renewed (or the user asked to sign
  // in) once the server can be reached, and meanwhile the list and its queued changes are here.
  if (!auth.isAuthenticated && !auth.user) return <Landing />;
  return <SignedInApp config={config} userManager={userManager} signinDelayMs={signinDelayMs} />;
}

/**
 * The API client for this session. A 401 means the token is gone or refused: say so, then go to
 * the sign-in page (once, however many calls fail) and come back to the same page afterwards.
 */
export function createSessionApi(
  config: RuntimeConfig,
  userManager: UserManager,
  showAlert: (message: string) => void,
  signinDelayMs: number,
  getIdToken: () => Promise<string | null> = idTokenSource(userManager),
): TodoApi {
  let redirecting = false;
  return new ApiClient({
    baseUrl: config.apiBaseUrl,
    getIdToken,
    onUnauthorized: () => {
      if (redirecting) return;
      redirecting = true;
      showAlert('Your session has expired or is no longer valid. Taking you to the sign-in page…');
      window.setTimeout(() => {
        userManager.signinRedirect({ state: { returnTo: currentPath() } }).catch((error: unknown) => {
          redirecting = false;
          showAlert(describeError(error, 'Opening the sign-in page'));
        });
      }, signinDelayMs);
    },
  });
}

function SignedInApp({ config, userManager, signinDelayMs }: Required<AppProps>) {
  const { showAlert } = useAlerts();
  // One token source for the API and the live socket, so that they never renew twice at once.
  const getIdToken = useMemo(() => idTokenSource(userManager), [userManager]);

  const api: TodoApi = useMemo(
    () => createSessionApi(config, userManager, showAlert, signinDelayMs, getIdToken),
    [config, userManager, showAlert, signinDelayMs, getIdToken],
  );
  const live = useLiveClient(config, userManager, getIdToken);
  const auth = useAuth();
  const outbox = useSessionOutbox(auth.user?.profile.sub, api);
  // Deleting the account forgets this device's copy too, as signing out does.
  const sessionEnd = useMemo(
    () =>
      sessionEndFor(config, userManager, async () => {
        outbox?.stop();
        await outbox?.store.destroy();
      }),
    [config, userManager, outbox],
  );

  if (outbox === undefined) {
    return (
      <p className="splash" role="status">
        Loading…
      </p>
    );
  }
  return (
    <ApiContext.Provider value={api}>
      <LiveContext.Provider value={live}>
        <OfflineContext.Provider value={outbox}>
          <AccountDeletionProvider session={sessionEnd}>
            <Shell config={config} userManager={userManager} />
          </AccountDeletionProvider>
        </OfflineContext.Provider>
      </LiveContext.Provider>
    </ApiContext.Provider>
  );
}

/**
 * The user's store on this device and the outbox in it, sending what an earlier visit queued:
 * undefined while IndexedDB opens, null where it cannot (the app then works online only).
 */
function useSessionOutbox(userId: string | undefined, api: TodoApi): Outbox | null | undefined {
  const [opened, setOpened] = useState<{ userId: string; api: TodoApi; outbox: Outbox | null } | null>(null);
  useEffect(() => {
    if (!userId) return;
    let cancelled = false;
    let outbox: Outbox | null = null;
    OfflineStore.open(userId)
      .then((store) => Outbox.open(store, api))
      .then(
        (created) => {
          if (cancelled) {
            created.store.close();
            return;
          }
          outbox = created;
          created.start();
          setOpened({ userId, api, outbox: created });
        },
        () => {
          if (!cancelled) setOpened({ userId, api, outbox: null });
        },
      );
    return () => {
      cancelled = true;
      outbox?.stop();
      outbox?.store.close();
    };
  }, [userId, api]);
  if (!userId) return null;
  return opened?.userId === userId && opened.api === api ? opened.outbox : undefined;
}

const NO_QUEUE = () => 0;
const NO_SUBSCRIPTION = () => () => undefined;

/**
 * The session's live updates socket, when /config.json names one: connected while signed in, and
 * connected again with the new ID token after each silent renew (the server checks the token only
 * when a connection opens).
 */
function useLiveClient(config: RuntimeConfig, userManager: UserManager, getIdToken: () => Promise<string | null>): LiveClient | null {
  const live = useMemo(
    () => (config.liveUrl ? new LiveClient({ url: config.liveUrl, getIdToken }) : null),
    [config.liveUrl, getIdToken],
  );
  useEffect(() => {
    if (!live) return;
    live.start();
    const renewed = () => live.reconnect();
    userManager.events.addUserLoaded(renewed);
    return () => {
      userManager.events.removeUserLoaded(renewed);
      live.stop();
    };
  }, [live, userManager]);
  return live;
}

function Shell({ config, userManager }: { config: RuntimeConfig; userManager: UserManager }) {
  const auth = useAuth();
  const route = useRoute();
  const { showAlert } = useAlerts();
  const [signingOut, setSigningOut] = useState(false);
  const [confirmingSignOut, setConfirmingSignOut] = useState(false);
  const outbox = useOutbox();
  const queued = useSyncExternalStore(outbox?.subscribe ?? NO_SUBSCRIPTION, outbox ? () => outbox.getSnapshot().length : NO_QUEUE);
  const profile = auth.user?.profile;
  const who = profile?.email ?? profile?.preferred_username ?? (profile?.['cognito:username'] as string | undefined);

  /** Signing out forgets what this device kept for the user (their list, histories, queued changes). */
  const onSignOut = () => {
    setConfirmingSignOut(false);
    setSigningOut(true);
    outbox?.stop();
    (outbox ? outbox.store.destroy() : Promise.resolve())
      .catch(() => undefined)
      .then(() => signOut(userManager, config))
      .catch((error: unknown) => {
        setSigningOut(false);
        showAlert(describeError(error, 'Signing out'));
      });
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="header-inner">
          <Link to="/" className="brand" aria-label="To Do, your to-dos">
            <span className="brand-mark" aria-hidden="true">
              ✓
            </span>
            <span className="brand-text">To Do</span>
          </Link>
          <nav className="nav" aria-label="Main">
            <Link to="/" aria-current={route.name === 'todos' ? 'page' : undefined}>
              To-dos
            </Link>
            <Link to="/history" aria-current={route.name === 'history' ? 'page' : undefined}>
              History
            </Link>
            <Link to="/stats" aria-current={route.name === 'stats' ? 'page' : undefined}>
              Stats
            </Link>
            <Link to="/account" aria-current={route.name === 'account' ? 'page' : undefined}>
              Account
            </Link>
          </nav>
          <div className="account">
            {who && (
              <span className="account-name" title={who}>
                {who}
              </span>
            )}
            <button
              type="button"
              className="button button-small"
              onClick={() => (queued > 0 ? setConfirmingSignOut(true) : onSignOut())}
              disabled={signingOut}
            >
              {signingOut ? 'Signing out…' : 'Sign out'}
            </button>
            {confirmingSignOut && (
              <ConfirmDialog
                title="Sign out and lose unsent changes?"
                confirmLabel="Sign out anyway"
                onCancel={() => setConfirmingSignOut(false)}
                onConfirm={onSignOut}
              >
                <p>
                  {queued === 1 ? '1 change' : `${queued} changes`} made here {queued === 1 ? 'has' : 'have'} not reached the server yet.
                  Signing out deletes {queued === 1 ? 'it' : 'them'} from this device.
                </p>
              </ConfirmDialog>
            )}
          </div>
        </div>
      </header>
      <div className="alerts-container">
        <AlertRegion />
      </div>
      <main id="main" className="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

/** The page for a route (exported for tests that follow links from page to page). */
export function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'todos':
      return <TodoPage />;
    case 'history':
      return <UserHistoryPage />;
    case 'listAsOf':
      return <ListAsOfPage key={route.asOf} asOf={route.asOf} />;
    case 'itemHistory':
      return <ItemHistoryPage key={route.id} id={route.id} />;
    case 'itemVersion':
      return <ItemVersionPage key={`${route.id}@${route.version}`} id={route.id} version={route.version} />;
    case 'stats':
      return <StatsPage />;
    case 'account':
      return <AccountPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  const headingRef = usePageTitle('Page not found');
  return (
    <section className="page">
      <h1 ref={headingRef} tabIndex={-1}>
        Page not found
      </h1>
      <p>
        There is nothing at this address. <Link to="/">Go to your to-dos</Link>.
      </p>
    </section>
  );
}
