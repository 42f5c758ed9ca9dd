// Browser tests: the real built app in a child process, driven in Debian's Chromium.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT, type ServerProcess, startServerProcess } from '../support/server-process';

export { ROOT } from '../support/server-process';
export const OUTPUT_DIR = path.join(ROOT, 'test-results', 'e2e');

export async function startApp(env: Record<string, string> = {}): Promise<ServerProcess> {
  if (!existsSync(path.join(ROOT, 'dist/client/index.html'))) {
    throw new Error('No client build: run the browser tests through `npm run test:e2e`, which builds first');
  }
  return startServerProcess({
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mj-e2e-')),
    // The simulator runs 0.15x real time (its rate window too): the budget follows suit.
    BUDGET_WINDOW_MS: '9000',
    ...env,
  });
}

export function launchChromium(): Promise<Browser> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface AxeViolation {
  id: string;
  impact: string;
  nodes: number;
}

/**
 * axe-core's findings on the page as it is. Evaluated through the DevTools protocol, which
 * the page's CSP does not govern (a script tag would rightly be blocked).
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    const { axe } = window as unknown as {
      axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
    };
    return (await axe.run()).violations.map(({ id, impact, nodes }) => ({ id, impact, nodes: nodes.length }));
  });
}

/** The violations that matter: serious or critical. */
export const serious = (violations: AxeViolation[]): AxeViolation[] =>
  violations.filter(({ impact }) => impact === 'serious' || impact === 'critical');
