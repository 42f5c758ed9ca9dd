import { errorBodySchema } from '@shared/schemas/error';
import { jobListSchema } from '@shared/schemas/job';
import { sessionStateSchema } from '@shared/schemas/session';
import request from 'supertest';
import { expect, test } from 'vitest';
import { exposureProblem, parseEnv } from '../../server/src/env';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const TOKEN = 'correct-horse-battery-staple-42';
const guarded = (extra: { signInAttempts?: number } = {}) =>
  buildTestApp({ security: { accessToken: TOKEN, ...extra } });

test.each([
  ['GET', '/api/jobs'],
  ['GET', '/api/jobs/abc'],
  ['GET', '/api/budget'],
  ['GET', '/api/images/abc.png'],
  ['POST', '/api/imagine'],
  ['DELETE', '/api/jobs/abc'],
])('with ACCESS_TOKEN set, %s %s answers 401 without credentials', async (method, path) => {
  const { app } = await guarded();

  const response = await request(app)[method === 'GET' ? 'get' : method === 'POST' ? 'post' : 'delete'](path);

  expect(response.status).toBe(401);
  expect(errorBodySchema.parse(response.body).error.code).toBe('unauthorized');
});

test('a bearer token opens the API, and a script using it is one owner whatever cookies it keeps', async () => {
  const { app } = await guarded();
  const auth = { authorization: `Bearer ${TOKEN}` };

  const submitted = await request(app).post('/api/imagine').set(auth).send({ prompt: 'scripted' });
  const listed = await request(app).get('/api/jobs').set(auth).set('Cookie', 'mj_owner=whatever');

  expect(submitted.status).toBe(202);
  expect(jobListSchema.parse(listed.body).jobs.map((job) => job.prompt)).toEqual(['scripted']);
});

test('a wrong bearer token is refused', async () => {
  const { app } = await guarded();

  const response = await request(app).get('/api/jobs').set('authorization', `Bearer ${TOKEN}x`);

  expect(response.status).toBe(401);
});

test('a browser signs in with the token, gets a signed HttpOnly session cookie, and signs out', async () => {
  const { agent } = await guarded();

  const before = sessionStateSchema.parse((await agent.get('/api/session')).body);
  const wrong = await agent.post('/api/session').send({ token: 'nope' });
  const signIn = await agent.post('/api/session').send({ token: TOKEN });
  const after = sessionStateSchema.parse((await agent.get('/api/session')).body);
  const id = await submitJob(agent);
  const signOut = await agent.delete('/api/session');
  const afterSignOut = await agent.get(`/api/jobs/${id}`);

  expect(before).toEqual({ required: true, signed_in: false });
  expect(wrong.status).toBe(401);
  expect(signIn.status).toBe(204);
  expect(String(signIn.headers['set-cookie'])).toMatch(/mj_session=s%3A.*HttpOnly.*SameSite=Strict/);
  expect(after).toEqual({ required: true, signed_in: true });
  expect(signOut.status).toBe(204);
  expect(afterSignOut.status).toBe(401);
});

test('a forged session cookie is not a session', async () => {
  const { app } = await guarded();

  const response = await request(app).get('/api/jobs').set('Cookie', 'mj_session=v1.123');

  expect(response.status).toBe(401);
});

test('sign-in attempts are rate-limited per address', async () => {
  const { app } = await guarded({ signInAttempts: 3 });

  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await request(app).post('/api/session').send({ token: 'guess' })).status);
  const correctButLimited = await request(app).post('/api/session').send({ token: TOKEN });

  expect(statuses).toEqual([401, 401, 401, 429]);
  expect(correctButLimited.status).toBe(429);
  expect(Number(correctButLimited.headers['retry-after'])).toBeGreaterThan(0);
});

test('without ACCESS_TOKEN the session endpoint says no sign-in is needed', async () => {
  const { agent } = await buildTestApp();

  expect(sessionStateSchema.parse((await agent.get('/api/session')).body)).toEqual({
    required: false,
    signed_in: true,
  });
});

