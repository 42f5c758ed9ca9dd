import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { axeViolations, launchChromium, OUTPUT_DIR, serious, startApp } from './harness';

const TOKEN = 'e2e-access-token-0123456789';
let open: ServerProcess;
let guarded: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  [open, guarded, browser] = await Promise.all([startApp(), startApp({ ACCESS_TOKEN: TOKEN }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([open?.stop(), guarded?.stop()]);
});

test('the sign-in flow: the token opens the studio, a wrong one does not, sign-out closes it', async () => {
  const page = await browser.newPage();

  await page.goto(guarded.baseUrl);
  await page.getByLabel('Access token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That access token is not right').waitFor();
  await page.getByLabel('Access token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Prompt', { exact: true }).waitFor();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'signed-in.png') });
  const apiWithoutCookie = await fetch(`${guarded.baseUrl}/api/jobs`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Access token').waitFor();

  expect(apiWithoutCookie.status).toBe(401);
  await page.close();
});

test('a whole generate cycle, done with the keyboard only, runs without a single CSP violation', async () => {
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.clock.install();
  await page.goto(open.baseUrl);

  // Keyboard only: Tab to the prompt (past the header's controls), type, Ctrl+Enter.
  for (let i = 0; i < 20; i++) {
    const focused = await page.evaluate(() => document.activeElement?.tagName);
    if (focused === 'TEXTAREA') break;
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type('a quiet harbour at dawn');
  await page.keyboard.press('Control+Enter');
  const card = page.getByRole('article', { name: 'a quiet harbour at dawn' });
  await card.waitFor();
  await waitFor(
    async () => {
      await page.clock.runFor(2_000);
      return (await card.getByRole('status').textContent()) === 'Done';
    },
    { message: 'the card to say Done', timeoutMs: 20_000 },
  );
  await waitFor(
    () => card.getByRole('img').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0),
    { message: 'the image to load', timeoutMs: 20_000 },
  );
  const csp = (await page.request.get(open.baseUrl)).headers()['content-security-policy'];

  expect(csp).toContain("script-src 'self'");
  console.log(`CSP violations: ${JSON.stringify(violations)}`);
  expect(violations).toEqual([]);
  await page.close();
});

test('an accessibility scan with axe-core finds no serious or critical violations', async () => {
  // axe is injected as a script, which the app's own CSP would rightly block: scan in a
  // context that bypasses CSP (the CSP itself is checked above).
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(open.baseUrl);
  await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse in the fog');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('article').first().waitFor();

  const results = await axeViolations(page);

  console.log(`axe-core: ${results.length} violation kinds in all: ${JSON.stringify(results)}`);
  expect(serious(results)).toEqual([]);
  await context.close();
});
