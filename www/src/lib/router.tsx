/**
 * A small client-side router on the History API: `/`, `/history`, `/item/<id>/history`.
 * The local stack (and Amplify's rewrite rule) serves index.html for unknown paths; where a host
 * does not, the same routes work as hash routes (`/#/history`), which are read first.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

export type Route =
  | { name: 'todos' }
  | { name: 'history' }
  | { name: 'itemHistory'; id: string }
  | { name: 'notFound'; path: string };

const NAVIGATE_EVENT = 'todo:navigate';

export function parseRoute(pathname: string, hash = ''): Route {
  const path = hash.startsWith('#/') ? hash.slice(1).split('?')[0] : pathname;
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (trimmed === '/' || trimmed === '' || trimmed === '/index.html') return { name: 'todos' };
  if (trimmed === '/history') return { name: 'history' };
  const item = /^\/item\/([^/]+)\/history$/.exec(trimmed);
  if (item) {
    try {
      return { name: 'itemHistory', id: decodeURIComponent(item[1]) };
    } catch {
      return { name: 'notFound', path };
    }
  }
  return { name: 'notFound', path };
}

export function itemHistoryPath(id: string): string {
  return `/item/${encodeURIComponent(id)}/history`;
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
