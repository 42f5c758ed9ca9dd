// The production path end to end without mocks: the v7 adapter talks to the simulator over
// real loopback HTTP, with the simulator's clock under the test's control.
import { PNG } from 'pngjs';
import { afterEach, expect, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { type RunningSimulator, startSimulator } from '../../server/src/simulator/server';
import type { UpstreamAdapter } from '../../server/src/upstream/adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createImageFetcher } from '../../server/src/upstream/image-fetcher';
import { createMjProxyAdapter } from '../../server/src/upstream/mj-proxy-adapter';
import { createV7Adapter } from '../../server/src/upstream/v7-adapter';

const PROTOCOLS = {
  v7: (baseUrl: string, key: string, http: UpstreamHttpClient): UpstreamAdapter =>
    createV7Adapter({ baseUrl, apiKey: key, http }),
  'mj-proxy': (baseUrl: string, key: string, http: UpstreamHttpClient): UpstreamAdapter =>
    createMjProxyAdapter({ baseUrl: baseUrl.replace(/\/v1$/, '/mj'), secret: key, http }),
};

let running: RunningSimulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function setUp(protocol: keyof typeof PROTOCOLS, overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {}) {
  const clock = { now: 0 };
  running = await startSimulator(
    simulatorConfig({ apiKey: 'loop-key', queueMs: 1_000, renderMs: 4_000, failureRate: 0, ...overrides }),
    { deps: { now: () => clock.now, random: () => 0.5 } },
  );
  const http = new UpstreamHttpClient({ timeoutMs: 2_000 });
  const adapter = PROTOCOLS[protocol](running.baseUrl, 'loop-key', http);
  const wrongKey = PROTOCOLS[protocol](running.baseUrl, 'nope', http);
  return { clock, adapter, wrongKey, images: createImageFetcher(http, 5 * 1024 * 1024) };
}

test.each(Object.keys(PROTOCOLS) as (keyof typeof PROTOCOLS)[])(
  '%s: a job submitted through the adapter completes and its image downloads',
  async (protocol) => {
    const { clock, adapter, images } = await setUp(protocol);

    const submitted = await adapter.submit({
      text: 'a fox at dawn',
      params: { aspect_ratio: '4:3' },
      imageUrls: [],
      images: [],
    });
    clock.now += 3_000;
    const midway = await adapter.getJob(submitted.id);
    clock.now += 3_000;
    const done = await adapter.getJob(submitted.id);
    const image = await images.fetch(done.imageUrl ?? '');

    expect(submitted.status).toBe('pending');
    expect(midway.status).toBe('processing');
    expect(done.status).toBe('complete');
    expect(image.contentType).toBe('image/png');
    expect(Buffer.from(image.body).subarray(1, 4).toString()).toBe('PNG');
  },
);

test.each(Object.keys(PROTOCOLS) as (keyof typeof PROTOCOLS)[])(
  '%s: the adapter maps the simulator refusal, rate limit, unknown job and wrong key',
  async (protocol) => {
    const { adapter, wrongKey } = await setUp(protocol, { rateLimit: 3 });

    await expect(adapter.submit({ text: 'nsfw thing', params: {}, imageUrls: [], images: [] })).rejects.toMatchObject({
      kind: 'refused',
    });
    await expect(adapter.getJob('unknown')).rejects.toMatchObject({ kind: 'not_found' });
    await adapter.getJob('unknown').catch(() => undefined);
    await expect(adapter.getJob('unknown')).rejects.toMatchObject({ kind: 'rate_limited', retryAfterS: 60 });
    await expect(wrongKey.getJob('x')).rejects.toMatchObject({ kind: 'auth' });
  },
);

test('mj-proxy: a grid shows a sharpening preview, then upscale 3 is one image of the same scene as tile 3', async () => {
  const { clock, adapter, images } = await setUp('mj-proxy');
  // A fixed seed: without one every grid is a new scene, and a dark one can have tiles alike.
  const grid = await adapter.submit({ text: 'pine forest at night', params: { seed: 7 }, imageUrls: [], images: [] });

  clock.now += 2_500;
  const early = await adapter.getJob(grid.id);
  clock.now += 2_000;
  const later = await adapter.getJob(grid.id);
  const earlyPreview = PNG.sync.read(Buffer.from((await images.fetch(early.previewUrl ?? '')).body));
  const laterPreview = PNG.sync.read(Buffer.from((await images.fetch(later.previewUrl ?? '')).body));
  clock.now += 2_000;
  const gridDone = await adapter.getJob(grid.id);
  const gridImage = PNG.sync.read(Buffer.from((await images.fetch(gridDone.imageUrl ?? '')).body));
  const upscale = await adapter.act?.({ gridId: grid.id, action: 'upscale', index: 3 });
  clock.now += 5_000;
  const upscaleDone = await adapter.getJob(upscale?.id ?? '');
  const upscaleImage = PNG.sync.read(Buffer.from((await images.fetch(upscaleDone.imageUrl ?? '')).body));

  expect(gridDone.offers?.map((offer) => offer.action)).toEqual([
    ...Array(4).fill('upscale'),
    'reroll',
    ...Array(4).fill('variation'),
  ]);
  // The upscale offers Midjourney V7's follow-ups, by their buttons.
  expect(upscaleDone.offers?.map((offer) => offer.action)).toEqual([
    'upscale_subtle',
    'upscale_creative',
    'vary_subtle',
    'vary_strong',
    'vary_region',
    'zoom_out_2x',
    'zoom_out_1_5x',
    'zoom_custom',
    'pan_left',
    'pan_right',
    'pan_up',
    'pan_down',
    'animate_high',
    'animate_low',
  ]);
  expect(early).toMatchObject({ status: 'processing' });
  expect(laterPreview.width).toBeGreaterThan(earlyPreview.width);
  expect(laterPreview.width).toBeLessThan(gridImage.width);
  expect(upscaleDone.status).toBe('complete');
  // Tile 3 is the grid's bottom-left quarter; the upscale shows that scene alone, full size.
  const tile = quarter(gridImage, 3);
  expect(upscaleImage.width).toBe(gridImage.width);
  const shrunk = shrink(upscaleImage, tile.width, tile.height);
  expect(similarity(shrunk, tile)).toBeGreaterThan(0.95);
  for (const other of [1, 2, 4]) expect(similarity(shrunk, quarter(gridImage, other))).toBeLessThan(0.9);
});

test('mj-proxy: actions on a grid that is not finished, or on an upscale, are refused by the relay', async () => {
  const { clock, adapter } = await setUp('mj-proxy');
  const grid = await adapter.submit({
    text: 'a desert road',
    params: { aspect_ratio: '16:9' },
    imageUrls: [],
    images: [],
  });

  await expect(adapter.act?.({ gridId: grid.id, action: 'reroll' })).rejects.toMatchObject({
    kind: 'rejected',
    message: 'The relay rejected the request: The task is not finished',
  });
  clock.now += 6_000;
  const upscale = await adapter.act?.({ gridId: grid.id, action: 'upscale', index: 1 });
  const reroll = await adapter.act?.({ gridId: grid.id, action: 'reroll' });
  clock.now += 6_000;
  await expect(adapter.act?.({ gridId: upscale?.id ?? '', action: 'variation', index: 2 })).rejects.toMatchObject({
    kind: 'rejected',
  });
  expect((await adapter.getJob(reroll?.id ?? '')).status).toBe('complete');
});

type Picture = { width: number; height: number; data: Buffer };

function quarter(image: Picture, n: number): Picture {
  const width = Math.floor(image.width / 2);
  const height = Math.floor(image.height / 2);
  const left = ((n - 1) % 2) * width;
  const top = Math.floor((n - 1) / 2) * height;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    image.data.copy(
      data,
      y * width * 4,
      ((top + y) * image.width + left) * 4,
      ((top + y) * image.width + left + width) * 4,
    );
  }
  return { width, height, data };
}

