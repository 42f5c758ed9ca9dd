// The msw server for Node-side tests. Unhandled outbound requests fail the test; only
// supertest's own loopback connection to the app under test is let through.
import { setupServer } from 'msw/node';

export const server = setupServer();

export function listenStrictly(): void {
  server.listen({
    onUnhandledRequest(request) {
      const { hostname } = new URL(request.url);
      if (hostname === '127.0.0.1' || hostname === 'localhost') return;
      throw new Error(`Unhandled outbound request in a test: ${request.method} ${request.url}`);
    },
  });
}
