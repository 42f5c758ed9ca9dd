// The Legnext adapter against the simulator's Legnext face over real loopback HTTP, with the
// simulator's clock under the test's control: both sides of the protocol agree.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, expect, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';
import { imageRoutes } from '../../server/src/simulator/image-routes';
import { legnextRoutes } from '../../server/src/simulator/legnext-routes';
import { holdSharedRenderPool } from '../../server/src/simulator/render-pool';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createLegnextAdapter } from '../../server/src/upstream/legnext-adapter';

const KEY = 'k';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setUp(overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {}) {
  const clock = { now: 1_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: KEY, timeFactor: 0.001, failureRate: 0, imageScale: 0.25, ...overrides }),
    { now: () => clock.now, random: () => 0.5 },
  );
  const app = express();
  app.use('/legnext', legnextRoutes(engine));
  app.use('/v1', imageRoutes(engine));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const release = holdSharedRenderPool();
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await release();
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/legnext`;
  const http = new UpstreamHttpClient({ timeoutMs: 5_000 });
  return {
    clock,
    adapter: createLegnextAdapter({ baseUrl, secret: KEY, http }),
    wrongKey: createLegnextAdapter({ baseUrl, secret: 'not-the-key', http }),
  };
}

const submit = (adapter: ReturnType<typeof createLegnextAdapter>, text = 'a fox at dawn') =>
  adapter.submit({ text, params: { aspect_ratio: '4:3' }, imageUrls: [], images: [] });

test('a diffusion submitted through the adapter walks to a finished grid with its offers and a real image', async () => {
  const { clock, adapter } = await setUp();

  const submitted = await submit(adapter);
  const pending = await adapter.getJob(submitted.id);
  clock.now += 3;
  const processing = await adapter.getJob(submitted.id);
  clock.now += 10;
  const done = await adapter.getJob(submitted.id);
  const image = await fetch(done.imageUrl ?? '');

  expect(submitted).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'pending' });
  expect(pending.status).toBe('pending');
  expect(processing.status).toBe('processing');
  expect(done).toMatchObject({ status: 'complete', progress: 100 });
  expect(done.offers).toEqual([
    ...[1, 2, 3, 4].map((index) => ({ action: 'upscale', index })),
    ...[1, 2, 3, 4].map((index) => ({ action: 'variation', index })),
    { action: 'reroll' },
  ]);
  expect(image.headers.get('content-type')).toContain('image/png');
  expect(
    Buffer.from(await image.arrayBuffer())
      .subarray(1, 4)
      .toString(),
  ).toBe('PNG');
});

test('upscale, variation with a Remix prompt and reroll on the finished grid each finish as the simulator makes them', async () => {
  const { clock, adapter } = await setUp();
  const grid = await submit(adapter);
  clock.now += 20;
  await adapter.getJob(grid.id);

  const upscale = await adapter.act?.({ gridId: grid.id, action: 'upscale', index: 2 });
  const variation = await adapter.act?.({
    gridId: grid.id,
    action: 'variation',
    index: 4,
    prompt: 'a wolf',
    remix: true,
  });
  const reroll = await adapter.act?.({ gridId: grid.id, action: 'reroll' });
  clock.now += 20;
  const [upscaled, varied, rerolled] = await Promise.all(
    [upscale, variation, reroll].map((child) => adapter.getJob(child?.id ?? '')),
  );

  expect(upscaled).toMatchObject({
    status: 'complete',
    imageUrl: expect.stringContaining(`/v1/images/${upscale?.id}.png`),
  });
  // One image: the simulator's Legnext face names no grid actions on it.
  expect(upscaled?.offers).toBeUndefined();
  expect(varied).toMatchObject({ status: 'complete', offers: expect.arrayContaining([{ action: 'reroll' }]) });
  expect(rerolled).toMatchObject({
    status: 'complete',
    offers: expect.arrayContaining([{ action: 'upscale', index: 1 }]),
  });
});

test('an action on a grid that has not finished is a rejected request', async () => {
  const { adapter } = await setUp();
  const grid = await submit(adapter);

  await expect(adapter.act?.({ gridId: grid.id, action: 'upscale', index: 1 })).rejects.toMatchObject({
    kind: 'rejected',
    upstreamStatus: 400,
  });
});

test('the simulator refusals reach the adapter as sensitive content, unknown job, wrong key and rate limit', async () => {
  const { adapter, wrongKey } = await setUp({ rateLimit: 4 });

  const sensitive = await submit(adapter, 'an nsfw scene').catch((error: unknown) => error);
  const unknown = await adapter.getJob('no-such-job').catch((error: unknown) => error);
  const badKey = await wrongKey.getJob('x').catch((error: unknown) => error);
  await adapter.getJob('no-such-job').catch(() => undefined);
  await adapter.getJob('no-such-job').catch(() => undefined);
  const limited = await adapter.getJob('no-such-job').catch((error: unknown) => error);

  expect(sensitive).toMatchObject({ kind: 'refused', message: expect.stringContaining('Sensitive content detected') });
  expect(unknown).toMatchObject({ kind: 'not_found' });
  expect(badKey).toMatchObject({ kind: 'auth' });
  expect(limited).toMatchObject({ kind: 'rate_limited', retryAfterS: expect.any(Number) });
});
