// Property-based fuzzing with fast-check over the submit body and job ids: valid input is
// always accepted, invalid input always a 4xx, never a 5xx, and the upstream never sees
// anything but our own well-formed calls.
import type { AddressInfo } from 'node:net';
import { imagineRequestSchema } from '@shared/schemas/imagine';
import { jobIdSchema } from '@shared/schemas/job';
import fc from 'fast-check';
import { HttpResponse, http } from 'msw';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const RUNS = 5_000;
let base = '';
let close: () => void = () => undefined;
const upstreamPaths: string[] = [];

beforeAll(async () => {
  const { app } = await buildTestApp({ budgetPerMinute: 1_000_000, queueMax: 100_000 });
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listening.once('listening', resolve));
  base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  close = () => listening.close();
});
afterAll(() => close());

function watchUpstream() {
  let next = 0;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ job_id: `up_${++next}`, status: 'pending' })),
  );
  server.events.on('request:start', ({ request }) => {
    const url = new URL(request.url);
    if (url.hostname !== '127.0.0.1') upstreamPaths.push(`${request.method} ${url.pathname}`);
  });
}

const aspect = fc.oneof(fc.constantFrom('1:1', '16:9', '4:3', '9:16', '3:2', '2:3', '21:9'), fc.string(), fc.integer());
const quality = fc.oneof(fc.constantFrom('standard', 'high'), fc.string(), fc.boolean());
const prompt = fc.oneof(
  fc.string({ minLength: 1, maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ minLength: 1400, maxLength: 1600 }),
  fc.constantFrom('', '   ', '\n\t', 'a\u0000b', 'x\u202Ey', 'ok prompt', 'gore'),
  fc.integer(),
  fc.constant(null),
);
const body = fc.oneof(
  fc.record({ prompt, aspect_ratio: aspect, quality, extra: fc.jsonValue() }, { requiredKeys: [] }),
  fc.record({ prompt, aspect_ratio: aspect, quality }, { requiredKeys: ['prompt'] }),
  fc.jsonValue(),
);

test(`POST /api/imagine: ${RUNS} generated bodies are accepted exactly when valid, never a 5xx`, async () => {
  watchUpstream();

  await fc.assert(
    fc.asyncProperty(body, async (candidate) => {
      const text = JSON.stringify(candidate) ?? 'null';
      const response = await fetch(`${base}/api/imagine`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      await response.arrayBuffer();
      const valid = imagineRequestSchema.safeParse(candidate).success;
      const tooLarge = Buffer.byteLength(text) > 16 * 1024;
      const blocked = valid && /\bgore\b/i.test(String((candidate as { prompt?: unknown }).prompt));
      expect(response.status).toBeLessThan(500);
      if (tooLarge) expect(response.status).toBe(413);
      else if (valid && !blocked) expect(response.status).toBe(202);
      else if (!valid) expect(response.status).toBe(400);
    }),
    { numRuns: RUNS },
  );

  expect(new Set(upstreamPaths)).toEqual(new Set(['POST /v1/imagine']));
}, 120_000);

const traversal = fc.constantFrom(
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '%252e%252e',
  '..%2f',
  '..%2F..%2Fjobs.sqlite',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%5c..%5c',
  '%c0%ae%c0%ae',
  '%u002e%u002e',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '..;',
  'a?b=1',
  'a#b',
  '~',
);
const idSegment = fc
  .oneof(
    fc.string({ maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'grapheme', maxLength: 60 }).map(encodeURIComponent),
    fc.string({ unit: 'binary', maxLength: 60 }).map(encodeURIComponent),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/),
    fc.string({ minLength: 129, maxLength: 3000, unit: fc.constantFrom('a', 'Z', '9', '-', '_') }),
    fc
      .tuple(fc.array(traversal, { minLength: 1, maxLength: 4 }), fc.string({ maxLength: 8 }).map(encodeURIComponent))
      .map(([parts, tail]) => parts.join('') + tail),
    fc.oneof(fc.integer(), fc.double(), fc.boolean()).map(String),
    // An empty id is another route (the list), not an id.
  )
  .filter((segment) => segment.length > 0);
const ROUTES = [
  (id: string) => ['GET', `/api/jobs/${id}`] as const,
  (id: string) => ['GET', `/api/images/${id}`] as const,
  (id: string) => ['GET', `/api/images/${id}.png`] as const,
  (id: string) => ['POST', `/api/jobs/${id}/cancel`] as const,
  (id: string) => ['DELETE', `/api/jobs/${id}`] as const,
  (id: string) => ['GET', `/api/jobs/${id}/preview`] as const,
  (id: string) => ['POST', `/api/jobs/${id}/actions`, { action: 'upscale', index: 1 }] as const,
];
const route = fc.constantFrom(...ROUTES);
// Dot segments, which URL normalisation rewrites before any id is sent, always run.
const dotExamples: [string, (typeof ROUTES)[number]][] = ['.', '..', '%2e', '%2E%2e'].flatMap((segment) =>
  ROUTES.map((build): [string, (typeof ROUTES)[number]] => [segment, build]),
);

test(`job ids: ${RUNS} generated ids in every route answer 400 or 404, never a 5xx, and reach no upstream`, async () => {
  watchUpstream();
  upstreamPaths.length = 0;

  await fc.assert(
    fc.asyncProperty(idSegment, route, async (segment, build) => {
      const [method, path, body] = build(segment);
      const response = await fetch(
        `${base}${path}`,
        body ? { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : { method },
      );
      await response.arrayBuffer();
      // URL normalisation turns "." and "%2e" segments into the list route: no id is sent.
      const sent = new URL(`${base}${path}`).pathname;
      if (sent === '/api/jobs/' || sent === '/api/jobs') {
        expect(response.status).toBeLessThan(500);
        return;
      }
      expect([400, 404]).toContain(response.status);
      // An id the strict pattern accepts is merely unknown; anything else is refused outright.
      if (path.startsWith('/api/jobs/') && !/%|\.|\?|#/.test(segment)) {
        expect(response.status).toBe(jobIdSchema.safeParse(segment).success ? 404 : 400);
      }
    }),
    { numRuns: RUNS, examples: dotExamples },
  );

  expect(upstreamPaths).toEqual([]);
}, 120_000);
