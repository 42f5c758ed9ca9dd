// Grid actions in Chromium against the real built app, with the simulator speaking the
// midjourney-proxy relay protocol: a grid of four previews while it renders, finishes, and
// its U2 button makes an upscale that appears at the top, linked to the grid.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { axeViolations, launchChromium, OUTPUT_DIR, serious, startApp } from './harness';

let app: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  // Slower than real time (jobs of about 14 s), so that a relay preview lasts several of the
  // browser's 2-second polls, however the job's duration varies.
  [app, browser] = await Promise.all([
    startApp({ SIM_PROTOCOL: 'mj-proxy', SIM_TIME_FACTOR: '2', BUDGET_WINDOW_MS: '120000' }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const naturalSize = (element: HTMLImageElement) =>
  element.complete && element.naturalWidth > 0 ? { width: element.naturalWidth, height: element.naturalHeight } : false;

test('a relay grid shows its preview, then U2 upscales image 2 into a linked job with its own image', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  // Real time here (no page clock): the preview exists only while the relay renders. Every
  // preview that finishes loading is recorded as it happens, between the test's own looks.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { previewsLoaded: string[] }).previewsLoaded = seen;
    document.addEventListener(
      'load',
      (event) => {
        const target = event.target;
        if (target instanceof HTMLImageElement && target.matches('img.job-preview') && target.naturalWidth > 0) {
          seen.push(String(target.getAttribute('src')));
        }
      },
      true,
    );
  });
  await page.goto(app.baseUrl);
  const prompt = 'snowy mountain lake at dawn';

  await page.getByLabel('Prompt', { exact: true }).fill(prompt);
  await page.getByRole('button', { name: 'Generate' }).click();
  const newest = page.locator('article').filter({ hasText: prompt }).first();
  await newest.waitFor();
  // Pin the grid's card by its id: the upscale will carry the same prompt, on top.
  const gridId = String(await newest.getAttribute('id'));
  const gridCard = page.locator(`article#${gridId}`);
  await waitFor(async () => (await gridCard.getByRole('status').textContent()) === 'Done', {
    message: 'the grid card to say Done',
    timeoutMs: 60_000,
    intervalMs: 150,
  });
  const previews = await page.evaluate(() => (window as unknown as { previewsLoaded: string[] }).previewsLoaded);
  const gridImage = gridCard.getByRole('img', { name: prompt });
  const gridSize = await waitFor(() => gridImage.evaluate(naturalSize), {
    message: 'the grid image to load',
    timeoutMs: 20_000,
  });

  await gridCard.getByRole('button', { name: 'U2, upscale image 2 (top right)' }).click();
  const upscaleCard = page.locator('article').filter({ hasText: 'Upscale of image 2' });
  await upscaleCard.waitFor();
  await waitFor(async () => (await upscaleCard.getByRole('status').textContent()) === 'Done', {
    message: 'the upscale card to say Done',
    timeoutMs: 60_000,
    intervalMs: 150,
  });
  const upscaleImage = upscaleCard.getByRole('img', { name: prompt });
  const upscaleSize = await waitFor(() => upscaleImage.evaluate(naturalSize), {
    message: 'the upscaled image to load',
    timeoutMs: 20_000,
  });
  const firstCardId = await page.locator('article').first().getAttribute('id');
  const upscaleId = await upscaleCard.getAttribute('id');
  await upscaleCard.getByRole('link', { name: 'from this grid' }).click();
  await waitFor(() => upscaleImage.evaluate((element) => getComputedStyle(element).opacity === '1'), {
    message: 'the upscaled image to be fully shown',
    timeoutMs: 20_000,
  });
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'grid-actions.png'), fullPage: true });
  // axe over the grid buttons and the linked card.
  const violations = await axeViolations(page);

  expect(previews.length).toBeGreaterThanOrEqual(1);
  for (const src of previews) expect(src).toMatch(/^\/api\/jobs\/[\w-]+\/preview\?at=\d+$/);
  expect(firstCardId).toBe(upscaleId);
  expect(new URL(page.url()).hash).toBe(`#${gridId}`);
  // One image at the grid's full size, in the same aspect ratio.
  expect(upscaleSize).toEqual(gridSize);
  expect(await upscaleCard.getByRole('button', { name: /upscale image/ }).count()).toBe(0);
  expect(await gridCard.getByRole('button', { name: /upscale image/ }).count()).toBe(4);
  expect(serious(violations)).toEqual([]);
  expect(consoleErrors).toEqual([]);
  await page.close();
}, 120_000);
