import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/support/browser';
import type { StackKind } from './e2e/support/fixtures';

/**
 * Two projects run the same specs:
 * - `stack` (npm run e2e): against the real local stack, `../target/debug/todo-local`, which the
 *   tests start themselves on a free port with a fresh data directory;
 * - `mock` (npm run e2e:mock): against an in-browser stand-in (e2e/support/mockStack.ts), so the
 *   browser tests can run without the Rust build.
 */
export default defineConfig<{ stackKind: StackKind }>({
  testDir: 'e2e/tests',
  outputDir: 'test-results',
  fullyParallel: false,
  // A 2-core machine shared with Rust builds: one browser at a time.
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'stack', use: { stackKind: 'stack' } },
    // The mock answers through Playwright's request routing, which a service worker's own fetches
    // bypass: no service workers there, and the offline specs (which need one) run on the stack only.
    { name: 'mock', use: { stackKind: 'mock', serviceWorkers: 'block' }, testIgnore: /offline(-auth)?\.spec\.ts/ },
  ],
});