test.each([
  ['an Origin from another site', { origin: 'https://evil.example' }],
  ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
])('a state-changing request with %s is refused with 403', async (_label, headers) => {
  const { agent } = await buildTestApp();

  const response = await agent.post('/api/imagine').set(headers).send({ prompt: 'forged' });

  expect(response.status).toBe(403);
  expect(errorBodySchema.parse(response.body).error.code).toBe('forbidden');
  expect(jobListSchema.parse((await agent.get('/api/jobs')).body).jobs).toEqual([]);
});

test('a same-origin browser request and an allow-listed origin are accepted', async () => {
  const { agent, app } = await buildTestApp({ security: { allowedOrigins: ['https://studio.example'] } });

  const same = await agent.post('/api/imagine').set('sec-fetch-site', 'same-origin').send({ prompt: 'mine' });
  const listed = await request(app).post('/api/imagine').set('origin', 'https://studio.example').send({ prompt: 'ok' });

  expect(same.status).toBe(202);
  expect(listed.status).toBe(202);
  expect(listed.headers['access-control-allow-origin']).toBe('https://studio.example');
});

test('CORS is closed by default: a foreign origin gets no CORS headers', async () => {
  const { app } = await buildTestApp();

  const response = await request(app).get('/api/jobs').set('origin', 'https://evil.example');

  expect(response.headers['access-control-allow-origin']).toBeUndefined();
});

test('responses carry a strict Content-Security-Policy and no X-Powered-By', async () => {
  const { app } = await buildTestApp();

  const response = await request(app).get('/healthz');

  const csp = String(response.headers['content-security-policy']);
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['x-powered-by']).toBeUndefined();
});

test('per-client limits: submissions per minute, then 429 with Retry-After', async () => {
  const { agent } = await buildTestApp({ security: { submitsPerMinute: 3 } });

  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push(await agent.post('/api/imagine').send({ prompt: `p${i}` }));

  expect(statuses.map((response) => response.status)).toEqual([202, 202, 202, 429]);
  expect(Number(statuses[3]?.headers['retry-after'])).toBeGreaterThan(0);
  expect(statuses[3]?.body.error.message).toMatch(/At most 3 submissions a minute/);
});

test('per-client limits: jobs running at once, then 429 until one finishes', async () => {
  const { agent, jobs } = await buildTestApp({ security: { runningJobs: 2 } });
  const first = await submitJob(agent, 'one');
  await submitJob(agent, 'two');

  const refused = await agent.post('/api/imagine').send({ prompt: 'three' });
  await jobs.refresh(first);
  const afterOneFinished = await agent.post('/api/imagine').send({ prompt: 'three again' });

  expect(refused.status).toBe(429);
  expect(refused.body.error.message).toMatch(/2 jobs running/);
  expect(afterOneFinished.status).toBe(202);
});

test('invalid submissions do not use up the per-client limit', async () => {
  const { agent } = await buildTestApp({ security: { submitsPerMinute: 2 } });

  for (let i = 0; i < 5; i++) await agent.post('/api/imagine').send({ prompt: '' });
  const valid = await agent.post('/api/imagine').send({ prompt: 'fine' });

  expect(valid.status).toBe(202);
});

test.each([
  ['0.0.0.0', undefined, 'false', true],
  ['192.168.1.5', undefined, 'false', true],
  ['0.0.0.0', 'a-long-enough-token-123', 'false', false],
  ['0.0.0.0', undefined, 'true', false],
  ['127.0.0.1', undefined, 'false', false],
  ['::1', undefined, 'false', false],
  ['localhost', undefined, 'false', false],
])('HOST=%s with token %s and ALLOW_OPEN_ACCESS=%s refuses to start: %s', (host, token, open, refuses) => {
  const env = parseEnv({ HOST: host, ACCESS_TOKEN: token, ALLOW_OPEN_ACCESS: open });

  const problem = exposureProblem(env);

  expect(problem !== undefined).toBe(refuses);
  if (refuses) expect(problem).toMatch(/ACCESS_TOKEN.*\n.*\n.*openssl rand.*\n.*ALLOW_OPEN_ACCESS=true/s);
});
