/**
 * A small client-side router on the History API: `/`, `/history`, `/history/as-of/<instant>`,
 * `/item/<id>/history`, `/item/<id>/version/<n>`, `/stats`, `/account`.
 * The local stack (and Amplify's rewrite rule) serves index.html for unknown paths; where a host
 * does not, the same routes work as hash routes (`/#/history`), which are read first.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type Route =
  | { name: 'todos' }
  | { name: 'history' }
  | { name: 'listAsOf'; asOf: string }
  | { name: 'itemHistory'; id: string }
  | { name: 'itemVersion'; id: string; version: number }
  | { name: 'stats' }
  | { name: 'account' }
  | { name: 'notFound'; path: string };

const NAVIGATE_EVENT = 'todo:navigate';

export function parseRoute(pathname: string, hash = ''): Route {
  const path = hash.startsWith('#/') ? hash.slice(1).split('?')[0] : pathname;
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (trimmed === '/' || trimmed === '' || trimmed === '/index.html') return { name: 'todos' };
  if (trimmed === '/history') return { name: 'history' };
  if (trimmed === '/stats') return { name: 'stats' };
  if (trimmed === '/account') return { name: 'account' };
  try {
    const asOf = /^\/history\/as-of\/([^/]+)$/.exec(trimmed);
    if (asOf) return { name: 'listAsOf', asOf: decodeURIComponent(asOf[1]) };
    const item = /^\/item\/([^/]+)\/history$/.exec(trimmed);
    if (item) return { name: 'itemHistory', id: decodeURIComponent(item[1]) };
    const version = /^\/item\/([^/]+)\/version\/(\d+)$/.exec(trimmed);
    if (version && Number(version[2]) >= 1) {
      return { name: 'itemVersion', id: decodeURIComponent(version[1]), version: Number(version[2]) };
    }
  } catch {
    // A malformed %-escape: nothing lives there.
  }
  return { name: 'notFound', path };
}

export function itemHistoryPath(id: string): string {
  return `/item/${encodeURIComponent(id)}/history`;
}

/** The todo as it was after its event of `version` (read-only). */
export function itemVersionPath(id: string, version: number): string {
  return `/item/${encodeURIComponent(id)}/version/${version}`;
}

/** The whole list as it stood at an RFC 3339 instant (read-only). */
export function listAsOfPath(asOf: string): string {
  // Colons may stand in a path segment; keeping them makes the address readable.
  return `/history/as-of/${encodeURIComponent(asOf).replace(/%3A/gi, ':')}`;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

function snapshot(): string {
  return `${window.location.pathname}${window.location.hash}`;
}

export function useRoute(): Route {
  const location = useSyncExternalStore(subscribe, snapshot);
  const hashAt = location.indexOf('#');
  return hashAt === -1 ? parseRoute(location) : parseRoute(location.slice(0, hashAt), location.slice(hashAt));
}

let navigatedInApp = false;

/** True once after a navigate(): the new page then moves focus to its heading. */
export function consumeInAppNavigation(): boolean {
  const navigated = navigatedInApp;
  navigatedInApp = false;
  return navigated;
}

export function navigate(to: string, { replace = false }: { replace?: boolean } = {}): void {
  navigatedInApp = !replace;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** An ordinary link (so open-in-new-tab and copy-link work) that navigates in place on a plain click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    if (rest.target && rest.target !== '_self') return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handleClick} {...rest} />;
}
