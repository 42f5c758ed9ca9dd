// The access holes a black-box attacker found, each tried again the way they tried it: limits
// dodged by dropping cookies, sessions that outlived signing out and token changes, a
// rebinding Host, and unlimited token guessing.
import request from 'supertest';
import { expect, test } from 'vitest';
import { buildTestApp, cookieOf, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const TOKEN = 'correct-horse-battery-staple-42';
const prompt = { prompt: 'a lighthouse on a cliff' };

test('70 cookie-less submissions from one address are limited like one client', async () => {
  const { app } = await buildTestApp({ security: { submitsPerMinute: 20, submitsPerMinutePerAddress: 20 } });

  const statuses: number[] = [];
  for (let i = 0; i < 70; i++) statuses.push((await request(app).post('/api/imagine').send(prompt)).status);

  expect(statuses.filter((status) => status === 202)).toHaveLength(20);
  expect(statuses.slice(20).every((status) => status === 429)).toBe(true);
});

test('requests without the owner cookie cannot mint owners without end', async () => {
  const { app } = await buildTestApp({ security: { newOwnersPerHourPerAddress: 5 } });

  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await request(app).get('/api/jobs')).status);
  const refused = await request(app).get('/api/jobs');

  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
});

test('with ACCESS_TOKEN, a session cookie without an owner cookie is one owner, not one per request', async () => {
  const { app } = await buildTestApp({ security: { accessToken: TOKEN } });
  const session = cookieOf(await request(app).post('/api/session').send({ token: TOKEN }), 'mj_session');

  for (let i = 0; i < 14; i++) {
    const response = await request(app).post('/api/imagine').set('cookie', session).send(prompt);
    expect(response.status).toBe(202);
  }
  const listed = await request(app).get('/api/jobs?limit=100').set('cookie', session);

  expect(listed.status).toBe(200);
  expect(listed.body.jobs).toHaveLength(14);
  expect(listed.headers['set-cookie']).toBeUndefined();
});

test('a copied session cookie stops working once its browser signs out', async () => {
  const { app } = await buildTestApp({ security: { accessToken: TOKEN } });
  const session = cookieOf(await request(app).post('/api/session').send({ token: TOKEN }), 'mj_session');
  const before = await request(app).get('/api/jobs').set('cookie', session);

  await request(app).delete('/api/session').set('cookie', session);
  const copied = await request(app).post('/api/imagine').set('cookie', session).send(prompt);

  expect(before.status).toBe(200);
  expect(copied.status).toBe(401);
});

test('after a restart with a different ACCESS_TOKEN, the old session cannot submit', async () => {
  const first = await buildTestApp({ security: { accessToken: TOKEN } });
  const session = cookieOf(await request(first.app).post('/api/session').send({ token: TOKEN }), 'mj_session');
  await first.close();

  const restarted = await buildTestApp({ dataDir: first.dataDir, security: { accessToken: `${TOKEN}-rotated` } });
  const submitted = await request(restarted.app).post('/api/imagine').set('cookie', session).send(prompt);
  const sameTokenAgain = await buildTestApp({ dataDir: first.dataDir, security: { accessToken: TOKEN } });
  const afterRotation = await request(sameTokenAgain.app).get('/api/jobs').set('cookie', session);

  expect(submitted.status).toBe(401);
  // Rotating the token ended it for good: going back to the old token does not revive it.
  expect(afterRotation.status).toBe(401);
});

test('a session expires after 30 days, whatever the cookie says', async () => {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const { app } = await buildTestApp({ security: { accessToken: TOKEN }, now: () => clock.now });
  const session = cookieOf(await request(app).post('/api/session').send({ token: TOKEN }), 'mj_session');
  const early = await request(app).get('/api/jobs').set('cookie', session);

  clock.now += 30 * 24 * 60 * 60 * 1000 + 1;
  const late = await request(app).get('/api/jobs').set('cookie', session);

  expect(early.status).toBe(200);
  expect(late.status).toBe(401);
});

test('a rebinding Host (with a matching Origin) is refused before any route in the default set-up', async () => {
  const { app } = await buildTestApp();

  const response = await request(app)
    .post('/api/imagine')
    .set('host', 'rebind.example:3000')
    .set('origin', 'http://rebind.example:3000')
    .set('sec-fetch-site', 'same-origin')
    .send(prompt);
  const page = await request(app).get('/').set('host', 'rebind.example:3000');

  expect(response.status).toBe(421);
  expect(response.body.error.code).toBe('misdirected');
  expect(page.status).toBe(421);
});

test('loopback names and ALLOWED_HOSTS (with or without a port) are answered, nothing else', async () => {
  const { app } = await buildTestApp({ security: { allowedHosts: 'studio.example, lan.example:8443' } });

  const answered = async (host: string) => (await request(app).get('/api/jobs').set('host', host)).status;

  expect(await answered('localhost:3000')).toBe(200);
  expect(await answered('127.0.0.1:3000')).toBe(200);
  expect(await answered('[::1]:3000')).toBe(200);
  expect(await answered('studio.example')).toBe(200);
  expect(await answered('STUDIO.example:443')).toBe(200);
  expect(await answered('lan.example:8443')).toBe(200);
  expect(await answered('lan.example:9000')).toBe(421);
  expect(await answered('studio.example.evil.test')).toBe(421);
});

