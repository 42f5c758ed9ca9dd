import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, expect, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';
import { useapiRoutes } from '../../server/src/simulator/useapi-routes';
import type { UpstreamAdapter, UpstreamJob } from '../../server/src/upstream/adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createUseapiAdapter } from '../../server/src/upstream/useapi-adapter';

/** A token of realistic length: the adapter scrubs its secret out of every message it repeats. */
const SIM_TOKEN = 'user:77-sim-token-0f9e8d7c';
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** The simulator's useapi.net face on a port of its own, and our adapter pointed at it. */
async function simulated(
  overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {},
  { secret = SIM_TOKEN, random }: { secret?: string; random?: () => number } = {},
) {
  // No random failures: each test says what it wants to see.
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: SIM_TOKEN, timeFactor: 0.001, failureRate: 0, ...overrides }),
    random ? { random } : {},
  );
  const app = express();
  app.use('/useapi', useapiRoutes(engine));
  const listening = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
  closers.push(() => listening.close());
  const origin = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  const adapter = createUseapiAdapter({
    baseUrl: `${origin}/useapi`,
    secret,
    http: new UpstreamHttpClient({ timeoutMs: 2_000 }),
  });
  return { engine, origin, adapter };
}

/** Checks the job every few ms until it leaves pending and processing. */
async function settle(adapter: UpstreamAdapter, id: string): Promise<UpstreamJob> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const job = await adapter.getJob(id);
    if (job.status !== 'pending' && job.status !== 'processing') return job;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`job ${id} did not finish`);
}

/** What a call failed with (undefined when it did not), caught at once so no rejection goes unhandled. */
const failureOf = (call: Promise<unknown> | undefined) =>
  call?.then(
    () => undefined,
    (error: unknown) => error,
  );

const fox = { text: 'a fox', params: { aspect_ratio: '3:2' as const }, imageUrls: [], images: [] };

test('the adapter submits to the simulator, follows the job to a grid, and upscales and varies it', async () => {
  const { adapter, origin } = await simulated();

  const submitted = await adapter.submit(fox);
  const grid = await settle(adapter, submitted.id);
  const upscale = await adapter.act?.({ gridId: submitted.id, action: 'upscale', index: 2 });
  const single = await settle(adapter, upscale?.id ?? '');
  const offer = single.offers?.find((item) => item.action === 'zoom_out_2x');
  const zoom = await adapter.act?.({ gridId: upscale?.id ?? '', action: 'zoom_out_2x', customId: offer?.customId });
  const zoomed = await settle(adapter, zoom?.id ?? '');

  expect(submitted).toEqual({
    id: expect.stringMatching(/^job:[\w-]+-channel:\d+-bot:midjourney$/),
    status: 'pending',
  });
  expect(grid).toMatchObject({ status: 'complete', progress: 100 });
  expect(grid.imageUrl).toMatch(new RegExp(`^${origin}/v1/images/[\\w-]+\\.png$`));
  expect(grid.offers?.map(({ action, index }) => (index ? `${action} ${index}` : action))).toEqual([
    'upscale 1',
    'upscale 2',
    'upscale 3',
    'upscale 4',
    'reroll',
    'variation 1',
    'variation 2',
    'variation 3',
    'variation 4',
  ]);
  expect(single).toMatchObject({ status: 'complete' });
  expect(single.offers?.map((item) => item.action)).toEqual([
    'upscale_subtle',
    'upscale_creative',
    'vary_subtle',
    'vary_strong',
    'zoom_out_2x',
    'zoom_out_1_5x',
    'pan_left',
    'pan_right',
    'pan_up',
    'pan_down',
  ]);
  expect(zoomed).toMatchObject({ status: 'complete', imageUrl: expect.stringContaining(`${origin}/v1/images/`) });
  expect(zoomed.offers?.map((item) => item.action)).toContain('reroll');
});

test('a grid remembers its pressed upscale: it is not offered again, and pressing it again is rejected', async () => {
  const { adapter } = await simulated();
  const { id } = await adapter.submit(fox);
  await settle(adapter, id);
  await adapter.act?.({ gridId: id, action: 'upscale', index: 1 });

  const again = await failureOf(adapter.act?.({ gridId: id, action: 'upscale', index: 1 }));
  const grid = await adapter.getJob(id);

  expect(again).toMatchObject({ kind: 'rejected', upstreamStatus: 409 });
  expect(grid.offers?.some((offer) => offer.action === 'upscale' && offer.index === 1)).toBe(false);
  expect(grid.offers?.some((offer) => offer.action === 'upscale' && offer.index === 2)).toBe(true);
});

test('rerolls and variations run on the simulator as new grids', async () => {
  const { adapter } = await simulated();
  const { id } = await adapter.submit(fox);
  await settle(adapter, id);

  const reroll = await adapter.act?.({ gridId: id, action: 'reroll' });
  const variation = await adapter.act?.({ gridId: id, action: 'variation', index: 3 });

  expect(await settle(adapter, reroll?.id ?? '')).toMatchObject({ status: 'complete' });
  expect((await settle(adapter, variation?.id ?? '')).offers).toHaveLength(9);
});

test("the simulator's refusals reach the adapter as our kinds: moderation, the token, an unknown job, a bad button", async () => {
  // Slow jobs: the grid is still rendering when its button is pressed.
  const { adapter } = await simulated({ timeFactor: 1 });
  const wrong = (await simulated({}, { secret: 'user:77-not-the-token' })).adapter;
  const { id } = await adapter.submit(fox);

  const moderated = await failureOf(adapter.submit({ ...fox, text: 'a gore fox' }));
  const unauthorized = await failureOf(wrong.submit(fox));
  const unknown = await failureOf(adapter.getJob('job:nothing-channel:1-bot:midjourney'));
  const early = await failureOf(adapter.act?.({ gridId: id, action: 'upscale', index: 1 }));

  expect(moderated).toMatchObject({ kind: 'refused', upstreamStatus: 422, message: expect.stringMatching(/gore/) });
  expect(unauthorized).toMatchObject({ kind: 'auth', upstreamStatus: 401 });
  expect(unknown).toMatchObject({ kind: 'not_found', upstreamStatus: 404 });
  expect(early).toMatchObject({ kind: 'rejected', upstreamStatus: 400 });
});

test("the account's queue holds three running jobs; a fourth finds it busy until one ends", async () => {
  const { adapter } = await simulated({ timeFactor: 1 });

  for (const _ of [1, 2, 3]) await adapter.submit(fox);
  const fourth = await failureOf(adapter.submit(fox));

  expect(fourth).toMatchObject({ kind: 'busy', retryAfterS: 30, upstreamStatus: 429 });
});

test("a render the simulator fails is a failed job with its reason; its moderation pass is Midjourney's", async () => {
  // The engine's random numbers pick whether a job fails and why: 0.1 the first reason, 0.99 the last.
  const broken = (await simulated({ failureRate: 1 }, { random: () => 0.1 })).adapter;
  const strict = (await simulated({ failureRate: 1 }, { random: () => 0.99 })).adapter;

  const failed = await settle(broken, (await broken.submit(fox)).id);
  const moderated = await settle(strict, (await strict.submit(fox)).id);

  expect(failed).toMatchObject({ status: 'failed', error: 'The render worker ran out of GPU memory' });
  expect(moderated).toMatchObject({
    status: 'failed',
    error: 'Midjourney moderated this job: The moderation pass flagged the finished image',
  });
});
