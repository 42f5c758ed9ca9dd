// Two instances in one process, as production composes them with DATABASE_URL and REDIS_URL:
// each its own PostgreSQL connection to one schema, one Redis prefix, the v7 upstream mocked by
// msw. Only the lease holder calls the upstream; the other records, tells and answers from
// the holder's view.
import { randomBytes } from 'node:crypto';
import { jobSchema } from '@shared/schemas/job';
import { Redis } from 'ioredis';
import { HttpResponse, http } from 'msw';
import { afterAll, afterEach, expect, test } from 'vitest';
import { SharedScheduler } from '../../server/src/jobs/shared-scheduler';
import { PgJobStore } from '../../server/src/store/pg-job-store';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { REDIS_TEST_URL } from '../support/instances';
import { freshSchema, PG_URL } from '../support/pg';
import { waitFor } from '../support/wait';
import { buildTestApp, mockUpstreamForEachTest, type TestApp } from './helpers';

mockUpstreamForEachTest();

const apps: TestApp[] = [];
const prefixes: string[] = [];
const redis = new Redis(REDIS_TEST_URL);
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

/** Two instances on one fresh schema and Redis prefix; answers [holder of the lease, the other]. */
async function twoInstances(): Promise<[TestApp, TestApp, string]> {
  const schema = freshSchema();
  const redisPrefix = `mj-test-${randomBytes(6).toString('hex')}:`;
  prefixes.push(redisPrefix);
  for (let n = 0; n < 2; n++) {
    const store = new PgJobStore(PG_URL, { schema, legacyImagineOutput: 'image' });
    apps.push(await buildTestApp({ shared: { store, redisUrl: REDIS_TEST_URL, redisPrefix, databaseUrl: PG_URL } }));
  }
  const leading = (app: TestApp) => app.scheduler instanceof SharedScheduler && app.scheduler.leading;
  await waitFor(() => apps.some(leading), { message: 'one instance to take the lease' });
  const [first, second] = apps;
  if (!first || !second) throw new Error('two instances');
  expect(leading(first) && leading(second)).toBe(false);
  return leading(first) ? [first, second, redisPrefix] : [second, first, redisPrefix];
}

test('a job submitted through the instance without the lease is sent once, by the holder, and both show it', async () => {
  let submissions = 0;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, () => {
      submissions += 1;
      return HttpResponse.json({ job_id: 'upstream-1', status: 'pending' });
    }),
  );
  const [holder, other] = await twoInstances();

  const response = await other.agent.post('/api/imagine').send({ prompt: 'a lighthouse at dusk' });

  expect(response.status).toBe(202);
  const job = jobSchema.parse(response.body);
  expect(job.status).toBe('queued');
  const sent = await waitFor(
    async () => {
      const seen = jobSchema.parse((await other.agent.get(`/api/jobs/${job.job_id}`)).body);
      return seen.status === 'pending' ? seen : undefined;
    },
    { message: 'the holder to send the job' },
  );
  expect(sent.job_id).toBe(job.job_id);
  expect(submissions).toBe(1);
  expect(holder.store.get(job.job_id)?.upstreamId).toBe('upstream-1');
});

test('the instance without the lease refuses at once when the holder has seen every account go down', async () => {
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, () =>
      HttpResponse.json({ error: { message: 'invalid key' } }, { status: 401 }),
    ),
  );
  const [holder, other] = await twoInstances();
  await holder.agent.post('/api/imagine').send({ prompt: 'refused by the upstream' });
  await waitFor(async () => (await other.agent.get('/api/accounts')).body.accounts?.[0]?.state === 'down', {
    message: "the holder's view to show the account down",
  });

  const response = await other.agent.post('/api/imagine').send({ prompt: 'never sent' });

  expect(response.status).toBe(502);
  expect(response.body.error.message).toMatch(/No account that can run this job is in rotation/);
  const listed = await other.agent.get('/api/jobs');
  expect(listed.body.jobs.map((listedJob: { prompt: string }) => listedJob.prompt)).not.toContain('never sent');
});

test('GET /api/budget on the instance without the lease shows the calls the holder spent', async () => {
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ job_id: 'upstream-2', status: 'pending' })),
  );
  const [holder, other] = await twoInstances();
  await holder.agent.post('/api/imagine').send({ prompt: 'one call' }).expect(202);

  const budget = await waitFor(
    async () => {
      const body = (await other.agent.get('/api/budget')).body;
      return body.used >= 1 ? body : undefined;
    },
    { message: "the holder's spending to show on the other instance" },
  );

  expect(budget).toMatchObject({ used: 1, queue_length: 0 });
});

test('an instance shutting down lets the lease go, and the other takes over well before it would expire', async () => {
  const [holder, other] = await twoInstances();
  const stoppedAt = Date.now();

  holder.scheduler.stop();

  await waitFor(() => other.scheduler instanceof SharedScheduler && other.scheduler.leading, {
    message: 'the other instance to take over',
    timeoutMs: 5_000,
  });
  // The lease lasts 5 s: taken over sooner, it was let go, not left to run out.
  expect(Date.now() - stoppedAt).toBeLessThan(2_500);
  expect(holder.scheduler instanceof SharedScheduler && holder.scheduler.leading).toBe(false);
});

test('a holder that loses the lease mid-submission still confirms it: the successor does not fail it', async () => {
  let submissions = 0;
  // The upstream answers only once the other instance has taken over (within the time-out).
  let answer: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async () => {
      submissions += 1;
      await answered;
      return HttpResponse.json({ job_id: 'upstream-slow', status: 'pending' });
    }),
  );
  const [holder, other, prefix] = await twoInstances();
  // supertest sends once asked for the answer: `then` starts it now.
  const submitted = holder.agent
    .post('/api/imagine')
    .send({ prompt: 'sent while the lease moves' })
    .then((response) => response);
  await waitFor(() => submissions === 1, { message: 'the submission to be on its way' });

  // Another instance's lease now, as after a stall of the holder: it steps down, and once
  // this one runs out the other instance takes over with the submission still in flight.
  await redis.set(`${prefix}lease:scheduler`, 'someone-else', 'PX', 300);
  await waitFor(() => other.scheduler instanceof SharedScheduler && other.scheduler.leading, {
    message: 'the other instance to take over',
    timeoutMs: 1_900,
  });
  expect(holder.scheduler instanceof SharedScheduler && holder.scheduler.leading).toBe(false);
  answer();
  const response = await submitted;

  const job = jobSchema.parse(response.body);
  const kept = await waitFor(
    () => {
      const record = other.store.get(job.job_id);
      return record?.status === 'pending' ? record : undefined;
    },
    { message: 'the job confirmed, not failed' },
  );
  expect(kept.upstreamId).toBe('upstream-slow');
  expect(submissions).toBe(1);
}, 15_000);
