import { render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { ApiClient } from '../api/client';
import { AlertRegion, AlertsProvider } from '../components/Alerts';
import { ApiContext } from '../components/ApiContext';
import { FakeBackend, tokenFor } from './fakeBackend';

export const USER = 'alice';

/** Renders `ui` as the signed-in app would: alerts, and the real API client on a fake back end. */
export function renderWithBackend(ui: ReactElement, backend = new FakeBackend(), user = USER): RenderResult & { backend: FakeBackend } {
  const api = new ApiClient({
    baseUrl: 'http://api.test/api',
    getIdToken: async () => tokenFor(user),
    fetch: backend.fetch,
  });
  const result = render(
    <AlertsProvider>
      <AlertRegion />
      <ApiContext.Provider value={api}>{ui}</ApiContext.Provider>
    </AlertsProvider>,
  );
  return { ...result, backend };
}
