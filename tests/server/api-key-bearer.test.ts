// Studio API keys as `Authorization: Bearer <key>` on /api, as scripts send them: each key its
// own owner (the same one on /mj), revoked at once, counted like a wrong token when wrong, held
// to its own per-client limits, and never able to manage keys. ACCESS_TOKEN keeps working.
import { createdApiKeySchema } from '@shared/schemas/api-key';
import { errorBodySchema } from '@shared/schemas/error';
import { jobListSchema, jobSchema } from '@shared/schemas/job';
import request from 'supertest';
import { expect, test } from 'vitest';
import { appsClosedAfterEach, mockUpstreamForEachTest, type TestApp } from './helpers';

mockUpstreamForEachTest();

const TOKEN = 'correct-horse-battery-staple-42';

const app = appsClosedAfterEach();

/** A key made by a studio owner: the browser's cookie owner, or the token's with ACCESS_TOKEN. */
async function keyOf(setup: TestApp, guarded = false) {
  const made = guarded
    ? request(setup.app).post('/api/keys').set('authorization', `Bearer ${TOKEN}`)
    : setup.agent.post('/api/keys');
  const response = await made.send({ name: 'my script' });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  const created = createdApiKeySchema.parse(response.body);
  return { ...created, auth: { authorization: `Bearer ${created.secret}` } };
}

test('a key works as Authorization: Bearer on /api, as an owner of its own apart from its creator', async () => {
  const setup = await app();
  const key = await keyOf(setup);
  await setup.agent.post('/api/imagine').send({ prompt: 'the browser’s fox' });

  const submitted = await request(setup.app).post('/api/imagine').set(key.auth).send({ prompt: 'the script’s fox' });
  const keyList = await request(setup.app).get('/api/jobs').set(key.auth);
  const browserList = await setup.agent.get('/api/jobs');
  const job = jobSchema.parse(submitted.body);
  const creatorReads = await setup.agent.get(`/api/jobs/${job.job_id}`);

  expect(submitted.status).toBe(202);
  expect(submitted.headers['set-cookie']).toBeUndefined();
  expect(jobListSchema.parse(keyList.body).jobs.map((one) => one.prompt)).toEqual(['the script’s fox']);
  expect(jobListSchema.parse(browserList.body).jobs.map((one) => one.prompt)).toEqual(['the browser’s fox']);
  expect(creatorReads.status).toBe(404);
});

test('each key is an owner of its own: one key does not see the jobs of another', async () => {
  const setup = await app();
  const one = await keyOf(setup);
  const two = await keyOf(setup);

  const made = jobSchema.parse(
    (await request(setup.app).post('/api/imagine').set(one.auth).send({ prompt: 'x' })).body,
  );
  const byOne = await request(setup.app).get(`/api/jobs/${made.job_id}`).set(one.auth);
  const byTwo = await request(setup.app).get(`/api/jobs/${made.job_id}`).set(two.auth);

  expect(byOne.status).toBe(200);
  expect(byTwo.status).toBe(404);
});

test('a key is the same owner on /api as on /mj: a job made on one face is read on the other', async () => {
  const setup = await app();
  const key = await keyOf(setup);

  const relay = await request(setup.app)
    .post('/mj/submit/imagine')
    .set('mj-api-secret', key.secret)
    .send({ prompt: 'made on the relay face' });
  const listed = await request(setup.app).get('/api/jobs').set(key.auth);

  expect(relay.body.code).toBe(1);
  expect(jobListSchema.parse(listed.body).jobs.map((job) => job.prompt)).toEqual(['made on the relay face']);
});

test('a revoked key answers 401 on /api at once, on its very next request', async () => {
  const setup = await app();
  const key = await keyOf(setup);
  const before = await request(setup.app).get('/api/jobs').set(key.auth);

  await setup.agent.delete(`/api/keys/${key.key.id}`);
  const after = await request(setup.app).get('/api/jobs').set(key.auth);
  const submit = await request(setup.app).post('/api/imagine').set(key.auth).send({ prompt: 'too late' });

  expect(before.status).toBe(200);
  expect(after.status).toBe(401);
  expect(errorBodySchema.parse(after.body).error).toMatchObject({ code: 'unauthorized', message: /API key/ });
  expect(submit.status).toBe(401);
  expect(setup.jobs.listActive()).toEqual([]);
});

test('a revoked key is not a wrong guess: a script polling with it locks nobody at its address out', async () => {
  const setup = await app({ security: { accessToken: TOKEN, signInAttempts: 3 } });
  const key = await keyOf(setup, true);
  await request(setup.app).delete(`/api/keys/${key.key.id}`).set('authorization', `Bearer ${TOKEN}`);

  const polls = [];
  for (let i = 0; i < 5; i++) polls.push(await request(setup.app).get('/api/jobs').set(key.auth));
  const relay = await request(setup.app).get('/mj/task/list').set('mj-api-secret', key.secret);
  const signIn = await request(setup.app).post('/api/session').send({ token: TOKEN });

  expect(polls.map((poll) => poll.status)).toEqual([401, 401, 401, 401, 401]);
  expect(errorBodySchema.parse(polls[4]?.body).error).toMatchObject({
    code: 'unauthorized',
    message: 'This API key was revoked',
  });
  expect(relay.status).toBe(401);
  expect(signIn.status).toBe(204);
});

