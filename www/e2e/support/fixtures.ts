import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { test as base, expect, type BrowserContext, type BrowserContextOptions, type Page } from '@playwright/test';
import { startLocalStack } from './localStack';
import { MockStack } from './mockStack';

export type StackKind = 'stack' | 'mock';

interface Environment {
  kind: StackKind;
  url: string;
  mock?: MockStack;
}

interface WorkerFixtures {
  /** Set per Playwright project: the real `todo-local`, or the in-browser mock. */
  stackKind: StackKind;
  environment: Environment;
}

interface TestFixtures {
  /** Another browser (a separate context: its own storage, so its own session). */
  newBrowser: (options?: BrowserContextOptions) => Promise<BrowserContext>;
  /** Saves a full-page screenshot to www/screenshots/ (git-ignored). */
  saveScreenshot: (page: Page, name: string) => Promise<void>;
}

const SCREENSHOTS = resolve(import.meta.dirname, '../../screenshots');

export const test = base.extend<TestFixtures, WorkerFixtures>({
  stackKind: ['mock', { option: true, scope: 'worker' }],

  environment: [
    async ({ stackKind }, use) => {
      if (stackKind === 'stack') {
        const stack = await startLocalStack();
        try {
          await use({ kind: 'stack', url: stack.url });
        } finally {
          await stack.stop();
        }
      } else {
        const mock = new MockStack();
        await use({ kind: 'mock', url: mock.url, mock });
      }
    },
    { scope: 'worker', timeout: 90_000 },
  ],

  baseURL: async ({ environment }, use) => {
    await use(environment.url);
  },

  context: async ({ context, environment }, use) => {
    await environment.mock?.install(context);
    await use(context);
  },

  newBrowser: async ({ browser, environment, contextOptions }, use) => {
    const created: BrowserContext[] = [];
    await use(async (options = {}) => {
      const context = await browser.newContext({ ...contextOptions, baseURL: environment.url, ...options });
      await environment.mock?.install(context);
      created.push(context);
      return context;
    });
    for (const context of created) await context.close();
  },

  saveScreenshot: async ({ environment }, use) => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await use(async (page, name) => {
      const prefix = environment.kind === 'mock' ? 'mock-' : '';
      await page.screenshot({ path: resolve(SCREENSHOTS, `${prefix}${name}.png`), fullPage: true });
    });
  },
});

export { expect };
