/// <reference lib="webworker" />
/**
 * The service worker (built by vite-plugin-pwa's injectManifest into dist/sw.js): Workbox's
 * precache of the app shell, the SPA's routes answered with index.html, and /config.json kept for
 * opening offline. Nothing else: the API, the sign-in pages and the live socket always go to the
 * network, so no API answer is ever served stale from here (the app keeps its own copy of what it
 * read in IndexedDB, and says how old it is).
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { warmStrategyCache } from 'workbox-recipes';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

// A new version takes over at once (no tab waits on an old shell); the page reloads when it is safe.
void self.skipWaiting();
clientsClaim();

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Client-side routes (/history, /item/<id>/history, …) are the app. The server's own paths are not.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: [/^\/api\//, /^\/auth\//, /^\/live/, /^\/config\.json/],
  }),
);

// The runtime configuration: from the server when it answers (a changed config takes effect on
// the next load), from the cache when it does not. Fetched at install, so one online visit is enough.
const config = new NetworkFirst({ cacheName: 'runtime-config', networkTimeoutSeconds: 3 });
registerRoute(({ url }) => url.origin === self.location.origin && url.pathname === '/config.json', config);
warmStrategyCache({ urls: ['/config.json'], strategy: config });
