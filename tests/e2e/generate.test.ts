import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { launchChromium, OUTPUT_DIR, startApp } from './harness';

let app: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ SIM_PROTOCOL: 'v7' }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function openApp(): Promise<{ page: Page; jobPolls: string[]; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const jobPolls: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (request) => {
    if (/^\/api\/jobs\/[^/]+$/.test(new URL(request.url()).pathname)) jobPolls.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  // The page's timers run on a clock the test moves, so polling intervals cost no real time.
  await page.clock.install();
  await page.goto(app.baseUrl);
  return { page, jobPolls, consoleErrors };
}

test('a prompt becomes an image in Chromium, and polling stops once it is complete', async () => {
  const { page, jobPolls, consoleErrors } = await openApp();

  await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse on the ocean at sunset');
  await page.getByRole('radio', { name: '16:9' }).check({ force: true });
  await page.getByLabel('Prompt', { exact: true }).press('Control+Enter');
  const card = page.getByRole('article', { name: 'a lighthouse on the ocean at sunset' });
  await card.waitFor();
  await waitFor(
    async () => {
      await page.clock.runFor(2_000);
      return (await card.getByRole('status').textContent()) === 'Done';
    },
    { message: 'the card to say Done', timeoutMs: 20_000 },
  );
  const image = card.getByRole('img', { name: 'a lighthouse on the ocean at sunset' });
  const size = await waitFor(
    () =>
      image.evaluate((element: HTMLImageElement) =>
        element.complete && element.naturalWidth > 0
          ? { width: element.naturalWidth, height: element.naturalHeight }
          : false,
      ),
    { message: 'the image to load', timeoutMs: 20_000 },
  );
  const pollsWhenDone = jobPolls.length;
  await page.clock.runFor(30_000);
  await waitFor(() => image.evaluate((element) => getComputedStyle(element).opacity === '1'), {
    message: 'the image to be fully shown',
    timeoutMs: 20_000,
  });
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'generate.png'), fullPage: true });

  expect(size.width / size.height).toBeCloseTo(16 / 9, 1);
  expect(pollsWhenDone).toBeGreaterThanOrEqual(2);
  expect(jobPolls.length).toBe(pollsWhenDone);
  expect(await card.getByRole('link', { name: 'Full size' }).getAttribute('href')).toMatch(
    /^\/api\/images\/[\w-]+\.png$/,
  );
  expect(consoleErrors).toEqual([]);
  await page.close();
});

test('three prompts survive a reload while they run, and all three images appear', async () => {
  const { page } = await openApp();
  const prompts = ['misty forest valley at dawn', 'night sky over snowy peaks', 'desert dunes under a red sun'];

  for (const prompt of prompts) {
    await page.getByLabel('Prompt', { exact: true }).fill(prompt);
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('article', { name: prompt }).waitFor();
  }
  const statusesBeforeReload = await page.getByRole('article').getByRole('status').allTextContents();
  await page.reload();
  await page.getByRole('article').first().waitFor();
  await waitFor(
    async () => {
      await page.clock.runFor(2_000);
      const statuses = await page.getByRole('article').getByRole('status').allTextContents();
      return statuses.length === 3 && statuses.every((status) => status === 'Done');
    },
    { message: 'the three cards to say Done', timeoutMs: 20_000 },
  );
  const loaded = await waitFor(
    async () => {
      const sizes = await page
        .getByRole('article')
        .getByRole('img')
        .evaluateAll((images) => images.map((image) => (image as HTMLImageElement).naturalWidth));
      return sizes.length === 3 && sizes.every((width) => width > 0) && sizes;
    },
    { message: 'the three images to load', timeoutMs: 20_000 },
  );
  await page.clock.runFor(30_000);
  await waitFor(
    () =>
      page
        .getByRole('article')
        .getByRole('img')
        .evaluateAll((images) => images.every((image) => getComputedStyle(image).opacity === '1')),
    { message: 'the three images to be fully shown', timeoutMs: 20_000 },
  );
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'gallery-after-reload.png'), fullPage: true });

  expect(statusesBeforeReload.some((status) => status !== 'Done')).toBe(true);
  expect(loaded).toHaveLength(3);
  expect(
    await page.getByRole('article').evaluateAll((cards) => cards.map((card) => card.getAttribute('aria-label'))),
  ).toEqual([...prompts].reverse());
  await page.close();
});

test('a refused prompt shows the upstream reason, in the form or (if it had to queue) on its card', async () => {
  const { page } = await openApp();

  await page.getByLabel('Prompt', { exact: true }).fill('a gore scene');
  await page.getByRole('button', { name: 'Generate' }).click();
  const reason = await waitFor(
    async () => {
      await page.clock.runFor(1_000);
      const texts = [
        await page.getByRole('alert').first().textContent(),
        ...(await page.getByRole('article').getByRole('status').allTextContents()),
      ];
      return texts.find((text) => text?.includes('refused'));
    },
    { message: 'the refusal to be shown', timeoutMs: 20_000 },
  );

  expect(reason).toContain('"gore"');
  await page.close();
});

test('the server logs say it runs against the built-in simulator', () => {
  expect(app.logs.some((line) => line.includes('running against the built-in simulator'))).toBe(true);
});
