// `make bench`'s offline reload (run by bench/src/offline.rs against a todo-local serving www/dist):
// a user with TODOS to-dos opens the app online once (the service worker installs, the list is kept
// in IndexedDB), then, with the network off, reloads RUNS times. Each run's figure is the moment the
// first to-do of the list is in the page, from the start of the navigation (performance.now() in the
// page, recorded by a MutationObserver installed before any script runs): "first contentful list".
// Prints one JSON object on stdout.
//
//   node e2e/bench/offline-reload.mjs --url http://127.0.0.1:PORT [--runs 10] [--todos 50]
/* global document, window, MutationObserver, caches -- inside page.evaluate and addInitScript, which run in the browser */
import { chromium } from '@playwright/test';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1];
};
const url = option('url');
const runs = Number(option('runs', '10'));
const todos = Number(option('todos', '50'));
if (!url) {
  console.error('usage: offline-reload.mjs --url http://127.0.0.1:PORT [--runs 10] [--todos 50]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    const record = () => {
      if (document.querySelector('.todo-list li')) {
        window.__firstListMs ??= performance.now();
        return true;
      }
      return false;
    };
    new MutationObserver((_, observer) => {
      if (record()) observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  });
  const page = await context.newPage();

  // Sign up through the dev sign-in, as a person would.
  await page.goto(url);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email', { exact: true }).fill(`bench-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('offline bench password');
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();

  // The user's to-dos, through the API with the page's own token.
  await page.evaluate(async (count) => {
    const key = Object.keys(localStorage).find((name) => name.startsWith('oidc.user:'));
    const token = JSON.parse(localStorage.getItem(key)).id_token;
    for (let i = 1; i <= count; i++) {
      const response = await fetch('/api/item', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: `To-do ${i}`, notes: i % 3 === 0 ? `Notes of to-do ${i}` : undefined }),
      });
      if (!response.ok) throw new Error(`create ${i}: HTTP ${response.status}`);
    }
  }, todos);

  // One online visit with the whole list: read, kept in IndexedDB; the service worker in control.
  await page.reload();
  await page.locator('.todo-list li').nth(todos - 1).waitFor();
  await page.waitForFunction(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null && (await caches.match('/config.json')) !== undefined;
  });
  // Let the list's copy reach IndexedDB.
  await page.waitForTimeout(500);

  await context.setOffline(true);
  const samples = [];
  let fromServiceWorker = true;
  for (let run = 0; run < runs; run++) {
    const response = await page.reload({ waitUntil: 'commit' });
    fromServiceWorker &&= response?.fromServiceWorker() ?? false;
    await page.locator('.todo-list li').nth(todos - 1).waitFor({ timeout: 30_000 });
    const offlineNote = await page.locator('.offline-note').textContent();
    if (!offlineNote?.includes('Offline, showing what was last synced at')) throw new Error(`run ${run}: no offline note (${offlineNote})`);
    samples.push(await page.evaluate(() => window.__firstListMs));
  }
  console.log(JSON.stringify({ runs, todos, fromServiceWorker, samplesMs: samples }));
} finally {
  await browser.close();
}
