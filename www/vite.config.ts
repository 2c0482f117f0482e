import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * `npm run dev` only: /config.json is served at run time, never bundled (`public/` has none).
 * TODO_CONFIG=path/to/config.json serves that file as is. Otherwise the local stack's own
 * config (TODO_LOCAL_URL, default http://127.0.0.1:8080) is fetched and pointed back at this dev
 * server: the API and the live updates socket through the proxy below (same origin, so no CORS),
 * sign-in redirects to here.
 */
function devRuntimeConfig(localStack: string): Plugin {
  return {
    name: 'todo-dev-runtime-config',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use('/config.json', (req: IncomingMessage, res: ServerResponse) => {
        const send = (status: number, body: unknown) => {
          res.statusCode = status;
          res.setHeader('Content-Type', 'application/json');
          res.setHeader('Cache-Control', 'no-store');
          res.end(JSON.stringify(body, null, 2));
        };
        if (process.env.TODO_CONFIG) {
          send(200, JSON.parse(readFileSync(process.env.TODO_CONFIG, 'utf8')));
          return;
        }
        const origin = `http://${req.headers.host ?? 'localhost:5173'}`;
        fetch(`${localStack}/config.json`)
          .then((response) => response.json() as Promise<Record<string, unknown>>)
          .then((config) =>
            send(200, {
              ...config,
              apiBaseUrl: `${origin}/api`,
              redirectUri: `${origin}/`,
              postLogoutRedirectUri: `${origin}/`,
              // A stack without live updates has no liveUrl: keep it that way.
              ...(config.liveUrl ? { liveUrl: `${origin.replace(/^http/, 'ws')}/live` } : {}),
            }),
          )
          .catch((error: unknown) =>
            send(502, { error: `Start the local stack at ${localStack} or set TODO_CONFIG: ${String(error)}` }),
          );
      });
    },
  };
}

const localStack = process.env.TODO_LOCAL_URL ?? 'http://127.0.0.1:8080';

/**
 * Installable and opening offline: a web app manifest, and a service worker (src/sw.ts, Workbox)
 * that precaches the app shell and keeps /config.json. `injectRegister: false`: src/serviceWorker.ts
 * registers it, and decides when a page reloads into a new version.
 */
const pwa = VitePWA({
  strategies: 'injectManifest',
  srcDir: 'src',
  filename: 'sw.ts',
  registerType: 'autoUpdate',
  injectRegister: false,
  // The glob below already precaches every icon.
  includeManifestIcons: false,
  manifest: {
    name: 'To Do',
    short_name: 'To Do',
    description: 'A to-do list that keeps the history of every change, and works offline.',
    id: '/',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#ffffff',
    theme_color: '#4f46e5',
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml' },
    ],
  },
  injectManifest: {
    globPatterns: ['**/*.{js,css,html,svg,png}'],
  },
  devOptions: { enabled: false },
});

export default defineConfig({
  plugins: [react(), devRuntimeConfig(localStack), pwa],
  // Absolute asset URLs: pages live at nested paths such as /item/<id>/history.
  base: '/',
  server: {
    proxy: {
      '/api': { target: localStack, changeOrigin: false },
      '/live': { target: localStack, changeOrigin: false, ws: true },
    },
  },
  build: {
    sourcemap: true,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/testing/setup.ts'],
    restoreMocks: true,
  },
});
