// The one msw server of the in-process tests, server and client alike: the happy paths of the
// upstream (upstream.ts) and of our own API (api.ts); a test adds its own with server.use(...).
// Any request no handler answers fails the test, except loopback: the servers a test starts itself.
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { apiHandlers } from './api';
import { upstreamHandlers } from './upstream';

export const server = setupServer(...upstreamHandlers, ...apiHandlers);

export function listenStrictly(): void {
  server.listen({
    onUnhandledRequest(request, print) {
      // supertest, the simulator and webhook receivers listen on 127.0.0.1; our API's mock is localhost.
      if (new URL(request.url).hostname === '127.0.0.1') return;
      print.error();
    },
  });
}

/** Listens for the calling test file; after each test, only the happy paths and no listeners remain. */
export function mockHttpForEachTest(): void {
  beforeAll(() => listenStrictly());
  afterEach(() => {
    server.resetHandlers();
    server.events.removeAllListeners();
  });
  afterAll(() => server.close());
}
