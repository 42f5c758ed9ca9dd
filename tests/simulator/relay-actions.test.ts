// Midjourney V7's actions end to end without mocks: the relay adapter presses the simulator's
// buttons over loopback HTTP (with /submit/change and without it), goes through the modal step
// where the simulator asks for more, and the results download as pictures and clips.
import { PNG } from 'pngjs';
import { afterEach, expect, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { type RunningSimulator, startSimulator } from '../../server/src/simulator/server';
import type { ActionInput, UpstreamAdapter, UpstreamJob } from '../../server/src/upstream/adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createImageFetcher } from '../../server/src/upstream/image-fetcher';
import { createMjProxyAdapter } from '../../server/src/upstream/mj-proxy-adapter';

let running: RunningSimulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function setUp(overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {}) {
  const clock = { now: 0 };
  running = await startSimulator(
    simulatorConfig({
      apiKey: 'loop-key',
      queueMs: 1_000,
      renderMs: 4_000,
      failureRate: 0,
      jitter: 0,
      imageScale: 0.25,
      ...overrides,
    }),
    { deps: { now: () => clock.now, random: () => 0.5 } },
  );
  const http = new UpstreamHttpClient({ timeoutMs: 5_000 });
  const adapter = createMjProxyAdapter({
    baseUrl: running.baseUrl.replace(/\/v1$/, '/mj'),
    secret: 'loop-key',
    http,
  });
  const fetcher = createImageFetcher(http, 5 * 1024 * 1024, { videoMaxBytes: 20 * 1024 * 1024 });
  /** Waits the simulated time out and answers the finished job. */
  const finish = async (id: string): Promise<UpstreamJob> => {
    clock.now += 20_000;
    const job = await adapter.getJob(id);
    if (job.status !== 'complete') throw new Error(`job ${id} is ${job.status}: ${job.error ?? ''}`);
    return job;
  };
  /** Takes an offered action (its button, as the job service would) and lets it finish. */
  const act = async (on: UpstreamJob, input: Omit<ActionInput, 'gridId' | 'customId'>) => {
    const offer = on.offers?.find((item) => item.action === input.action && item.index === input.index);
    const started = await adapter.act?.({ ...input, gridId: on.id, customId: offer?.customId });
    return finish(started?.id ?? '');
  };
  const picture = async (job: UpstreamJob) =>
    PNG.sync.read(Buffer.from((await fetcher.fetch(job.imageUrl ?? '')).body));
  return { clock, adapter, fetcher, finish, act, picture };
}

type Setup = Awaited<ReturnType<typeof setUp>>;

async function upscaleOf(setup: Setup, adapter: UpstreamAdapter = setup.adapter) {
  const grid = await adapter.submit({
    text: 'a lighthouse on a cliff',
    params: { seed: 3 },
    imageUrls: [],
    images: [],
  });
  const done = await setup.finish(grid.id);
  return { grid: done, upscale: await setup.act(done, { action: 'upscale', index: 2 }) };
}

test.each([
  ['with /submit/change', true],
  ['with /submit/action only', false],
])('%s, every action an upscale offers runs and makes what Midjourney would', async (_name, changeRoute) => {
  const setup = await setUp({ changeRoute });
  const { upscale } = await upscaleOf(setup);
  const source = await setup.picture(upscale);

  const subtle = await setup.act(upscale, { action: 'upscale_subtle' });
  const vary = await setup.act(upscale, { action: 'vary_strong' });
  const zoom = await setup.act(upscale, { action: 'zoom_out_2x' });
  const pan = await setup.act(upscale, { action: 'pan_right' });

  expect(upscale.offers?.map((offer) => offer.action)).toContain('animate_low');
  expect((await setup.picture(subtle)).width).toBe(source.width * 2);
  // A subtle upscale is final: it offers the follow-ups but no second upscale.
  expect(subtle.offers?.map((offer) => offer.action)).not.toContain('upscale_subtle');
  // Variations, zooms and pans are grids of four again, each offering U1-U4.
  for (const grid of [vary, zoom, pan])
    expect(grid.offers?.filter((offer) => offer.action === 'upscale')).toHaveLength(4);
  const panned = await setup.picture(pan);
  expect(panned.width / panned.height).toBeCloseTo((source.width * 1.5) / source.height, 1);
});

test('Vary (Region) and Custom Zoom answer 21 and run once the adapter sends the modal', async () => {
  const setup = await setUp();
  const { upscale } = await upscaleOf(setup);
  const source = await setup.picture(upscale);
  const mask = new PNG({ width: source.width, height: source.height });
  for (let i = 0; i < mask.data.length; i += 4) {
    const x = (i / 4) % source.width;
    mask.data.set(x < source.width / 2 ? [255, 255, 255, 255] : [0, 0, 0, 255], i);
  }
  const maskBytes = PNG.sync.write(mask);

  const region = await setup.act(upscale, {
    action: 'vary_region',
    prompt: 'a red lighthouse on a cliff',
    mask: { load: async () => maskBytes },
  });
  const zoom = await setup.act(upscale, { action: 'zoom_custom', prompt: 'a lighthouse on a cliff', zoom: 1.8 });
  const regionGrid = await setup.picture(region);

  expect(region.status).toBe('complete');
  expect(regionGrid.width).toBeGreaterThan(0);
  // What reached the simulator through the modal: the mask as sent, the prompt, the factor.
  const regionJob = running?.engine.get(region.id);
  expect(regionJob?.edit).toEqual({ op: 'region', mask: maskBytes.toString('base64') });
  expect(regionJob?.prompt).toBe('a red lighthouse on a cliff');
  expect(running?.engine.get(zoom.id)?.edit).toEqual({ op: 'zoom', factor: 1.8 });
  expect(zoom.status).toBe('complete');
  await expect(setup.act(upscale, { action: 'vary_region', prompt: 'no mask' })).rejects.toMatchObject({
    kind: 'rejected',
    message: 'Vary (Region) needs a mask',
  });
});

test('with Remix mode on, a variation with a new prompt goes through the modal and uses it', async () => {
  const setup = await setUp({ remixMode: true });
  const { grid } = await upscaleOf(setup);

  const remixed = await setup.act(grid, {
    action: 'variation',
    index: 1,
    prompt: 'a lighthouse in a storm --ar 1:1',
    remix: true,
  });

  expect(remixed.status).toBe('complete');
  expect(running?.engine.get(remixed.id)?.prompt).toBe('a lighthouse in a storm');
  expect(running?.engine.get(grid.id)?.prompt).toBe('a lighthouse on a cliff');
  expect(remixed.offers?.filter((offer) => offer.action === 'variation')).toHaveLength(4);
});

test('Animate makes a WebM clip with its first frame as a poster; extending goes on to about 21 s', async () => {
  const setup = await setUp();
  const { upscale } = await upscaleOf(setup);

  const clip = await setup.act(upscale, { action: 'animate_low' });
  const video = await setup.fetcher.fetchVideo(clip.videoUrl ?? '');
  const poster = await setup.picture(clip);
  let longer = clip;
  const lengths: string[][] = [];
  for (let step = 0; step < 4; step++) {
    lengths.push((longer.offers ?? []).map((offer) => offer.action));
    if (!longer.offers?.length) break;
    longer = await setup.act(longer, { action: 'extend_high' });
  }

  expect(video.ext).toBe('webm');
  expect(video.contentType).toBe('video/webm');
  expect(Buffer.from(video.body).subarray(0, 4).toString('hex')).toBe('1a45dfa3');
  expect(poster.width).toBeGreaterThan(0);
  // 5 s, then 9, 13, 17, 21: at 21 s there is nothing more to extend.
  expect(lengths).toEqual([
    ['extend_high', 'extend_low'],
    ['extend_high', 'extend_low'],
    ['extend_high', 'extend_low'],
    ['extend_high', 'extend_low'],
  ]);
  expect(longer.offers ?? []).toEqual([]);
});

test('the simulator refuses what a job does not offer, as a relay would', async () => {
  const setup = await setUp();
  const { grid, upscale } = await upscaleOf(setup);

  await expect(setup.adapter.act?.({ gridId: grid.id, action: 'pan_left' })).rejects.toMatchObject({
    kind: 'rejected',
  });
  await expect(
    setup.adapter.act?.({
      gridId: upscale.id,
      action: 'variation',
      index: 1,
      customId: `MJ::JOB::variation::1::${upscale.id}`,
    }),
  ).rejects.toMatchObject({
    kind: 'rejected',
    message: 'The relay rejected the request: The task offers no variation',
  });
});
