// Browser tests: the real built app in a child process, driven in Debian's Chromium.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
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
