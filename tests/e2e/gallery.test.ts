// The gallery to work in, in Chromium against the real built app and the simulator's relay
// face, by keyboard alone: a grid, its U2, the full-screen viewer (arrows, Esc), Vary (Region)
// boxed in the region editor, Animate into a clip that plays, and a search kept in the URL.
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { axeViolations, launchChromium, OUTPUT_DIR, serious, startApp } from './harness';

let app: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  [app, browser] = await Promise.all([
    startApp({ SIM_PROTOCOL: 'mj-proxy', SIM_FAILURE_RATE: '0', BUDGET_WINDOW_MS: '60000' }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const done = (card: Locator, what: string) =>
  waitFor(async () => (await card.getByRole('status').first().textContent()) === 'Done', {
    message: `${what} to say Done`,
    timeoutMs: 60_000,
    intervalMs: 150,
  });

/** Focuses an element and presses a key on it, as a keyboard user would after tabbing there. */
async function press(target: Locator, key = 'Enter') {
  await target.focus();
  await target.press(key);
}

const focusedInside = (page: Page, selector: string) =>
  page.evaluate((css) => Boolean(document.activeElement?.closest(css)), selector);

test('by keyboard alone: U2, the viewer, a region variation, a clip that plays, and a bookmarkable search', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(app.baseUrl);
  const prompt = 'harbour lighthouse at dusk';

  // A grid, then U2.
  const box = page.getByLabel('Prompt', { exact: true });
  await box.focus();
  await page.keyboard.type(prompt);
  await page.keyboard.press('Control+Enter');
  const gridCard = page.locator('article').filter({ hasText: prompt }).first();
  await gridCard.waitFor();
  const gridId = String(await gridCard.getAttribute('id'));
  await done(page.locator(`article#${gridId}`), 'the grid');
  await press(page.locator(`article#${gridId}`).getByRole('button', { name: 'U2, upscale image 2 (top right)' }));
  const upscaleCard = page.locator('article').filter({ hasText: 'Upscale of image 2' });
  await upscaleCard.waitFor();
  await done(upscaleCard, 'the upscale');

  // The viewer, opened from the card's image.
  const opener = upscaleCard.getByRole('button', { name: prompt });
  await press(opener);
  const viewer = page.getByRole('dialog', { name: prompt });
  await viewer.waitFor();
  await waitFor(() => viewer.getByRole('button', { name: 'Vary Region' }).isVisible(), {
    message: 'the viewer to show the upscale’s actions',
    timeoutMs: 10_000,
  });
  await waitFor(() => viewer.getByRole('navigation', { name: 'Related images' }).isVisible(), {
    message: 'the lineage strip',
    timeoutMs: 10_000,
  });
  const viewUrl = new URL(page.url());
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'viewer.png') });
  const viewerViolations = await axeViolations(page);
  const firstPosition = await viewer.locator('.viewer-position').textContent();
  await page.keyboard.press('ArrowRight');
  const secondPosition = await viewer.locator('.viewer-position').textContent();
  const secondUrl = new URL(page.url()).searchParams.get('view');
  await page.keyboard.press('ArrowLeft');

  // Vary (Region): a box by keyboard, then Submit.
  await press(viewer.getByRole('button', { name: 'Vary Region' }));
  const editor = page.getByRole('dialog', { name: 'Vary (Region)' });
  await editor.waitFor();
  const surface = editor.getByRole('application', { name: 'Area to repaint' });
  await waitFor(async () => !/Loading/.test((await editor.getByRole('status').first().textContent()) ?? ''), {
    message: 'the region editor’s image to load',
    timeoutMs: 10_000,
  });
  await surface.focus();
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowDown', 'Shift+ArrowRight', 'Shift+ArrowDown', 'Enter']) {
    await page.keyboard.press(key);
  }
  const regionStatus = await editor.getByRole('status').first().textContent();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'region-editor.png') });
  const editorViolations = await axeViolations(page);
  await press(editor.getByLabel('New prompt (optional)'), 'Control+A');
  await page.keyboard.type('harbour lighthouse in the rain at dusk');
  await press(editor.getByRole('button', { name: 'Submit' }));
  await editor.waitFor({ state: 'detached' });

  // Esc closes the viewer and gives focus back to the card it was opened from.
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  const focusBack = await focusedInside(page, `article#${String(await upscaleCard.getAttribute('id'))}`);
  const regionCard = page.locator('article').filter({ hasText: 'Vary (Region)' });
  await regionCard.waitFor();
  await done(regionCard, 'the region variation');

  // Animate: a clip that plays in its card.
  await press(upscaleCard.getByRole('button', { name: 'Animate low motion' }));
  const clipCard = page.locator('article').filter({ hasText: 'Animate (low motion)' });
  await clipCard.waitFor();
  await done(clipCard, 'the clip');
  const clip = clipCard.locator('video');
  const played = await waitFor(
    () =>
      clip.evaluate((video: HTMLVideoElement) =>
        video.readyState >= 2 ? { width: video.videoWidth, duration: Math.round(video.duration) } : false,
      ),
    { message: 'the clip to load', timeoutMs: 20_000 },
  );
  await clipCard.screenshot({ path: path.join(OUTPUT_DIR, 'clip-card.png') });

  // A search: the words go to the URL, the list narrows, and the URL reopens the same view.
  const search = page.getByLabel('Search prompts');
  await search.focus();
  await page.keyboard.type('rain');
  await page.keyboard.press('Enter');
  await waitFor(async () => (await page.locator('article').count()) === 1, {
    message: 'the list to narrow to the region variation',
    timeoutMs: 10_000,
  });
  const searchUrl = page.url();
  await page.screenshot({ path: path.join(OUTPUT_DIR, 'search.png'), fullPage: true });
  const searchViolations = await axeViolations(page);
  // The same owner (the same context's cookie) in a new tab.
  const reopened = await context.newPage();
  await reopened.goto(searchUrl);
  await reopened.locator('article').first().waitFor();
  const reopenedCards = await reopened.locator('article').allTextContents();
  const reopenedQuery = await reopened.getByLabel('Search prompts').inputValue();

  expect(viewUrl.searchParams.get('view')).toMatch(/^[\w-]+$/);
  expect(firstPosition).toBe('1 of 2');
  expect(secondPosition).toBe('2 of 2');
  expect(secondUrl).toBe(gridId.replace(/^job-/, ''));
  expect(regionStatus).toMatch(/^1 area selected/);
  expect(focusBack).toBe(true);
  expect(played).toMatchObject({ duration: 5 });
  expect((played as { width: number }).width).toBeGreaterThan(0);
  expect(new URL(searchUrl).searchParams.get('q')).toBe('rain');
  expect(reopenedQuery).toBe('rain');
  expect(reopenedCards).toHaveLength(1);
  expect(reopenedCards[0]).toContain('Vary (Region)');
  expect(reopenedCards[0]).toContain('harbour lighthouse in the rain at dusk');
  expect(serious(viewerViolations)).toEqual([]);
  expect(serious(editorViolations)).toEqual([]);
  expect(serious(searchViolations)).toEqual([]);
  expect(consoleErrors).toEqual([]);
  await context.close();
}, 240_000);
