import { HttpResponse, http } from 'msw';
import { PNG } from 'pngjs';
import request from 'supertest';
import { expect, test } from 'vitest';
import { errorBodySchema } from '../../shared/schemas/error';
import { jobResponseSchema, submitJobResponseSchema } from '../../shared/schemas/job';
import { server } from '../mocks/node';
import { UPSTREAM_BASE, UPSTREAM_KEY } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

test('POST /api/imagine answers 202 with the job id and sends the upstream the v7 body with the key', async () => {
  const { app } = buildTestApp();
  let seen: { auth: string | null; body: unknown } | undefined;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: upstreamRequest }) => {
      seen = { auth: upstreamRequest.headers.get('authorization'), body: await upstreamRequest.json() };
      return HttpResponse.json({ job_id: 'abc_123', status: 'pending' });
    }),
  );

  const response = await request(app)
    .post('/api/imagine')
    .send({ prompt: '  a red fox\nin the snow  ', aspect_ratio: '16:9', quality: 'high' });

  expect(response.status).toBe(202);
  expect(submitJobResponseSchema.parse(response.body)).toEqual({ job_id: 'abc_123', status: 'pending' });
  expect(response.headers.location).toBe('/api/jobs/abc_123');
  expect(seen).toEqual({
    auth: `Bearer ${UPSTREAM_KEY}`,
    body: { prompt: 'a red fox in the snow', aspect_ratio: '16:9', model: 'v7', quality: 'high' },
  });
});

test('POST /api/imagine fills in the default aspect ratio and quality', async () => {
  const { app } = buildTestApp();
  let body: unknown;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: upstreamRequest }) => {
      body = await upstreamRequest.json();
      return HttpResponse.json({ job_id: 'abc', status: 'pending' });
    }),
  );

  await request(app).post('/api/imagine').send({ prompt: 'a fox' }).expect(202);

  expect(body).toEqual({ prompt: 'a fox', aspect_ratio: '1:1', model: 'v7', quality: 'standard' });
});

test.each([
  [{ status: 'pending' }, { status: 'pending' }],
  [{ status: 'queued' }, { status: 'pending' }],
  [
    { status: 'processing', progress: 12 },
    { status: 'processing', progress: 12 },
  ],
  [
    { status: 'in_progress', progress: '46%' },
    { status: 'processing', progress: 46 },
  ],
  [
    { status: 'IN_PROGRESS', progress: 140 },
    { status: 'processing', progress: 100 },
  ],
  [
    { status: 'completed', image_url: 'https://cdn.mj.test/images/j1.png' },
    { status: 'complete', progress: 100, image_url: '/api/jobs/j1/image' },
  ],
  [
    { status: 'failed', error: 'GPU on fire' },
    { status: 'failed', error: 'GPU on fire' },
  ],
  [
    { status: 'failed', error: { message: 'nested reason' } },
    { status: 'failed', error: 'nested reason' },
  ],
  [{ status: 'failed' }, { status: 'failed', error: 'The upstream reported a failure' }],
  [{ status: 'cancelled' }, { status: 'failed', error: 'The job was cancelled upstream' }],
  [{ status: 'canceled' }, { status: 'failed', error: 'The job was cancelled upstream' }],
])('GET /api/jobs/:id normalises the upstream answer %j', async (upstream, expected) => {
  const { app } = buildTestApp();
  server.use(http.get(`${UPSTREAM_BASE}/jobs/j1`, () => HttpResponse.json({ job_id: 'j1', ...upstream })));

  const response = await request(app).get('/api/jobs/j1');

  expect(response.status).toBe(200);
  expect(jobResponseSchema.parse(response.body)).toEqual({ job_id: 'j1', ...expected });
  expect(response.headers['cache-control']).toBe('no-store');
});

test('GET /api/jobs/:id/image serves the upstream image from our own origin', async () => {
  const { app } = buildTestApp();

  const response = await request(app).get('/api/jobs/job_9/image').buffer(true);

  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toBe('image/png');
  expect(response.headers['cache-control']).toContain('immutable');
  const decoded = PNG.sync.read(response.body as Buffer);
  expect([decoded.width, decoded.height]).toEqual([4, 3]);
});

test('GET /api/jobs/:id/image reuses the link learnt from the status poll instead of asking the upstream again', async () => {
  const { app } = buildTestApp();
  let statusCalls = 0;
  server.use(
    http.get(`${UPSTREAM_BASE}/jobs/:jobId`, ({ params }) => {
      statusCalls += 1;
      return HttpResponse.json({
        status: 'complete',
        image_url: `https://cdn.mj.test/images/${String(params.jobId)}.png`,
      });
    }),
  );

  await request(app).get('/api/jobs/job_7').expect(200);
  await request(app).get('/api/jobs/job_7/image').expect(200);

  expect(statusCalls).toBe(1);
});

test('GET /api/jobs/:id/image answers 404 while the job has no image', async () => {
  const { app } = buildTestApp();
  server.use(http.get(`${UPSTREAM_BASE}/jobs/:jobId`, () => HttpResponse.json({ status: 'processing', progress: 5 })));

  const response = await request(app).get('/api/jobs/job_8/image');

  expect(response.status).toBe(404);
  expect(errorBodySchema.parse(response.body).error.code).toBe('not_found');
});

test('GET /api/jobs/:id/image refuses an upstream link that is not an image', async () => {
  const { app } = buildTestApp();
  server.use(http.get('https://cdn.mj.test/images/:name', () => HttpResponse.text('<html>blocked</html>')));

  const response = await request(app).get('/api/jobs/job_6/image');

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_bad_response');
});

test('GET /api/jobs/:id/image refuses an image larger than the configured bound', async () => {
  const { app } = buildTestApp({ imageMaxBytes: 2048 });
  server.use(
    http.get('https://cdn.mj.test/images/:name', () =>
      HttpResponse.arrayBuffer(new Uint8Array(5000).buffer, { headers: { 'content-type': 'image/png' } }),
    ),
  );

  const response = await request(app).get('/api/jobs/job_5/image');

  expect(response.status).toBe(502);
  expect(response.body.error.message).toMatch(/larger than 2048 bytes/);
});

test('GET /healthz answers ok and names the upstream', async () => {
  const { app } = buildTestApp();

  const response = await request(app).get('/healthz');

  expect(response.status).toBe(200);
  expect(response.body).toEqual({ status: 'ok', upstream: 'v7' });
  expect(response.headers['x-powered-by']).toBeUndefined();
});
