import { jobSchema } from '@shared/schemas/job';
import { HttpResponse, http } from 'msw';
import request from 'supertest';
import { expect, test } from 'vitest';
import { sign } from '../../server/src/webhooks/standard-webhooks';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { waitFor } from '../support/wait';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const SECRET = `whsec_${Buffer.from('webhook-secret-for-the-tests-01').toString('base64')}`;
let delivery = 0;

function deliver(
  app: Parameters<typeof request>[0],
  payload: unknown,
  options: { id?: string; secret?: string; at?: number } = {},
) {
  const body = JSON.stringify(payload);
  const id = options.id ?? `msg_${++delivery}`;
  const at = options.at ?? Math.floor(Date.now() / 1000);
  return request(app)
    .post('/hooks/v7')
    .set('content-type', 'application/json')
    .set('webhook-id', id)
    .set('webhook-timestamp', String(at))
    .set('webhook-signature', sign(options.secret ?? SECRET, id, at, body))
    .send(body);
}

async function setUp() {
  const context = await buildTestApp({ webhookSecret: SECRET });
  let n = 0;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ job_id: `up_${++n}`, status: 'pending' })),
  );
  const id = await submitJob(context.agent);
  const view = async () => jobSchema.parse((await context.agent.get(`/api/jobs/${id}`)).body);
  return { ...context, id, view };
}

const complete = { job_id: 'up_1', status: 'complete', image_url: 'https://cdn.mj.test/images/up_1.png' };

test('a signed v7 webhook finishes the job and its image is kept, with no status call', async () => {
  const { app, view } = await setUp();
  const statusCalls: string[] = [];
  server.events.on('request:start', ({ request: outbound }) => {
    if (outbound.url.startsWith(`${UPSTREAM_BASE}/jobs/`)) statusCalls.push(outbound.url);
  });

  const response = await deliver(app, complete);

  expect(response.status).toBe(204);
  expect(await view()).toMatchObject({ status: 'complete', image_url: expect.stringMatching(/^\/api\/images\//) });
  expect(statusCalls).toEqual([]);
});

test('a webhook with a tampered body, a wrong secret or a stale timestamp changes nothing', async () => {
  const { app, view } = await setUp();
  const at = Math.floor(Date.now() / 1000);
  const body = JSON.stringify(complete);

  const tampered = await request(app)
    .post('/hooks/v7')
    .set('content-type', 'application/json')
    .set('webhook-id', 'msg_t')
    .set('webhook-timestamp', String(at))
    .set('webhook-signature', sign(SECRET, 'msg_t', at, body))
    .send(body.replace('complete', 'failed'));
  const wrongSecret = await deliver(app, complete, {
    secret: `whsec_${Buffer.from('not-the-right-secret-at-all-000').toString('base64')}`,
  });
  const stale = await deliver(app, complete, { at: at - 6 * 60 });
  const unsigned = await request(app).post('/hooks/v7').set('content-type', 'application/json').send(body);

  expect([tampered.status, wrongSecret.status, stale.status, unsigned.status]).toEqual([401, 401, 401, 401]);
  expect(stale.body.error.message).toBe('Webhook refused: stale timestamp');
  expect((await view()).status).toBe('pending');
});

test('a replayed delivery id is acknowledged and ignored', async () => {
  const { app, view } = await setUp();
  await deliver(app, { job_id: 'up_1', status: 'processing', progress: 40 }, { id: 'msg_same' });

  const replay = await deliver(app, complete, { id: 'msg_same' });

  expect(replay.status).toBe(204);
  expect(await view()).toMatchObject({ status: 'processing', progress: 40 });
});

test('out-of-order and duplicated notifications never move a job backwards or duplicate its result', async () => {
  const { app, view, images } = await setUp();
  let downloads = 0;
  server.events.on('request:start', ({ request: outbound }) => {
    if (outbound.url.startsWith('https://cdn.mj.test/')) downloads += 1;
  });

  await deliver(app, { job_id: 'up_1', status: 'processing', progress: 70 });
  await deliver(app, { job_id: 'up_1', status: 'processing', progress: 30 });
  await deliver(app, { job_id: 'up_1', status: 'pending' });
  const midway = await view();
  await Promise.all([deliver(app, complete), deliver(app, complete)]);
  await deliver(app, { job_id: 'up_1', status: 'processing', progress: 90 });
  await deliver(app, { job_id: 'up_1', status: 'failed', error: 'late failure' });
  const final = await view();

  expect(midway).toMatchObject({ status: 'processing', progress: 70 });
  expect(final).toMatchObject({ status: 'complete', progress: 100 });
  expect(final.error).toBeUndefined();
  expect(downloads).toBe(1);
  expect(images.dir).toBeTruthy();
});

test('a webhook for a job this server does not know is acknowledged and ignored', async () => {
  const { app } = await setUp();

  const response = await deliver(app, { ...complete, job_id: 'someone_else' });

  expect(response.status).toBe(202);
});

test('without a webhook secret the v7 hook does not exist', async () => {
  const { app } = await buildTestApp();

  const response = await deliver(app, complete);

  expect(response.status).toBe(404);
});

test('the relay hook with the right token makes the server fetch the task; a wrong token is a 404', async () => {
  const relay = 'https://relay.test/mj';
  const context = await buildTestApp({
    relay: { baseUrl: relay, secret: 'relay-secret-9c2d', publicUrl: 'https://studio.example' },
  });
  let fetched = 0;
  server.use(
    http.post(`${relay}/submit/imagine`, () => HttpResponse.json({ code: 1, result: 'task_1' })),
    http.get(`${relay}/task/task_1/fetch`, () => {
      fetched += 1;
      return HttpResponse.json({ id: 'task_1', status: 'IN_PROGRESS', progress: '55%', imageUrl: '' });
    }),
  );
  const id = await submitJob(context.agent);
  const view = async () => jobSchema.parse((await context.agent.get(`/api/jobs/${id}`)).body);

  const wrong = await request(context.app)
    .post('/hooks/mj-proxy/not-the-token')
    .send({ id: 'task_1', status: 'SUCCESS' });
  const right = await request(context.app)
    .post(`/hooks/mj-proxy/${context.relayToken}`)
    .send({ id: 'task_1', status: 'SUCCESS' });
  await waitFor(async () => (await view()).progress === 55, { message: "the hook to bring the task's progress in" });
  context.scheduler.stop();

  expect(wrong.status).toBe(404);
  expect(right.status).toBe(204);
  expect(fetched).toBe(1);
  // The body claimed SUCCESS; the server believed only what the upstream said when asked.
  expect(await view()).toMatchObject({ status: 'processing', progress: 55 });
});

test('with webhooks a browser is told to ask again within 2 s, since news may come at any moment', async () => {
  const { view } = await setUp();
  const polled = await buildTestApp();
  const withoutWebhooks = await submitJob(polled.agent);

  const pushed = await view();
  const planned = jobSchema.parse((await polled.agent.get(`/api/jobs/${withoutWebhooks}`)).body);

  expect(pushed.status).toBe('pending');
  expect(pushed.poll_after_ms).toBeGreaterThanOrEqual(1_000);
  expect(pushed.poll_after_ms).toBeLessThanOrEqual(2_000);
  // Without webhooks the hint follows the server's own next look (far off for a 2-min job).
  expect(planned.poll_after_ms).toBeGreaterThan(2_000);
});
