import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { apiframeRoutes } from '../../server/src/simulator/apiframe-routes';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';
import { imageRoutes } from '../../server/src/simulator/image-routes';
import type { UpstreamAdapter, UpstreamJob } from '../../server/src/upstream/adapter';
import { createApiframeAdapter } from '../../server/src/upstream/apiframe-adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';

const KEY = 'k';
const clock = { now: 1_700_000_000_000 };
const engine = new SimulatorEngine(simulatorConfig({ apiKey: KEY, timeFactor: 0.001, failureRate: 0 }), {
  now: () => clock.now,
});
let base = '';
let listening: ReturnType<express.Express['listen']>;

beforeAll(async () => {
  const app = express();
  app.use('/apiframe', apiframeRoutes(engine));
  app.use('/v1', imageRoutes(engine));
  listening = await new Promise<ReturnType<express.Express['listen']>>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => listening.close(resolve));
});

const adapter = (secret = KEY) =>
  createApiframeAdapter({
    baseUrl: `${base}/apiframe`,
    secret,
    http: new UpstreamHttpClient({ timeoutMs: 2_000 }),
  });

/** Status checks as the scheduler makes them, the engine's clock moving a few ms between them. */
async function untilDone(upstream: UpstreamAdapter, id: string): Promise<UpstreamJob[]> {
  const seen: UpstreamJob[] = [];
  for (let check = 0; check < 100; check += 1) {
    const job = await upstream.getJob(id);
    seen.push(job);
    if (job.status !== 'pending' && job.status !== 'processing') return seen;
    clock.now += 2;
  }
  throw new Error(`job ${id} never finished`);
}

test('the adapter runs an imagine on the simulator to a grid that the simulator serves, with rising progress', async () => {
  const upstream = adapter();

  const submitted = await upstream.submit({
    text: 'a fox',
    params: { aspect_ratio: '16:9' },
    imageUrls: [],
    images: [],
  });
  const seen = await untilDone(upstream, submitted.id);
  const done = seen.at(-1);
  const grid = await fetch(String(done?.imageUrl));

  expect(submitted).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'pending' });
  expect(seen.map((job) => job.status)).toContain('processing');
  const progress = seen.map((job) => job.progress ?? 0);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  expect(done).toMatchObject({
    status: 'complete',
    progress: 100,
    imageUrl: `${base}/v1/images/${submitted.id}.png`,
    offers: expect.arrayContaining([
      { action: 'upscale', index: 3 },
      { action: 'variation', index: 1 },
    ]),
  });
  expect(grid.status).toBe(200);
  expect(grid.headers.get('content-type')).toBe('image/png');
});

test('the adapter acts on the simulator: an upscale of the grid, then a pan and a zoom out of that image', async () => {
  const upstream = adapter();
  const { id: gridId } = await upstream.submit({ text: 'a lighthouse', params: {}, imageUrls: [], images: [] });
  await untilDone(upstream, gridId);

  const upscale = await upstream.act({ gridId, action: 'upscale', index: 2 });
  const single = (await untilDone(upstream, upscale.id)).at(-1);
  const pan = await upstream.act({ gridId: upscale.id, action: 'pan_left' });
  const zoom = await upstream.act({ gridId: upscale.id, action: 'zoom_out_2x' });
  const panned = (await untilDone(upstream, pan.id)).at(-1);
  const zoomed = (await untilDone(upstream, zoom.id)).at(-1);

  expect(single).toMatchObject({
    status: 'complete',
    imageUrl: `${base}/v1/images/${upscale.id}.png`,
    offers: expect.arrayContaining([{ action: 'pan_left' }, { action: 'zoom_out_2x' }, { action: 'vary_region' }]),
  });
  expect(single?.offers?.some((offer) => offer.action === 'upscale')).toBe(false);
  expect(panned).toMatchObject({
    status: 'complete',
    offers: expect.arrayContaining([{ action: 'upscale', index: 1 }]),
  });
  expect(zoomed).toMatchObject({ status: 'complete', imageUrl: `${base}/v1/images/${zoom.id}.png` });
  expect(engine.get(pan.id)).toMatchObject({ kind: 'PAN', parentId: upscale.id });
});

test('the simulator refuses an action its parent does not take, and the adapter reads it as a rejected request', async () => {
  const upstream = adapter();
  const { id: gridId } = await upstream.submit({ text: 'a bridge', params: {}, imageUrls: [], images: [] });
  await untilDone(upstream, gridId);

  const attempt = upstream.act({ gridId, action: 'pan_up' });

  await expect(attempt).rejects.toMatchObject({ kind: 'rejected', upstreamStatus: 400 });
});

test('a blocked word is accepted, then fails as moderated, as Apiframe reports it', async () => {
  const upstream = adapter();

  const submitted = await upstream.submit({ text: 'a gore scene', params: {}, imageUrls: [], images: [] });
  const read = await upstream.getJob(submitted.id);

  expect(submitted.status).toBe('pending');
  expect(read).toMatchObject({ status: 'failed', error: expect.stringMatching(/^The prompt was moderated: /) });
});

test('a wrong key is refused by the simulator and read by the adapter as the credentials being rejected', async () => {
  const attempt = adapter('wrong').submit({ text: 'a fox', params: {}, imageUrls: [], images: [] });

  await expect(attempt).rejects.toMatchObject({ kind: 'auth', upstreamStatus: 401 });
});

test('the simulator answers an unknown job with 404, which the adapter reads as not found', async () => {
  await expect(adapter().getJob('0b7e6a8e-0000-4000-8000-000000000000')).rejects.toMatchObject({ kind: 'not_found' });
});

test('a replayed Idempotency-Key gets the same job back from the simulator, and a changed body a conflict', async () => {
  const send = (prompt: string) =>
    fetch(`${base}/apiframe/v2/images/generate`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'idempotency-key': 'same-key-1' },
      body: JSON.stringify({ model: 'midjourney', prompt }),
    });

  const first = await send('a heron');
  const again = await send('a heron');
  const changed = await send('a crane');

  expect(first.status).toBe(202);
  expect((await again.json()).jobId).toBe((await first.json()).jobId);
  expect(changed.status).toBe(409);
});