test('a key-shaped bearer this server never made is a 401, and guessing is limited per address', async () => {
  const setup = await app({ security: { signInAttempts: 3 } });
  const key = await keyOf(setup);
  const guess = (i: number) => `Bearer mjk_${String(i).padStart(43, 'A')}`;

  const statuses = [];
  for (let i = 0; i < 4; i++)
    statuses.push((await request(setup.app).get('/api/jobs').set('authorization', guess(i))).status);
  const right = await request(setup.app).get('/api/jobs').set(key.auth);

  expect(statuses).toEqual([401, 401, 401, 429]);
  expect(right.status).toBe(429);
  expect(errorBodySchema.parse(right.body).error.message).toMatch(/^Too many wrong access tokens or API keys/);
});

test('without ACCESS_TOKEN, a bearer that is not written as a key is no credential: the cookie owner stands', async () => {
  const setup = await app();
  await setup.agent.post('/api/imagine').send({ prompt: 'mine' });

  const listed = await setup.agent.get('/api/jobs').set('authorization', 'Bearer some-other-service-token');

  expect(listed.status).toBe(200);
  expect(jobListSchema.parse(listed.body).jobs.map((job) => job.prompt)).toEqual(['mine']);
});

test('without ACCESS_TOKEN, a junk bearer does not get a cross-site cookie request past the origin check', async () => {
  const setup = await app();
  await setup.agent.get('/api/jobs');

  const forged = await setup.agent
    .post('/api/imagine')
    .set('origin', 'https://evil.example')
    .set('authorization', 'Bearer not-a-key-just-junk')
    .send({ prompt: 'forged' });

  expect(forged.status).toBe(403);
  expect(errorBodySchema.parse(forged.body).error.code).toBe('forbidden');
  expect(setup.jobs.listActive()).toEqual([]);
});

test('with ACCESS_TOKEN set, a key opens /api as its own owner, and the token still opens it as the token owner', async () => {
  const setup = await app({ security: { accessToken: TOKEN } });
  const key = await keyOf(setup, true);
  const tokenAuth = { authorization: `Bearer ${TOKEN}` };

  await request(setup.app).post('/api/imagine').set(key.auth).send({ prompt: 'the key’s' });
  await request(setup.app).post('/api/imagine').set(tokenAuth).send({ prompt: 'the token’s' });
  const byKey = await request(setup.app).get('/api/jobs').set(key.auth);
  const byToken = await request(setup.app).get('/api/jobs').set(tokenAuth);
  const wrong = await request(setup.app).get('/api/jobs').set('authorization', `Bearer ${TOKEN}-not`);

  expect(jobListSchema.parse(byKey.body).jobs.map((job) => job.prompt)).toEqual(['the key’s']);
  expect(jobListSchema.parse(byToken.body).jobs.map((job) => job.prompt)).toEqual(['the token’s']);
  expect(wrong.status).toBe(401);
});

test('a key may not list, make or revoke keys on /api: 403, whatever the server guards', async () => {
  const open = await app();
  const guarded = await app({ security: { accessToken: TOKEN } });

  const answers = [];
  for (const [setup, key] of [
    [open, await keyOf(open)],
    [guarded, await keyOf(guarded, true)],
  ] as const) {
    answers.push(await request(setup.app).get('/api/keys').set(key.auth));
    answers.push(await request(setup.app).post('/api/keys').set(key.auth).send({ name: 'one more' }));
    answers.push(await request(setup.app).delete(`/api/keys/${key.key.id}`).set(key.auth));
  }

  expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403, 403]);
  expect(answers.map((answer) => errorBodySchema.parse(answer.body).error.code)).toEqual(
    answers.map(() => 'forbidden'),
  );
});

test('a script with a key sends no Origin and no cookies, and its state-changing requests pass', async () => {
  const setup = await app();
  const key = await keyOf(setup);
  const job = jobSchema.parse((await request(setup.app).post('/api/imagine').set(key.auth).send({ prompt: 'x' })).body);
  await setup.jobs.refresh(job.job_id);

  const favourite = await request(setup.app).put(`/api/jobs/${job.job_id}/favourite`).set(key.auth);
  const removed = await request(setup.app).delete(`/api/jobs/${job.job_id}`).set(key.auth);
  const crossSiteCookie = await setup.agent
    .post('/api/imagine')
    .set('origin', 'https://evil.example')
    .send({ prompt: 'forged' });

  expect(favourite.status).toBe(200);
  expect(removed.status).toBe(204);
  expect(crossSiteCookie.status).toBe(403);
});

test("a key's submissions count against its own per-client limit, not its creator's", async () => {
  const setup = await app({ security: { submitsPerMinute: 2 } });
  const key = await keyOf(setup);

  const byKey = [];
  for (let i = 0; i < 3; i++) {
    byKey.push(
      (
        await request(setup.app)
          .post('/api/imagine')
          .set(key.auth)
          .send({ prompt: `k${i}` })
      ).status,
    );
  }
  const byCreator = await setup.agent.post('/api/imagine').send({ prompt: 'still mine to make' });

  expect(byKey).toEqual([202, 202, 429]);
  expect(byCreator.status).toBe(202);
});
