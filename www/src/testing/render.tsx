import { render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { onTestFinished } from 'vitest';
import { ApiClient } from '../api/client';
import { LiveClient } from '../api/live';
import { AlertRegion, AlertsProvider } from '../components/Alerts';
import { ApiContext } from '../components/ApiContext';
import { LiveContext } from '../components/LiveContext';
import { FakeBackend, tokenFor } from './fakeBackend';
import { FakeLiveServer } from './fakeLive';

export const USER = 'alice';

/** Renders `ui` as the signed-in app would: alerts, and the real API client on a fake back end. */
export function renderWithBackend(
  ui: ReactElement,
  backend = new FakeBackend(),
  user = USER,
  live: LiveClient | null = null,
): RenderResult & { backend: FakeBackend } {
  const api = new ApiClient({
    baseUrl: 'http://api.test/api',
    getIdToken: async () => tokenFor(user),
    fetch: backend.fetch,
  });
  const result = render(
    <AlertsProvider>
      <AlertRegion />
      <ApiContext.Provider value={api}>
        <LiveContext.Provider value={live}>{ui}</LiveContext.Provider>
      </ApiContext.Provider>
    </AlertsProvider>,
  );
  return { ...result, backend };
}

/**
 * A live updates client for `user` on a fake socket server fed by `backend`: every change made
 * through the back end (by the page or "elsewhere") is pushed to that user's open sockets.
 * Sockets open by themselves unless `autoOpen` is false; retries come after 10-20 ms.
 */
export function liveSession(backend: FakeBackend, user = USER, { autoOpen = true } = {}) {
  const server = new FakeLiveServer();
  server.autoOpen = autoOpen;
  server.feedFrom(backend);
  const live = new LiveClient({
    url: 'ws://api.test/live',
    getIdToken: async () => tokenFor(user),
    createSocket: server.connect,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  live.start();
  onTestFinished(() => live.stop());
  return { live, server };
}
