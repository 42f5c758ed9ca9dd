import { errorBodySchema } from '@shared/schemas/error';
import { budgetSchema, jobListSchema, jobSchema } from '@shared/schemas/job';
import { HttpResponse, http } from 'msw';
import { PNG } from 'pngjs';
import { expect, test } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE, UPSTREAM_KEY } from '../mocks/upstream';
import { waitFor } from '../support/wait';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const onStatus = (answer: Record<string, unknown>) =>
  server.use(http.get(`${UPSTREAM_BASE}/jobs/:jobId`, () => HttpResponse.json(answer)));

test('POST /api/imagine answers 202 with our own job and sends the upstream the v7 body with the key', async () => {
  const { agent } = await buildTestApp();
  let seen: { auth: string | null; body: unknown } | undefined;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: upstreamRequest }) => {
      seen = { auth: upstreamRequest.headers.get('authorization'), body: await upstreamRequest.json() };
      return HttpResponse.json({ job_id: 'upstream_abc', status: 'pending' });
    }),
  );

  const response = await agent
    .post('/api/imagine')
    .send({ prompt: '  a red fox\nin the snow  ', aspect_ratio: '16:9', quality: 'high' });

  expect(response.status).toBe(202);
  const job = jobSchema.parse(response.body);
  expect(job).toMatchObject({
    status: 'pending',
    prompt: 'a red fox in the snow',
    aspect_ratio: '16:9',
    quality: 'high',
  });
  expect(job.job_id).not.toBe('upstream_abc');
  expect(response.text).not.toContain('upstream_abc');
  expect(response.headers.location).toBe(`/api/jobs/${job.job_id}`);
  expect(seen).toEqual({
    auth: `Bearer ${UPSTREAM_KEY}`,
    body: { prompt: 'a red fox in the snow', aspect_ratio: '16:9', model: 'v7', quality: 'high' },
  });
});

test('POST /api/imagine fills in the default aspect ratio and quality', async () => {
  const { agent } = await buildTestApp();
  let body: unknown;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: upstreamRequest }) => {
      body = await upstreamRequest.json();
      return HttpResponse.json({ job_id: 'abc', status: 'pending' });
    }),
  );

  await agent.post('/api/imagine').send({ prompt: 'a fox' }).expect(202);

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
    { status: 'failed', error: 'GPU on fire' },
    { status: 'failed', error: 'GPU on fire' },
  ],
  [
    { status: 'failed', error: { message: 'nested reason' } },
    { status: 'failed', error: 'nested reason' },
  ],
  [{ status: 'failed' }, { status: 'failed', error: 'The upstream reported a failure' }],
  [{ status: 'cancelled' }, { status: 'cancelled', error: 'The job was cancelled upstream' }],
  [{ status: 'canceled' }, { status: 'cancelled', error: 'The job was cancelled upstream' }],
])('after the upstream answers %j, GET /api/jobs/:id shows it in our shape', async (upstream, expected) => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  onStatus(upstream);

  await jobs.refresh(id);
  const response = await agent.get(`/api/jobs/${id}`);

  expect(response.status).toBe(200);
  expect(jobSchema.parse(response.body)).toMatchObject({ job_id: id, ...expected });
  expect(response.headers['cache-control']).toBe('no-store');
});

test('a completed job has its image downloaded and served from our own URL', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent, 'A café at dusk!');

  await jobs.refresh(id);
  const job = jobSchema.parse((await agent.get(`/api/jobs/${id}`)).body);
  const image = await agent.get(job.image_url ?? '').buffer(true);

  expect(job).toMatchObject({ status: 'complete', progress: 100, download_name: 'a-cafe-at-dusk.png' });
  expect(job.image_url).toBe(`/api/images/${id}.png`);
  expect(job.finished_at).toBeDefined();
  expect(image.status).toBe(200);
  expect(image.headers['content-type']).toBe('image/png');
  expect(image.headers['cache-control']).toBe('private, max-age=31536000, immutable');
  expect(image.headers.etag).toBeTruthy();
  const decoded = PNG.sync.read(image.body as Buffer);
  expect([decoded.width, decoded.height]).toEqual([4, 3]);
});

