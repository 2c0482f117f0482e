/** Accessibility: axe-core on the page as it is now, every rule axe runs by default; 0 violations. */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export async function expectNoAxeViolations(page: Page, view: string): Promise<void> {
  // Let a state that just changed settle (fonts, the list's first render) before axe reads it.
  await page.waitForLoadState('domcontentloaded');
  const results = await new AxeBuilder({ page }).analyze();
  const violations = results.violations.map((violation) => ({
    rule: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary ?? ''}`),
  }));
  expect(violations, `axe violations on ${view}`).toEqual([]);
  expect(results.passes.length, `axe checked nothing on ${view}`).toBeGreaterThan(0);
}
