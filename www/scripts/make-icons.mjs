// Draws the PWA's PNG icons (public/icons/) from public/favicon.svg in Debian's Chromium:
// `node scripts/make-icons.mjs`. The maskable one keeps the mark inside the central 80% safe zone
// on a full-bleed background, as Android crops it to a circle or a squircle.
import { readFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from '@playwright/test';

const root = resolve(import.meta.dirname, '..');
const svg = readFileSync(resolve(root, 'public/favicon.svg'), 'utf8');
const out = resolve(root, 'public/icons');
mkdirSync(out, { recursive: true });

const icons = [
  { name: 'icon-192.png', size: 192, maskable: false },
  { name: 'icon-512.png', size: 512, maskable: false },
  { name: 'icon-maskable-512.png', size: 512, maskable: true },
  { name: 'apple-touch-icon-180.png', size: 180, maskable: true },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const { name, size, maskable } of icons) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const mark = maskable ? svg.replace('rx="7"', 'rx="0"') : svg;
    const inset = maskable ? Math.round(size * 0.12) : 0;
    await page.setContent(
      `<html><body style="margin:0;background:${maskable ? '#4f46e5' : 'transparent'}">` +
        `<div style="width:${size}px;height:${size}px;padding:${inset}px;box-sizing:border-box">` +
        mark.replace('<svg ', `<svg width="${size - 2 * inset}" height="${size - 2 * inset}" `) +
        '</div></body></html>',
    );
    await page.screenshot({ path: resolve(out, name), omitBackground: !maskable });
    await page.close();
  }
} finally {
  await browser.close();
}
