// The production path end to end without mocks: the v7 adapter talks to the simulator over
// real loopback HTTP, with the simulator's clock under the test's control.
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
  },
);

test.each(Object.keys(PROTOCOLS) as (keyof typeof PROTOCOLS)[])(
  '%s: the adapter maps the simulator refusal, rate limit, unknown job and wrong key',
  async (protocol) => {
    const { adapter, wrongKey } = await setUp(protocol, { rateLimit: 3 });

    await expect(
      adapter.submit({ prompt: 'nsfw thing', aspectRatio: '1:1', quality: 'standard' }),
    ).rejects.toMatchObject({
      kind: 'refused',
    });
    await expect(adapter.getJob('unknown')).rejects.toMatchObject({ kind: 'not_found' });
    await adapter.getJob('unknown').catch(() => undefined);
    await expect(adapter.getJob('unknown')).rejects.toMatchObject({ kind: 'rate_limited', retryAfterS: 60 });
    await expect(wrongKey.getJob('x')).rejects.toMatchObject({ kind: 'auth' });
  },
);
