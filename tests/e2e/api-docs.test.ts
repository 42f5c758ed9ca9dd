// The API reference page in Chromium against the real built app: Swagger UI renders every
// operation of the served document under the page CSP with not one violation, "Try it out"
// calls the API from the page, and the studio's footer leads there.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServerProcess } from '../support/server-process';
import { launchChromium, OUTPUT_DIR, startApp } from './harness';

let app: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** A page that reports every CSP violation (the event and the console's words for it) and page error. */
async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return { page, violations };
}

test('/api/docs renders every operation of the document in Chromium with zero CSP violations', async () => {
  const { page, violations } = await watchedPage();
  const document = (await (await fetch(`${app.baseUrl}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const operations = Object.values(document.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);

  const answer = await page.goto(`${app.baseUrl}/api/docs`);
  await page
    .locator('.opblock')
    .nth(operations - 1)
    .waitFor();
  const rendered = await page.locator('.opblock').count();
  const title = await page.locator('.info .title').textContent();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'api-docs.png') });

  console.log(`API reference: ${rendered} operations rendered; CSP violations: ${JSON.stringify(violations)}`);
  expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
  expect(answer?.headers()['content-security-policy']).not.toContain('unsafe');
  expect(rendered).toBe(operations);
  expect(title).toContain('mj-studio API');
  expect(violations).toEqual([]);
  await page.close();
});

test('"Try it out" on GET /api/budget calls the API from the page and shows its answer, still without a violation', async () => {
  const { page, violations } = await watchedPage();
  await page.goto(`${app.baseUrl}/api/docs`);
  const operation = page.locator('#operations-jobs-getBudget');

  await operation.locator('.opblock-summary-control').click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  const [called] = await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname === '/api/budget'),
    operation.getByRole('button', { name: 'Execute' }).click(),
  ]);
  await operation.locator('.live-responses-table tr.response .response-col_status').first().waitFor();
  const shown = await operation.locator('.live-responses-table tr.response .response-col_status').first().textContent();
  await page
    .locator('.opblock-body')
    .first()
    .screenshot({ path: path.join(OUTPUT_DIR, 'api-docs-try-it-out.png') });

  expect(called.status()).toBe(200);
  expect(shown?.trim()).toBe('200');
  expect(violations).toEqual([]);
  await page.close();
});

test("the studio's footer leads to the reference page", async () => {
  const { page, violations } = await watchedPage();
  await page.goto(app.baseUrl);

  await page.getByRole('contentinfo').getByRole('link', { name: 'API reference' }).click();
  await page.waitForURL(`${app.baseUrl}/api/docs`);
  await page.locator('.opblock').first().waitFor();

  expect(violations).toEqual([]);
  await page.close();
});
