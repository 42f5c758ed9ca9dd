import { delay, HttpResponse, http } from 'msw';
import request from 'supertest';
import { expect, test } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE, UPSTREAM_KEY, upstreamHandlers } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const failures: [string, Parameters<typeof http.get>[1]][] = [
  ['401', () => HttpResponse.json({ error: `key ${UPSTREAM_KEY} is invalid` }, { status: 401 })],
  ['422 echoing the key', () => HttpResponse.json({ error: `refused for ${UPSTREAM_KEY}` }, { status: 422 })],
  ['400 echoing the key', () => HttpResponse.json({ message: `bad request from ${UPSTREAM_KEY}` }, { status: 400 })],
  ['429', () => new HttpResponse(null, { status: 429, headers: { 'Retry-After': '3' } })],
  ['500', () => HttpResponse.text(`stack trace with Bearer ${UPSTREAM_KEY}`, { status: 500 })],
  ['network error', () => HttpResponse.error()],
  ['malformed JSON', () => HttpResponse.text(`{"token":"${UPSTREAM_KEY}"`)],
  [
    'a failed job echoing the key',
    () => HttpResponse.json({ status: 'failed', error: `auth ${UPSTREAM_KEY} expired` }),
  ],
  [
    'a time-out',
    async () => {
      await delay('infinite');
      return HttpResponse.json({});
    },
  ],
];

test('the upstream key appears in no response, header or log line across every upstream outcome', async () => {
  const { agent, jobs, logs } = await buildTestApp({ timeoutMs: 50 });
  const seen: string[] = [];
  const record = (response: { headers: unknown; text?: string }) =>
    seen.push(JSON.stringify(response.headers), response.text ?? '');

  const id = await submitJob(agent);
  await jobs.refresh(id);
  record(await agent.get(`/api/jobs/${id}`));
  record(await agent.get(`/api/images/${id}.png`));
  for (const [, resolver] of failures) {
    // Servers of their own per outcome: a refused key or a time-out takes the one account out
    // of its turn, and each outcome must reach the upstream, on a submission and on a check.
    const submitting = await buildTestApp({ timeoutMs: 50 });
    server.use(http.post(`${UPSTREAM_BASE}/imagine`, resolver));
    record(
      await submitting.agent
        .post('/api/imagine')
        .set('authorization', 'Bearer browser-token')
        .send({ prompt: 'a fox' }),
    );
    record(await submitting.agent.get('/api/jobs?limit=100'));
    server.resetHandlers(...upstreamHandlers);
    const checking = await buildTestApp({ timeoutMs: 50 });
    const running = await submitJob(checking.agent);
    server.use(http.get(`${UPSTREAM_BASE}/jobs/:jobId`, resolver));
    await checking.jobs.refresh(running).catch(() => undefined);
    record(await checking.agent.get(`/api/jobs/${running}`));
    server.resetHandlers(...upstreamHandlers);
    logs.push(...submitting.logs, ...checking.logs);
  }
  record(await agent.get('/api/jobs?limit=100'));

  expect(seen.length).toBe(2 * 2 + failures.length * 6 + 2);
  expect(logs.length).toBeGreaterThan(failures.length * 3);
  for (const text of [...seen, ...logs]) expect(text).not.toContain(UPSTREAM_KEY);
  // The browser's own Authorization header and cookies never reach the request log lines.
  const requestLines = logs.filter((line) => line.includes('"url":"/api/imagine"'));
  expect(requestLines.length).toBeGreaterThanOrEqual(failures.length);
  expect(logs.join('\n')).not.toContain('browser-token');
  expect(logs.join('\n')).not.toContain('mj_owner');
});

test('the access token and the cookie-signing secret appear in no response or log line', async () => {
  const token = 'access-token-that-must-stay-secret-77';
  const { agent, logs } = await buildTestApp({ security: { accessToken: token } });
  const seen: string[] = [];
  const record = (response: { headers: unknown; text?: string }) =>
    seen.push(JSON.stringify(response.headers), response.text ?? '');

  record(await agent.post('/api/session').send({ token: 'wrong-guess' }));
  record(await agent.post('/api/session').send({ token }));
  record(await agent.post('/api/imagine').send({ prompt: 'a fox' }));
  record(await agent.get('/api/jobs').set('authorization', `Bearer ${token}`));
  record(await agent.get('/api/jobs').set('authorization', `Bearer ${token}-wrong`));
  record(await agent.delete('/api/session'));

  expect(logs.length).toBeGreaterThanOrEqual(6);
  for (const text of [...seen, ...logs]) {
    expect(text).not.toContain(token);
    expect(text).not.toContain('test-cookie-secret-0123456789abcdef');
  }
});

test('the relay hook token, which stands in for a signature, appears in no log line', async () => {
  const {
    app,
    logs,
    relayToken: token,
  } = await buildTestApp({
    relay: { baseUrl: 'https://relay.test/mj', secret: 'relay-secret-0a1b2c' },
  });

  const right = await request(app).post(`/hooks/mj-proxy/${token}`).send({ id: 'up_1', status: 'SUCCESS' });
  const wrong = await request(app).post(`/hooks/mj-proxy/${token}x?probe=1`).send({ id: 'up_1' });

  expect([right.status, wrong.status]).toEqual([204, 404]);
  expect(logs.join('\n')).toContain('/hooks/mj-proxy/[redacted]');
  for (const line of logs) expect(line).not.toContain(token);
});
