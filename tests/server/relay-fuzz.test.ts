// Property-based fuzzing of the relay protocol face: whatever a client sends to any /mj
// endpoint (bodies, ids, headers), the answer is never a 5xx, and a submit's answer is always
// the protocol's shape: HTTP 200 with a numeric code (a body that is not JSON included).
import fc from 'fast-check';
import { HttpResponse, http } from 'msw';
import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { server } from '../mocks/node';
import { CDN_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const RELAY = 'https://relay.test/mj';
const RUNS = 300;
let setup: Awaited<ReturnType<typeof buildTestApp>>;

beforeAll(async () => {
  setup = await buildTestApp({
    relay: { baseUrl: RELAY, secret: 'fuzz-secret' },
    budgetPerMinute: 1_000_000,
    queueMax: 100_000,
    budgetBurst: 1_000,
  });
});
afterAll(() => setup.scheduler.stop());

function relayUpstream() {
  let next = 0;
  const done = (id: string) => ({ id, status: 'SUCCESS', progress: '100%', imageUrl: `${CDN_BASE}/images/${id}.png` });
  const accept = () => HttpResponse.json({ code: 1, description: 'ok', result: `fz-${++next}` });
  server.use(
    http.post(`${RELAY}/submit/:route`, accept),
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) => HttpResponse.json(done(String(params.id)))),
  );
}

const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('', ' ', 'a fox', 'a fox --ar 3:2', 'x --zoom 9', '1700000000000000 U2', 'MJ::JOB::upsample::1::1'),
);
const id = fc.oneof(
  fc.constantFrom('1700000000000000', '1700000000000001', '8000000000000000', '0', '-1', '1e5', '9007199254740993'),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
);
const anything = fc.oneof(text, id, fc.jsonValue(), fc.array(text, { maxLength: 6 }));
const bodies = fc.oneof(
  fc.record(
    {
      prompt: anything,
      base64Array: fc.oneof(fc.array(fc.base64String({ maxLength: 60 }), { maxLength: 6 }), anything),
      notifyHook: anything,
      state: anything,
      taskId: id,
      action: fc.oneof(fc.constantFrom('UPSCALE', 'VARIATION', 'REROLL', 'upscale'), anything),
      index: fc.oneof(fc.integer({ min: -2, max: 6 }), anything),
      content: anything,
      customId: anything,
      maskBase64: anything,
      base64: anything,
      dimensions: anything,
      ids: fc.oneof(fc.array(id, { maxLength: 5 }), anything),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
const SUBMITS = ['imagine', 'change', 'simple-change', 'action', 'modal', 'describe', 'blend', 'shorten'];

test(`${RUNS} generated bodies to every /mj submit endpoint: HTTP 200 with a numeric code, never a 5xx`, async () => {
  relayUpstream();

  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...SUBMITS),
      fc.constantFrom('/mj', '/mj-fast/mj', '/mj-turbo/mj'),
      bodies,
      async (route, prefix, body) => {
        const answer = await request(setup.app)
          .post(`${prefix}/submit/${route}`)
          .set('content-type', 'application/json')
          .send(JSON.stringify(body));

        expect(answer.status).toBe(200);
        expect(typeof answer.body.code).toBe('number');
      },
    ),
    { numRuns: RUNS },
  );
}, 120_000);

test(`${RUNS} generated task ids and lists: never a 5xx, and never another owner's task`, async () => {
  relayUpstream();
  const owner = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'an owned fox' });
  await setup.jobs.refresh(String(setup.jobs.jobIdOfTaskNumber(Number(owner.body.result))));
  // A real second owner: a studio API key (this test server has no access token).
  const created = await request(setup.app).post('/api/keys').send({ name: 'another client' });
  const stranger = { 'mj-api-secret': String(created.body.secret) };

  await fc.assert(
    fc.asyncProperty(id, bodies, async (taskId, body) => {
      const fetched = await request(setup.app).get(`/mj/task/${encodeURIComponent(String(taskId))}/fetch`);
      const seed = await request(setup.app).get(`/mj/task/${encodeURIComponent(String(taskId))}/image-seed`);
      const listed = await request(setup.app)
        .post('/mj/task/list-by-condition')
        .set('content-type', 'application/json')
        .send(JSON.stringify(body));
      const foreign = await request(setup.app)
        .post('/mj/task/list-by-condition')
        .set(stranger)
        .send({ ids: [owner.body.result, taskId] });
      const foreignFetch = await request(setup.app).get(`/mj/task/${owner.body.result}/fetch`).set(stranger);

      for (const answer of [fetched, seed, listed, foreign, foreignFetch]) expect(answer.status).toBeLessThan(500);
      expect(Array.isArray(listed.body)).toBe(true);
      expect(foreign.body).toEqual([]);
      expect(foreignFetch.text).toBe('');
    }),
    { numRuns: RUNS },
  );
}, 120_000);
