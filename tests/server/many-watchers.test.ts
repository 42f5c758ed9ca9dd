import { jobSchema } from '@shared/schemas/job';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

test('50 clients polling one running job cause only the scheduled upstream calls', async () => {
  const { agent, scheduler } = buildTestApp({ expectedDurationMs: 400, minGapMs: 100 });
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

  const watchers = Array.from({ length: 50 }, async () => {
    for (;;) {
      const job = jobSchema.parse((await agent.get(`/api/jobs/${id}`)).body);
      polls += 1;
      if (job.status === 'complete') return job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  const seen = await Promise.all(watchers);
  scheduler.stop();

  expect(seen.every((job) => job.status === 'complete' && job.image_url)).toBe(true);
  expect(polls).toBeGreaterThanOrEqual(100);
  expect(statusCalls.length).toBeGreaterThanOrEqual(1);
  expect(statusCalls.length).toBeLessThanOrEqual(3);
});