test('a stored image answers 304 to a matching If-None-Match', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  await jobs.refresh(id);
  const first = await agent.get(`/api/images/${id}.png`);

  const second = await agent.get(`/api/images/${id}.png`).set('If-None-Match', String(first.headers.etag));

  expect(second.status).toBe(304);
});

test('the image is served as a download under a name made from the prompt when asked', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent, 'Sunset over Lake Bled');
  await jobs.refresh(id);

  const response = await agent.get(`/api/images/${id}.png?download=1`);

  expect(response.headers['content-disposition']).toBe('attachment; filename=sunset-over-lake-bled.png');
});

test('the image keeps being served after the upstream link dies', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  await jobs.refresh(id);
  server.use(http.get('https://cdn.mj.test/images/:name', () => new HttpResponse(null, { status: 410 })));

  const response = await agent.get(`/api/images/${id}.png`);

  expect(response.status).toBe(200);
});

test.each([
  [
    'a page instead of an image',
    () => HttpResponse.text('<html>blocked</html>', { headers: { 'content-type': 'image/png' } }),
  ],
  [
    'an image larger than the bound',
    () => HttpResponse.arrayBuffer(new Uint8Array(5000).buffer, { headers: { 'content-type': 'image/png' } }),
  ],
  ['an upstream error', () => HttpResponse.json({ error: 'gone' }, { status: 503 })],
  ['a network failure', () => HttpResponse.error()],
])('an image download that gets %s ends the job as failed with a reason', async (_label, answer) => {
  const { agent, jobs } = await buildTestApp({ imageMaxBytes: 2048 });
  const id = await submitJob(agent);
  server.use(http.get('https://cdn.mj.test/images/:name', answer));

  await jobs.refresh(id);
  const job = jobSchema.parse((await agent.get(`/api/jobs/${id}`)).body);

  expect(job.status).toBe('failed');
  expect(job.error).toMatch(/^The image could not be downloaded: .+/);
  expect(job.image_url).toBeUndefined();
});

test('GET /api/jobs lists the owner’s jobs newest first, in cursor pages', async () => {
  const { agent } = await buildTestApp();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await submitJob(agent, `prompt ${i}`));

  const first = jobListSchema.parse((await agent.get('/api/jobs?limit=2')).body);
  const second = jobListSchema.parse((await agent.get(`/api/jobs?limit=2&cursor=${first.next_cursor}`)).body);
  const third = jobListSchema.parse((await agent.get(`/api/jobs?limit=2&cursor=${second.next_cursor}`)).body);

  const listed = [...first.jobs, ...second.jobs, ...third.jobs].map((job) => job.job_id);
  expect(listed).toEqual([...ids].reverse());
  expect(third.next_cursor).toBeNull();
});

test.each([
  ['a made-up cursor', 'cursor=bm9wZQ'],
  ['a cursor with a slash', 'cursor=a/b'],
  ['a limit of 0', 'limit=0'],
  ['a limit over 100', 'limit=101'],
  ['an unknown parameter', 'sort=asc'],
])('GET /api/jobs answers 400 for %s', async (_label, query) => {
  const { agent } = await buildTestApp();

  const response = await agent.get(`/api/jobs?${query}`);

  expect(response.status).toBe(400);
  expect(errorBodySchema.parse(response.body).error.code).toBe('invalid_request');
});

test('cancelling a running job ends it at once and asks the upstream to cancel', async () => {
  const { agent } = await buildTestApp();
  const id = await submitJob(agent);
  let upstreamCancelled = false;
  server.use(
    http.post(`${UPSTREAM_BASE}/jobs/:jobId/cancel`, () => {
      upstreamCancelled = true;
      return HttpResponse.json({ status: 'cancelled' });
    }),
  );

  const response = await agent.post(`/api/jobs/${id}/cancel`);
  await waitFor(() => upstreamCancelled, { message: 'the upstream to be asked to cancel' });

  expect(response.status).toBe(200);
  expect(jobSchema.parse(response.body)).toMatchObject({ status: 'cancelled', error: 'Cancelled' });
});

