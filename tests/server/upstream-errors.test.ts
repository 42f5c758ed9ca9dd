import { errorBodySchema } from '@shared/schemas/error';
import { jobListSchema, jobSchema } from '@shared/schemas/job';
import { delay, HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { UpstreamError } from '../../server/src/errors';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

type Resolver = Parameters<typeof http.post>[1];
const onSubmit = (resolver: Resolver) => server.use(http.post(`${UPSTREAM_BASE}/imagine`, resolver));
const onStatus = (resolver: Resolver) => server.use(http.get(`${UPSTREAM_BASE}/jobs/:jobId`, resolver));
const never: Resolver = async () => {
  await delay('infinite');
  return HttpResponse.json({});
};

test('an upstream 401 becomes a 502 that blames the server key, not the browser', async () => {
  const { agent } = await buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'bad key' }, { status: 401 }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(502);
  const body = errorBodySchema.parse(response.body);
  expect(body.error.code).toBe('upstream_auth');
  expect(body.error.message).toMatch(/server's Midjourney API key/);
});

test('an upstream 422 becomes a 422 carrying the refusal reason, and no job is kept', async () => {
  const { agent } = await buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'Banned word: "gore"' }, { status: 422 }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(422);
  expect(errorBodySchema.parse(response.body).error).toEqual({
    code: 'content_refused',
    message: 'The prompt was refused: Banned word: "gore"',
  });
  expect(jobListSchema.parse((await agent.get('/api/jobs')).body).jobs).toEqual([]);
});

test('an upstream 429 becomes a 429 with Retry-After in the header and the body', async () => {
  const { agent } = await buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'slow down' }, { status: 429, headers: { 'Retry-After': '17' } }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(429);
  expect(response.headers['retry-after']).toBe('17');
  expect(errorBodySchema.parse(response.body).error).toMatchObject({ code: 'rate_limited', retry_after_s: 17 });
});

test('an upstream 429 whose Retry-After is an HTTP date is converted to seconds', async () => {
  const { agent } = await buildTestApp();
  const inFortySeconds = new Date(Date.now() + 40_000).toUTCString();
  onSubmit(() => new HttpResponse(null, { status: 429, headers: { 'Retry-After': inFortySeconds } }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  const seconds = Number(response.headers['retry-after']);
  expect(response.status).toBe(429);
  expect(seconds).toBeGreaterThanOrEqual(38);
  expect(seconds).toBeLessThanOrEqual(41);
});

test('an upstream 429 without Retry-After still tells the browser how long to wait', async () => {
  const { agent } = await buildTestApp();
  onSubmit(() => new HttpResponse(null, { status: 429 }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
});

test.each([500, 502, 503])('an upstream %i becomes a 502, never a 500', async (status) => {
  const { agent } = await buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'boom' }, { status }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_unavailable');
});

test('a network error on submit becomes a 502 and leaves a failed job that says what happened', async () => {
  const { agent } = await buildTestApp();
  onSubmit(() => HttpResponse.error());

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });
  const [job] = jobListSchema.parse((await agent.get('/api/jobs')).body).jobs;

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_unavailable');
  expect(job).toMatchObject({ status: 'failed', prompt: 'a fox' });
  expect(job?.error).toMatch(/never confirmed this submission/);
});

test('an upstream that never answers becomes a 504 after the configured time-out', async () => {
  const { agent } = await buildTestApp({ timeoutMs: 50 });
  onSubmit(never);

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(504);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_timeout');
});

test.each([
  ['text that is not JSON', () => HttpResponse.text('<html>oops</html>')],
  ['no job id', () => HttpResponse.json({ status: 'pending' })],
  ['a job id with a slash', () => HttpResponse.json({ job_id: '../admin', status: 'pending' })],
  ['a job id of the wrong type', () => HttpResponse.json({ job_id: 42 })],
  ['a redirect status', () => new HttpResponse(null, { status: 304 })],
])('a malformed upstream submit answer (%s) becomes a 502', async (_label, resolver) => {
  const { agent } = await buildTestApp();
  onSubmit(resolver);

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_bad_response');
});

test('an upstream 400 is reported as a rejected request with its reason', async () => {
  const { agent } = await buildTestApp();
  onSubmit(() => HttpResponse.json({ message: 'aspect ratio not allowed for this plan' }, { status: 400 }));

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(response.status).toBe(400);
  expect(response.body.error.message).toBe('The upstream rejected the request: aspect ratio not allowed for this plan');
});

test.each([
  ['a 429', () => new HttpResponse(null, { status: 429, headers: { 'Retry-After': '5' } }), 'rate_limited'],
  ['a 503', () => HttpResponse.json({}, { status: 503 }), 'unavailable'],
  ['a network error', () => HttpResponse.error(), 'unavailable'],
  ['no answer', never, 'timeout'],
  ['text that is not JSON', () => HttpResponse.text('<html>oops</html>'), 'bad_response'],
  ['an unknown status', () => HttpResponse.json({ status: 'exploded' }), 'bad_response'],
  ['a finished job without an image', () => HttpResponse.json({ status: 'complete' }), 'bad_response'],
  [
    'a non-http image link',
    () => HttpResponse.json({ status: 'complete', image_url: 'file:///etc/passwd' }),
    'bad_response',
  ],
])('a status check that gets %s leaves the job running for the next check', async (_label, resolver, kind) => {
  const { agent, jobs } = await buildTestApp({ timeoutMs: 50 });
  const id = await submitJob(agent);
  onStatus(resolver);

  const outcome = await jobs.refresh(id).catch((error: unknown) => error);

  expect(outcome).toBeInstanceOf(UpstreamError);
  expect(outcome).toMatchObject({ kind });
  expect(jobSchema.parse((await agent.get(`/api/jobs/${id}`)).body).status).toBe('pending');
});

test('a job the upstream no longer knows ends as failed with a reason', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  onStatus(() => HttpResponse.json({ error: 'no such job' }, { status: 404 }));

  await jobs.refresh(id);

  expect((await agent.get(`/api/jobs/${id}`)).body).toMatchObject({
    status: 'failed',
    error: 'The upstream no longer knows this job',
  });
});

test('a job still unfinished after the deadline is given up with a clear reason', async () => {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const { agent, jobs } = await buildTestApp({ deadlineMs: 10 * 60_000, now: () => clock.now });
  const id = await submitJob(agent);
  onStatus(() => HttpResponse.json({ status: 'processing', progress: 37 }));
  await jobs.refresh(id);

  clock.now += 10 * 60_000 + 1;
  await jobs.refresh(id);

  expect((await agent.get(`/api/jobs/${id}`)).body).toMatchObject({
    status: 'failed',
    error: 'No result after 10 min: the upstream job seems stuck, so it was given up',
  });
});

test('concurrent refreshes of one job make one upstream call', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  let calls = 0;
  onStatus(async () => {
    calls += 1;
    await delay(20);
    return HttpResponse.json({ status: 'processing', progress: 50 });
  });

  await Promise.all(Array.from({ length: 10 }, () => jobs.refresh(id)));

  expect(calls).toBe(1);
});
