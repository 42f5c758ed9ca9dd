// The production path end to end without mocks: the v7 adapter talks to the simulator over
// real loopback HTTP, with the simulator's clock under the test's control.
import { afterEach, expect, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { type RunningSimulator, startSimulator } from '../../server/src/simulator/server';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createImageFetcher } from '../../server/src/upstream/image-fetcher';
import { createV7Adapter } from '../../server/src/upstream/v7-adapter';

let running: RunningSimulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function setUp(overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {}) {
  const clock = { now: 0 };
  running = await startSimulator(
    simulatorConfig({ apiKey: 'loop-key', queueMs: 1_000, renderMs: 4_000, failureRate: 0, ...overrides }),
    { deps: { now: () => clock.now, random: () => 0.5 } },
  );
  const http = new UpstreamHttpClient({ timeoutMs: 2_000 });
  const adapter = createV7Adapter({ baseUrl: running.baseUrl, apiKey: 'loop-key', http, name: 'simulator' });
  return { clock, adapter, images: createImageFetcher(http, 5 * 1024 * 1024) };
}

test('a job submitted through the v7 adapter completes and its image downloads', async () => {
  const { clock, adapter, images } = await setUp();

  const submitted = await adapter.submit({ prompt: 'a fox at dawn', aspectRatio: '4:3', quality: 'standard' });
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
});

test('the adapter maps the simulator refusal, rate limit and wrong key to upstream errors', async () => {
  const { adapter } = await setUp({ rateLimit: 2 });
  const wrongKey = createV7Adapter({
    baseUrl: running?.baseUrl ?? '',
    apiKey: 'nope',
    http: new UpstreamHttpClient({ timeoutMs: 2_000 }),
  });

  await expect(adapter.submit({ prompt: 'nsfw thing', aspectRatio: '1:1', quality: 'standard' })).rejects.toMatchObject(
    {
      kind: 'refused',
    },
  );
  await adapter.getJob('unknown').catch(() => undefined);
  await expect(adapter.getJob('unknown')).rejects.toMatchObject({ kind: 'rate_limited', retryAfterS: 60 });
  await expect(wrongKey.getJob('x')).rejects.toMatchObject({ kind: 'auth' });
});