test('a cancelled job stays cancelled whatever the upstream says later', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  server.use(http.post(`${UPSTREAM_BASE}/jobs/:jobId/cancel`, () => HttpResponse.json({}, { status: 404 })));
  await agent.post(`/api/jobs/${id}/cancel`).expect(200);

  await jobs.refresh(id);

  expect((await agent.get(`/api/jobs/${id}`)).body.status).toBe('cancelled');
});

test('cancelling a finished job answers 409', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  await jobs.refresh(id);

  const response = await agent.post(`/api/jobs/${id}/cancel`);

  expect(response.status).toBe(409);
  expect(errorBodySchema.parse(response.body).error.code).toBe('conflict');
});

test('deleting a job removes it from the list and removes its image', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  await jobs.refresh(id);

  const deleted = await agent.delete(`/api/jobs/${id}`);

  expect(deleted.status).toBe(204);
  expect((await agent.get(`/api/jobs/${id}`)).status).toBe(404);
  expect((await agent.get(`/api/images/${id}.png`)).status).toBe(404);
  expect(jobListSchema.parse((await agent.get('/api/jobs')).body).jobs).toEqual([]);
});

test('a browser status poll answers from the store and never calls the upstream', async () => {
  const { agent } = await buildTestApp();
  const id = await submitJob(agent);
  const upstreamCalls: string[] = [];
  server.events.on('request:start', ({ request: outbound }) => upstreamCalls.push(outbound.url));

  for (let i = 0; i < 20; i++) await agent.get(`/api/jobs/${id}`).expect(200);

  expect(upstreamCalls.filter((url) => url.startsWith(`${UPSTREAM_BASE}/jobs/`))).toEqual([]);
});

test('GET /healthz answers ok, names the upstream and shows its one account, without its address or key', async () => {
  const { agent } = await buildTestApp({ budgetPerMinute: 60 });

  const response = await agent.get('/healthz');

  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    status: 'ok',
    upstream: 'v7',
    accounts: [
      {
        name: 'v7',
        kind: 'v7',
        state: 'ready',
        limit: 60,
        window_s: 60,
        used: 0,
        running: 0,
        max_running: 10_000,
        queued: 0,
      },
    ],
  });
  expect(response.text).not.toContain(UPSTREAM_KEY);
  expect(response.text).not.toContain(UPSTREAM_BASE);
  expect(response.headers['x-powered-by']).toBeUndefined();
});

test('a submission that finds the budget spent is queued, and its status says where and when to ask', async () => {
  const { agent } = await buildTestApp({ budgetPerMinute: 4 });

  const answers = [];
  for (let i = 0; i < 3; i++)
    answers.push(jobSchema.parse((await agent.post('/api/imagine').send({ prompt: `p${i}` })).body));
  const queued = jobSchema.parse((await agent.get(`/api/jobs/${answers[2]?.job_id}`)).body);
  const budget = budgetSchema.parse((await agent.get('/api/budget')).body);

  expect(answers.map((job) => job.status)).toEqual(['pending', 'pending', 'queued']);
  expect(queued).toMatchObject({ status: 'queued', queue_position: 1 });
  expect(queued.poll_after_ms).toBeGreaterThanOrEqual(1_000);
  expect(answers[0]?.poll_after_ms).toBeGreaterThanOrEqual(1_000);
  expect(budget).toEqual({ limit: 4, window_s: 60, used: 2, queue_length: 1 });
});

test('a full submission queue answers 429 with Retry-After and keeps no job', async () => {
  const { agent } = await buildTestApp({ budgetPerMinute: 4, queueMax: 1 });
  for (let i = 0; i < 3; i++) await agent.post('/api/imagine').send({ prompt: `p${i}` });

  const response = await agent.post('/api/imagine').send({ prompt: 'one too many' });

  expect(response.status).toBe(429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(errorBodySchema.parse(response.body).error.code).toBe('rate_limited');
  expect(jobListSchema.parse((await agent.get('/api/jobs')).body).jobs).toHaveLength(3);
});
