// The prompt box in Chromium against the real built app, the simulator speaking the relay
// protocol (describe exists only there): an image dropped on the form, stylize set with the
// slider and the keyboard, the job's parameters on its card; then an image described in the
// tray and one of its four prompts taken into the box. One browser context for both tests, as
// one person's visit: the second page shows the history and the defaults the first one left.
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { axeViolations, launchChromium, OUTPUT_DIR, serious, startApp } from './harness';

let app: ServerProcess;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ SIM_PROTOCOL: 'mj-proxy' }), launchChromium()]);
  context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.stop();
});

/** A small picture worth describing: a sky-to-sea gradient. */
function gradientPng(width = 96, height = 64): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      png.data[at] = 40 + (150 * x) / width;
      png.data[at + 1] = 90 + (100 * y) / height;
      png.data[at + 2] = 200 - (120 * y) / height;
      png.data[at + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

async function openApp(): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(app.baseUrl);
  await page.getByLabel('Prompt', { exact: true }).waitFor();
  return { page, consoleErrors };
}

test('a dropped image and the stylize slider: the text follows, and the card shows the parameters when done', async () => {
  const { page, consoleErrors } = await openApp();
  const prompt = page.getByLabel('Prompt', { exact: true });
  const text = 'a lighthouse in a storm';

  await prompt.fill(text);
  const transfer = await page.evaluateHandle(
    (bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'storm.png', { type: 'image/png' }));
      return data;
    },
    [...gradientPng()],
  );
  const form = page.locator('form.prompt-form');
  await form.dispatchEvent('dragover', { dataTransfer: transfer });
  await form.dispatchEvent('drop', { dataTransfer: transfer });
  const thumbnail = page.getByRole('img', { name: 'Image prompt 1: storm.png' });
  await thumbnail.waitFor();
  await page.getByRole('button', { name: 'Settings' }).click();
  const stylize = page.getByRole('slider', { name: /^Stylize/ });
  await stylize.fill('250');
  const afterSlider = await prompt.inputValue();
  await stylize.press('ArrowRight');
  const afterKey = await prompt.inputValue();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'prompt-box-tray.png') });
  await page.getByRole('button', { name: 'Generate' }).click();
  const card = page.getByRole('article', { name: text });
  await card.waitFor();
  await waitFor(async () => (await card.getByRole('status').textContent()) === 'Done', {
    message: 'the card to say Done',
    timeoutMs: 40_000,
    intervalMs: 200,
  });
  const loaded = await waitFor(
    () => card.getByRole('img', { name: text }).evaluate((image: HTMLImageElement) => image.naturalWidth > 0),
    { message: 'the image to load', timeoutMs: 20_000 },
  );

  expect(afterSlider).toBe(`${text} --s 250`);
  expect(afterKey).toBe(`${text} --s 251`);
  expect(await card.locator('.job-params').textContent()).toBe('--s 251');
  expect(await card.getByRole('img', { name: 'Image prompt 1' }).getAttribute('src')).toMatch(
    /^\/api\/uploads\/up_[\w-]+\/image$/,
  );
  expect(await thumbnail.evaluate((image: HTMLImageElement) => image.naturalWidth)).toBe(96);
  expect(loaded).toBe(true);
  expect(consoleErrors).toEqual([]);
  await page.close();
});

test('an image picked and described: its four prompts appear, and "Use this prompt" puts one in the box', async () => {
  const { page, consoleErrors } = await openApp();
  const prompt = page.getByLabel('Prompt', { exact: true });

  await page.getByLabel('Add images').setInputFiles({ name: 'sea.png', mimeType: 'image/png', buffer: gradientPng() });
  await page.getByRole('img', { name: 'Image prompt 1: sea.png' }).waitFor();
  await page.getByRole('button', { name: 'Describe image 1' }).click();
  const card = page.getByRole('article', { name: 'Describe this image' });
  await card.waitFor();
  await waitFor(async () => (await card.getByRole('status').textContent()) === 'Done', {
    message: 'the describe card to say Done',
    timeoutMs: 40_000,
    intervalMs: 200,
  });
  const uses = card.getByRole('button', { name: 'Use this prompt' });
  await uses.first().waitFor();
  const descriptions = await card.locator('.job-descriptions li p').allTextContents();
  await uses.nth(1).click();
  await waitFor(async () => (await prompt.inputValue()) === descriptions[1], {
    message: 'the box to hold the second description',
  });
  const focused = await prompt.evaluate((element) => element === document.activeElement);
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('slider', { name: /^Stylize/ }).waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'prompt-box.png'), fullPage: true });
  await page.getByLabel('Add images').setInputFiles({ name: 'sea.png', mimeType: 'image/png', buffer: gradientPng() });
  await page.getByRole('img', { name: 'Image prompt 1: sea.png' }).waitFor();
  const accessibility = await axeViolations(page);
  console.log(`axe-core on the prompt box: ${JSON.stringify(accessibility)}`);

  expect(await uses.count()).toBe(4);
  expect(descriptions.every((description) => description.length > 0)).toBe(true);
  expect(await prompt.inputValue()).toBe(descriptions[1]);
  expect(focused).toBe(true);
  // The first page's stylize, remembered by this browser, goes along with the next prompts.
  expect(await page.locator('.defaults-line').textContent()).toContain('--s 251');
  expect(serious(accessibility)).toEqual([]);
  expect(consoleErrors).toEqual([]);
  await page.close();
});
