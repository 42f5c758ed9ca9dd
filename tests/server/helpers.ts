import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createApp } from '../../server/src/app';
import { createLogger } from '../../server/src/logger';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createImageFetcher } from '../../server/src/upstream/image-fetcher';
import { createV7Adapter } from '../../server/src/upstream/v7-adapter';
import { listenStrictly, server } from '../mocks/node';
import { UPSTREAM_BASE, UPSTREAM_KEY, upstreamHandlers } from '../mocks/upstream';

export function mockUpstreamForEachTest(): void {
  beforeAll(() => listenStrictly());
  afterEach(() => {
    server.resetHandlers(...upstreamHandlers);
    server.events.removeAllListeners();
  });
  afterAll(() => server.close());
  server.resetHandlers(...upstreamHandlers);
}

export function buildTestApp(options: { timeoutMs?: number; imageMaxBytes?: number; clientDist?: string } = {}) {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const http = new UpstreamHttpClient({ timeoutMs: options.timeoutMs ?? 2_000 });
  const app = createApp({
    upstream: createV7Adapter({ baseUrl: UPSTREAM_BASE, apiKey: UPSTREAM_KEY, http }),
    images: createImageFetcher(http, options.imageMaxBytes ?? 1024 * 1024),
    logger,
    ...(options.clientDist ? { clientDist: options.clientDist } : {}),
  });
  return { app, logs };
}