test('the host of PUBLIC_URL is answered', async () => {
  const { app } = await buildTestApp({
    relay: { baseUrl: 'https://relay.test/mj', secret: 'relay-secret-77', publicUrl: 'https://public.example/' },
  });

  const ours = await request(app).get('/api/jobs').set('host', 'public.example');
  const other = await request(app).get('/api/jobs').set('host', 'private.example');

  expect(ours.status).toBe(200);
  expect(other.status).toBe(421);
});

test('guessing the token with Authorization: Bearer is limited per address, and the limit holds for the right token too', async () => {
  const { app } = await buildTestApp({ security: { accessToken: TOKEN, signInAttempts: 10 } });

  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    statuses.push((await request(app).get('/api/jobs').set('authorization', `Bearer guess-${i}-aaaaaaaaaaaa`)).status);
  }
  const right = await request(app).get('/api/jobs').set('authorization', `Bearer ${TOKEN}`);

  expect(statuses.slice(0, 9).every((status) => status === 401)).toBe(true);
  expect(statuses.slice(10)).toEqual([429, 429]);
  expect(right.status).toBe(429);
  expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
});

test('signing in counts failures only: many right sign-ins never lock the right token out', async () => {
  const { app } = await buildTestApp({ security: { accessToken: TOKEN, signInAttempts: 3 } });

  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await request(app).post('/api/session').send({ token: TOKEN })).status);
  const bearer = await request(app).get('/api/jobs').set('authorization', `Bearer ${TOKEN}`);

  expect(statuses.every((status) => status === 204)).toBe(true);
  expect(bearer.status).toBe(200);
});

// What a second hostile look at the fixes found.

test('with ACCESS_TOKEN, visitors without a token cannot use up the address budget of new owners and lock sign-in out', async () => {
  const { app } = await buildTestApp({ security: { accessToken: TOKEN, newOwnersPerHourPerAddress: 3 } });

  for (let i = 0; i < 6; i++) await request(app).get('/api/session');
  for (let i = 0; i < 3; i++)
    await request(app)
      .post('/api/session')
      .send({ token: `${TOKEN}-wrong` })
      .catch(() => undefined);
  const signIn = await request(app).post('/api/session').send({ token: TOKEN });

  expect(signIn.status).toBe(204);
  // Signed in, the browser is the token's owner: it needed no new owner of its own.
  expect(cookieOf(signIn, 'mj_session')).not.toBe('');
});

test('X-Forwarded-Host does not get a rebinding Host past the allow-list, even behind a trusted proxy', async () => {
  const { app } = await buildTestApp({ security: { trustProxy: 'loopback' } });

  const response = await request(app)
    .get('/api/jobs')
    .set('host', 'rebind.example:3000')
    .set('x-forwarded-host', 'localhost:3000');

  expect(response.status).toBe(421);
});

test('an IPv6 client cannot rotate through its /64 for fresh wrong-token allowances', async () => {
  const { app } = await buildTestApp({ security: { accessToken: TOKEN, signInAttempts: 3, trustProxy: 'loopback' } });

  const statuses: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const response = await request(app)
      .get('/api/jobs')
      .set('x-forwarded-for', `2001:db8:1:2::${i.toString(16)}`)
      .set('authorization', 'Bearer not-the-token-at-all');
    statuses.push(response.status);
  }

  expect(statuses).toEqual([401, 401, 401, 429, 429]);
});

test('ALLOWED_HOSTS entries are read as people write them: bare IPv6, a default port, a trailing dot', async () => {
  const { app } = await buildTestApp({ security: { allowedHosts: 'fd00::5, studio.example:443, lan.example.' } });

  const answered = async (host: string) => (await request(app).get('/api/jobs').set('host', host)).status;

  expect(await answered('[fd00::5]:3000')).toBe(200);
  expect(await answered('studio.example')).toBe(200);
  expect(await answered('studio.example:443')).toBe(200);
  expect(await answered('studio.example:8443')).toBe(421);
  expect(await answered('lan.example')).toBe(200);
  expect(await answered('lan.example.:3000')).toBe(200);
});

test('a signed webhook sent to a name outside the allow-list still arrives (it proves its sender itself)', async () => {
  const { app } = await buildTestApp({
    webhookSecret: `whsec_${Buffer.from('webhook-secret-for-the-tests-01').toString('base64')}`,
  });

  const response = await request(app).post('/hooks/v7').set('host', 'hooks.public.example').send('{}');

  // Refused for its (missing) signature, not for its Host.
  expect(response.status).toBe(401);
});
