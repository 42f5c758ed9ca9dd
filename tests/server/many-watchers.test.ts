import { type Job, jobSchema } from '@shared/schemas/job';
import { HttpResponse, http } from 'msw';
import { afterEach, expect, test, vi } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();
afterEach(() => vi.useRealTimers());

test('50 clients polling one running job cause only the scheduled upstream calls', async () => {
  // The scheduler's timers and the upstream's clock are fake: the clients poll every 50 ms of
  // fake time, and only the test moves it, so no poll and no planned check ever sleeps.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const { agent, scheduler } = await buildTestApp({ expectedDurationMs: 400, minGapMs: 100 });
  scheduler.start();
  const startedAt = Date.now();
  const statusCalls: number[] = [];
  server.use(
    http.get(`${UPSTREAM_BASE}/jobs/:jobId`, () => {
      statusCalls.push(Date.now());
      const share = (Date.now() - startedAt) / 500;
      return share >= 1
        ? HttpResponse.json({ status: 'complete', image_url: 'https://cdn.mj.test/images/x.png' })
        : HttpResponse.json({ status: 'processing', progress: Math.round(share * 100) });
    }),
  );
  const id = await submitJob(agent);
  let polls = 0;
  let seen: Job[] = [];

  // Each round all 50 clients poll at once, then 50 ms pass; 80 rounds are 4 s, eight times the job.
  for (let round = 0; round < 80; round++) {
    seen = await Promise.all(
      Array.from({ length: 50 }, async () => jobSchema.parse((await agent.get(`/api/jobs/${id}`)).body)),
    );
    polls += seen.length;
    if (seen.every((job) => job.status === 'complete')) break;
    await vi.advanceTimersByTimeAsync(50);
  }
  scheduler.stop();

  expect(seen.every((job) => job.status === 'complete' && job.image_url)).toBe(true);
  expect(polls).toBeGreaterThanOrEqual(100);
  expect(statusCalls.length).toBeGreaterThanOrEqual(1);
  expect(statusCalls.length).toBeLessThanOrEqual(3);
});
