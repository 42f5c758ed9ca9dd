import { delay, HttpResponse, http } from 'msw';
import request from 'supertest';
import { expect, test } from 'vitest';
import { errorBodySchema } from '../../shared/schemas/error';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const submit = (app: Parameters<typeof request>[0]) => request(app).post('/api/imagine').send({ prompt: 'a fox' });
const onSubmit = (resolver: Parameters<typeof http.post>[1]) =>
  server.use(http.post(`${UPSTREAM_BASE}/imagine`, resolver));
const onStatus = (resolver: Parameters<typeof http.get>[1]) =>
  server.use(http.get(`${UPSTREAM_BASE}/jobs/:jobId`, resolver));

test('an upstream 401 becomes a 502 that blames the server key, not the browser', async () => {
  const { app } = buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'bad key' }, { status: 401 }));

  const response = await submit(app);

  expect(response.status).toBe(502);
  const body = errorBodySchema.parse(response.body);
  expect(body.error.code).toBe('upstream_auth');
  expect(body.error.message).toMatch(/server's Midjourney API key/);
});

test('an upstream 422 becomes a 422 carrying the refusal reason', async () => {
  const { app } = buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'Banned word: "gore"' }, { status: 422 }));

  const response = await submit(app);

  expect(response.status).toBe(422);
  expect(errorBodySchema.parse(response.body).error).toEqual({
    code: 'content_refused',
    message: 'The prompt was refused: Banned word: "gore"',
  });
});

test('an upstream 429 becomes a 429 with Retry-After in the header and the body', async () => {
  const { app } = buildTestApp();
  onStatus(() => HttpResponse.json({ error: 'slow down' }, { status: 429, headers: { 'Retry-After': '17' } }));

  const response = await request(app).get('/api/jobs/job_1');

  expect(response.status).toBe(429);
  expect(response.headers['retry-after']).toBe('17');
  expect(errorBodySchema.parse(response.body).error).toMatchObject({ code: 'rate_limited', retry_after_s: 17 });
});

test('an upstream 429 whose Retry-After is an HTTP date is converted to seconds', async () => {
  const { app } = buildTestApp();
  const inFortySeconds = new Date(Date.now() + 40_000).toUTCString();
  onSubmit(() => new HttpResponse(null, { status: 429, headers: { 'Retry-After': inFortySeconds } }));

  const response = await submit(app);

  expect(response.status).toBe(429);
  const seconds = Number(response.headers['retry-after']);
  expect(seconds).toBeGreaterThanOrEqual(38);
  expect(seconds).toBeLessThanOrEqual(41);
});

test('an upstream 429 without Retry-After still tells the browser how long to wait', async () => {
  const { app } = buildTestApp();
  onSubmit(() => new HttpResponse(null, { status: 429 }));

  const response = await submit(app);

  expect(response.status).toBe(429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
});

test('an upstream 404 for a job becomes a 404', async () => {
  const { app } = buildTestApp();
  onStatus(() => HttpResponse.json({ error: 'no such job' }, { status: 404 }));

  const response = await request(app).get('/api/jobs/job_gone');

  expect(response.status).toBe(404);
  expect(errorBodySchema.parse(response.body).error.code).toBe('not_found');
});

test.each([500, 502, 503])('an upstream %i becomes a 502, never a 500', async (status) => {
  const { app } = buildTestApp();
  onSubmit(() => HttpResponse.json({ error: 'boom' }, { status }));

  const response = await submit(app);

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_unavailable');
});

test('a network error talking to the upstream becomes a 502', async () => {
  const { app } = buildTestApp();
  onStatus(() => HttpResponse.error());

  const response = await request(app).get('/api/jobs/job_1');

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_unavailable');
});

test('an upstream that never answers becomes a 504 after the configured time-out', async () => {
  const { app } = buildTestApp({ timeoutMs: 50 });
  onStatus(async () => {
    await delay('infinite');
    return HttpResponse.json({});
  });

  const response = await request(app).get('/api/jobs/job_1');

  expect(response.status).toBe(504);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_timeout');
});

test.each([
  ['text that is not JSON', () => HttpResponse.text('<html>oops</html>')],
  ['JSON without a status', () => HttpResponse.json({ progress: 5 })],
  ['an unknown status', () => HttpResponse.json({ status: 'exploded' })],
  ['a finished job without an image', () => HttpResponse.json({ status: 'complete' })],
  [
    'an image link that is not http(s)',
    () => HttpResponse.json({ status: 'complete', image_url: 'file:///etc/passwd' }),
  ],
  ['a redirect status', () => new HttpResponse(null, { status: 304 })],
])('a malformed upstream status answer (%s) becomes a 502', async (_label, resolver) => {
  const { app } = buildTestApp();
  onStatus(resolver);

  const response = await request(app).get('/api/jobs/job_1');

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_bad_response');
});

test.each([
  ['no job id', { status: 'pending' }],
  ['a job id with a slash', { job_id: '../admin', status: 'pending' }],
  ['a job id of the wrong type', { job_id: 42 }],
])('a malformed upstream submit answer (%s) becomes a 502', async (_label, answer) => {
  const { app } = buildTestApp();
  onSubmit(() => HttpResponse.json(answer));

  const response = await submit(app);

  expect(response.status).toBe(502);
  expect(errorBodySchema.parse(response.body).error.code).toBe('upstream_bad_response');
});

test('an upstream 400 is reported as a rejected request with its reason', async () => {
  const { app } = buildTestApp();
  onSubmit(() => HttpResponse.json({ message: 'aspect ratio not allowed for this plan' }, { status: 400 }));

  const response = await submit(app);

  expect(response.status).toBe(400);
  expect(response.body.error.message).toBe('The upstream rejected the request: aspect ratio not allowed for this plan');
});
