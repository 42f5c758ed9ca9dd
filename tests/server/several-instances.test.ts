// Three real server processes behind one proxy, sharing PostgreSQL, Redis, one DATA_DIR and one
// upstream (the simulator, which counts every call). Load goes through all of them; the one
// that schedules is killed with SIGKILL mid-run. Nothing may be lost, stuck, sent twice, or
// go over the account's limit in any sliding window, counted where the upstream receives it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jobSchema } from '@shared/schemas/job';
import { afterEach, expect, test } from 'vitest';
import { type Cluster, startCluster } from '../support/instances';
import { waitFor } from '../support/wait';
import { busiestWindow } from '../support/windows';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** The simulator's clock runs at this share of real time: a minute of budget is 12 s. */
const TIME_FACTOR = 0.2;
const LIMIT = 60;
const WINDOW_MS = 60_000 * TIME_FACTOR;
const JOBS = 60;
const FINAL = new Set(['complete', 'failed', 'cancelled']);
const INTERRUPTED = /stopped before the upstream confirmed this submission/;

test('three instances share one history and one budget; SIGKILL of the scheduling one loses nothing', async () => {
  cluster = await startCluster({
    instances: 3,
    push: true,
    simulator: { timeFactor: TIME_FACTOR, rateLimit: LIMIT },
    env: {
      BUDGET_PER_MINUTE: String(LIMIT),
      BUDGET_WINDOW_MS: String(WINDOW_MS),
      MIN_CHECK_GAP_MS: '200',
      EXPECTED_JOB_MS: String(7_200 * TIME_FACTOR),
      SUBMIT_QUEUE_MAX: '200',
      // A submission the killed instance had in flight is failed once no call can be on its way.
      UPSTREAM_TIMEOUT_MS: '2000',
    },
  });
  const { url } = cluster;
  const cookie = String((await fetch(`${url}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';
  const headers = { cookie, 'content-type': 'application/json' };
  const leader = await waitFor(() => cluster?.leader(), {
    message: 'an instance to take the lease',
    timeoutMs: 15_000,
  });

  // Arrange: jobs arrive through every instance in turn, more than the budget sends at once.
  const submit = async (n: number) => {
    const response = await fetch(`${url}/api/imagine`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt: `several instances job ${n}` }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    return jobSchema.parse(await response.json()).job_id;
  };
  const ids: string[] = [];
  for (let n = 0; n < JOBS / 2; n++) ids.push(await submit(n));

  // Act: the scheduling instance dies mid-run, with jobs queued, being sent and rendering.
  const unfinished = await waitFor(
    async () => {
      const list = (await (await fetch(`${url}/api/jobs?limit=100`, { headers })).json()) as {
        jobs: { status: string }[];
      };
      const done = list.jobs.filter((job) => job.status === 'complete').length;
      return done >= 5 ? list.jobs.filter((job) => !FINAL.has(job.status)).length : undefined;
    },
    { message: 'a few jobs to finish before the kill', timeoutMs: 30_000 },
  );
  await leader.kill();
  // Mid-run indeed: most of the first half still queued or rendering when it died.
  expect(unfinished).toBeGreaterThanOrEqual(10);
  for (let n = JOBS / 2; n < JOBS; n++) ids.push(await submit(n));
  const successor = await waitFor(() => cluster?.leader(), {
    message: 'another instance to take over',
    timeoutMs: 15_000,
  });

  // Assert: every job ends, whichever instance is asked.
  const jobs = await waitFor(
    async () => {
      const all = await Promise.all(
        ids.map(async (id) => jobSchema.parse(await (await fetch(`${url}/api/jobs/${id}`, { headers })).json())),
      );
      return all.every((job) => FINAL.has(job.status)) ? all : undefined;
    },
    { message: 'every job to end', timeoutMs: 90_000, intervalMs: 500 },
  );
  expect(successor.name).not.toBe(leader.name);
  const failed = jobs.filter((job) => job.status !== 'complete');
  // Only a submission in flight on the killed instance may be lost to the kill, and it says so.
  for (const job of failed) expect(job.error ?? '').toMatch(INTERRUPTED);
  expect(failed.length).toBeLessThanOrEqual(2);
  expect(jobs.filter((job) => job.status === 'complete').length).toBeGreaterThanOrEqual(JOBS - 2);
  // The same job, with its image, from each surviving instance directly.
  const survivors = cluster.instances.filter((instance) => instance.alive);
  expect(survivors).toHaveLength(2);
  const sample = jobs.find((job) => job.status === 'complete');
  for (const instance of survivors) {
    const seen = jobSchema.parse(
      await (await fetch(`${instance.baseUrl}/api/jobs/${sample?.job_id}`, { headers })).json(),
    );
    expect(seen).toEqual(expect.objectContaining({ status: 'complete', image_url: sample?.image_url }));
    const image = await fetch(`${instance.baseUrl}${sample?.image_url}`, { headers });
    expect(image.status).toBe(200);
  }
  // No prompt reached the upstream twice, and no sliding window saw more than the limit.
  const repeated = [...cluster.submissions].filter(([, times]) => times > 1);
  expect(repeated).toEqual([]);
  expect(cluster.submissions.size).toBeGreaterThanOrEqual(JOBS - 2);
  expect(busiestWindow(cluster.calls, WINDOW_MS)).toBeLessThanOrEqual(LIMIT);
  expect(cluster.refused()).toBe(0);
}, 240_000);

test('a relay client is served by whichever instance it reaches: its hook hears every change, its window opens on one and is confirmed on another', async () => {
  // The client's own hook receiver, on loopback (allowed by NOTIFY_HOOK_ALLOW).
  const notices: { id: string; status: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const task = JSON.parse(body) as { id: string; status: string };
      notices.push({ id: task.id, status: task.status });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  try {
    cluster = await startCluster({
      instances: 2,
      relay: true,
      simulator: { timeFactor: TIME_FACTOR, rateLimit: 1_000 },
      env: {
        BUDGET_PER_MINUTE: '1000',
        MIN_CHECK_GAP_MS: '200',
        EXPECTED_JOB_MS: String(7_200 * TIME_FACTOR),
        NOTIFY_HOOK_ALLOW: '127.0.0.1',
      },
    });
    const { url } = cluster;
    const holder = await waitFor(() => cluster?.leader(), {
      message: 'an instance to take the lease',
      timeoutMs: 15_000,
    });
    const other = cluster.instances.find((instance) => instance !== holder);
    const headers = { 'content-type': 'application/json' };
    const post = async (path: string, body: object, base = url) =>
      (await (
        await fetch(`${base}/mj${path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ ...body, notifyHook: hook }),
        })
      ).json()) as { code: number; result: string };
    const finished = (id: string) =>
      waitFor(
        async () => {
          const task = (await (await fetch(`${url}/mj/task/${id}/fetch`)).json()) as {
            status: string;
            buttons: { customId: string; label: string }[];
          };
          return task.status === 'SUCCESS' ? task : undefined;
        },
        { message: `task ${id} to succeed`, timeoutMs: 30_000, intervalMs: 200 },
      );

    // Taken by the instance that does not schedule: the holder applies every change to it.
    const imagine = await post('/submit/imagine', { prompt: 'a harbour at night' }, other?.baseUrl);
    expect(imagine.code).toBe(1);
    const grid = await finished(imagine.result);
    const upscale = await post('/submit/action', {
      taskId: imagine.result,
      customId: grid.buttons.find((button) => button.label === 'U1')?.customId,
    });
    const upscaled = await finished(upscale.result);
    const zoom = upscaled.buttons.find((button) => button.label === 'Custom Zoom')?.customId;
    // The window opens through one instance and is confirmed through the other.
    const window = await post('/submit/action', { taskId: upscale.result, customId: zoom }, holder.baseUrl);
    expect(window.code).toBe(21);
    const confirmed = await post(
      '/submit/modal',
      { taskId: Number(window.result), prompt: 'wider --zoom 1.5' },
      other?.baseUrl,
    );
    expect(confirmed.code).toBe(1);
    await finished(confirmed.result);

    // Every task's hook heard its end, though the holder, not always the instance that took
    // the task (never for the first), applied it.
    await waitFor(
      () =>
        [imagine.result, upscale.result, confirmed.result].every((id) =>
          notices.some((notice) => notice.id === id && notice.status === 'SUCCESS'),
        ),
      { message: 'each task’s hook to hear SUCCESS', timeoutMs: 10_000 },
    );
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
}, 120_000);
