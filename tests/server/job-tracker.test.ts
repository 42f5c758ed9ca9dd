import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { JobTracker } from '../../server/src/jobs/job-tracker';
import { createLogger } from '../../server/src/logger';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const options = { jobIntervalMs: 2_000, spacingMs: 1_100, idleMs: 500 };
const silent = createLogger({ level: 'silent' });

function countStatusCalls() {
  const calls: string[] = [];
  server.events.on('request:start', ({ request }) => {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.href.startsWith(`${UPSTREAM_BASE}/jobs/`)) calls.push(url.pathname);
  });
  return calls;
}

test('the tracker refreshes the job checked longest ago, and only jobs that are due', async () => {
  const { agent, jobs, store } = buildTestApp();
  let upstreamId = 0;
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ job_id: `up_${++upstreamId}`, status: 'pending' })),
    http.get(`${UPSTREAM_BASE}/jobs/:jobId`, () => HttpResponse.json({ status: 'processing', progress: 10 })),
  );
  await submitJob(agent, 'first');
  await submitJob(agent, 'second');
  const tracker = new JobTracker(jobs, store, silent, options);
  const calls = countStatusCalls();
  const now = Date.now();

  const notDue = await tracker.step(now);
  const firstStep = await tracker.step(now + 2_500);
  const secondStep = await tracker.step(now + 2_600);

  expect(notDue).toBe(options.idleMs);
  expect([firstStep, secondStep]).toEqual([options.spacingMs, options.spacingMs]);
  expect(calls).toEqual(['/v1/jobs/up_1', '/v1/jobs/up_2']);
});

test('the tracker pauses for the Retry-After of an upstream 429', async () => {
  const { agent, jobs, store } = buildTestApp();
  await submitJob(agent);
  server.use(
    http.get(
      `${UPSTREAM_BASE}/jobs/:jobId`,
      () => new HttpResponse(null, { status: 429, headers: { 'Retry-After': '7' } }),
    ),
  );
  const tracker = new JobTracker(jobs, store, silent, options);

  const wait = await tracker.step(Date.now() + 5_000);

  expect(wait).toBe(7_000);
});

test('the tracker never asks about a finished job again', async () => {
  const { agent, jobs, store } = buildTestApp();
  const id = await submitJob(agent);
  await jobs.refresh(id);
  const tracker = new JobTracker(jobs, store, silent, options);
  const calls = countStatusCalls();

  await tracker.step(Date.now() + 60_000);

  expect(store.get(id)?.status).toBe('complete');
  expect(calls).toEqual([]);
});

test('at start-up a submission the upstream never confirmed is marked failed with a reason', () => {
  const { jobs, store } = buildTestApp();
  store.insert({ id: 'interrupted', ownerId: 'o', prompt: 'p', aspectRatio: '1:1', quality: 'standard', createdAt: 1 });

  const count = jobs.recoverInterrupted();

  expect(count).toBe(1);
  expect(store.get('interrupted')).toMatchObject({
    status: 'failed',
    error: expect.stringMatching(/server stopped before the upstream confirmed/),
  });
});
