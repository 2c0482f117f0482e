import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import react from '@vitejs/plugin-react';
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

export default defineConfig({
  plugins: [react(), devRuntimeConfig(localStack)],
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