/** Nearest-neighbour downscale, enough to compare two renders of one scene. */
function shrink(image: Picture, width: number, height: number): Picture {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (Math.floor((y * image.height) / height) * image.width + Math.floor((x * image.width) / width)) * 4;
      image.data.copy(data, (y * width + x) * 4, from, from + 4);
    }
  }
  return { width, height, data };
}

/** 1 for identical pictures; the share of pixels whose colours differ by under 40 in sum. */
function similarity(a: Picture, b: Picture): number {
  let close = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    const difference =
      Math.abs((a.data[i] ?? 0) - (b.data[i] ?? 0)) +
      Math.abs((a.data[i + 1] ?? 0) - (b.data[i + 1] ?? 0)) +
      Math.abs((a.data[i + 2] ?? 0) - (b.data[i + 2] ?? 0));
    if (difference < 40) close += 1;
  }
  return close / (a.data.length / 4);
}

test('mj-proxy: a newer relay without /submit/change is driven through /submit/action and its buttons', async () => {
  const { clock, adapter } = await setUp('mj-proxy', { changeRoute: false });
  const grid = await adapter.submit({
    text: 'a canyon at noon',
    params: { aspect_ratio: '3:2' },
    imageUrls: [],
    images: [],
  });
  clock.now += 6_000;

  const variation = await adapter.act?.({ gridId: grid.id, action: 'variation', index: 4 });
  const reroll = await adapter.act?.({ gridId: grid.id, action: 'reroll' });
  clock.now += 6_000;

  for (const job of [variation, reroll]) expect((await adapter.getJob(job?.id ?? '')).status).toBe('complete');
  expect(new Set([grid.id, variation?.id, reroll?.id]).size).toBe(3);
});
