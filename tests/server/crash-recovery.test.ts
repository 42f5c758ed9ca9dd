// The real server as a child process in simulator mode, killed with SIGKILL while jobs
// render, then started again on the same DATA_DIR: every job must finish with its image.
import path from 'node:path';
import { jobListSchema } from '@shared/schemas/job';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
import { type ServerProcess, startServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { tempDir } from './helpers';

let running: ServerProcess | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const settings = (dataDir: string) => ({
  DATA_DIR: dataDir,
  SIM_TIME_FACTOR: '0.5',
  SIM_RATE_LIMIT: '1000',
  BUDGET_PER_MINUTE: '1000',
  MIN_CHECK_GAP_MS: '200',
});

test('jobs running when the server is killed with SIGKILL all finish with images after a restart', async () => {
  const dataDir = tempDir('mj-crash-');
  running = await startServerProcess(settings(dataDir));
  const cookie = String((await fetch(`${running.baseUrl}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';
  const headers = { cookie, 'content-type': 'application/json' };
  const submitted: string[] = [];
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${running.baseUrl}/api/imagine`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt: `crash test ${i}`, aspect_ratio: '4:3' }),
    });
    expect(response.status).toBe(202);
    submitted.push(String(((await response.json()) as { job_id: string }).job_id));
  }

  // Mid-generation: every submission confirmed by the upstream, none done. The API shows a job
  // whose submission is still in flight as "pending" too, so ask the store itself: a job killed
  // mid-submission is (rightly) failed after the restart, since nobody knows if it was accepted.
  const database = new Database(path.join(dataDir, 'jobs.sqlite'), { readonly: true, fileMustExist: true });
  try {
    await waitFor(
      () => {
        const rows = database.prepare('SELECT status FROM jobs').all() as { status: string }[];
        return rows.length === 5 && rows.every((row) => row.status === 'pending' || row.status === 'processing');
      },
      { message: 'the five jobs to be sent and none done', timeoutMs: 30_000 },
    );
  } finally {
    database.close();
  }
  await running.kill();
  running = await startServerProcess(settings(dataDir));
  const baseUrl = running.baseUrl;
  const listAll = async () =>
    jobListSchema.parse(await (await fetch(`${baseUrl}/api/jobs?limit=100`, { headers })).json()).jobs;
  const beforeFinish = await listAll();
  let lastSeen: unknown[] = [];
  const finished = await waitFor(
    async () => {
      const jobs = await listAll();
      lastSeen = jobs.map(({ status, progress, error }) => ({ status, progress, error }));
      return jobs.every((job) => job.status === 'complete') && jobs;
    },
    { message: 'every job to finish after the restart', timeoutMs: 60_000 },
  ).catch((error: unknown) => {
    throw new Error(`Not all jobs finished: ${JSON.stringify(lastSeen)}`, { cause: error });
  });
  const images = await Promise.all(
    finished.map(async (job) => {
      const response = await fetch(`${baseUrl}${job.image_url}`, { headers });
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        bytes: (await response.arrayBuffer()).byteLength,
      };
    }),
  );

  expect(beforeFinish.map((job) => job.job_id).sort()).toEqual([...submitted].sort());
  expect(beforeFinish.some((job) => job.status !== 'complete')).toBe(true);
  expect(finished.map((job) => job.job_id).sort()).toEqual([...submitted].sort());
  for (const image of images) {
    expect(image).toMatchObject({ status: 200, type: 'image/png' });
    expect(image.bytes).toBeGreaterThan(10_000);
  }
  expect(running.logs.some((line) => line.includes('recovered jobs from the previous run'))).toBe(true);
}, 120_000);

test('the server stops cleanly on SIGTERM', async () => {
  const server = await startServerProcess({ DATA_DIR: tempDir('mj-stop-') });

  const code = await server.stop();

  expect(code).toBe(0);
  expect(server.logs.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
});

test('the server generates images through the simulator spoken to as a midjourney-proxy relay', async () => {
  running = await startServerProcess({
    DATA_DIR: tempDir('mj-relay-'),
    SIM_PROTOCOL: 'mj-proxy',
    MIN_CHECK_GAP_MS: '100',
  });
  const baseUrl = running.baseUrl;
  const cookie = String((await fetch(`${baseUrl}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';
  const headers = { cookie, 'content-type': 'application/json' };

  const submitted = await fetch(`${baseUrl}/api/imagine`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ prompt: 'a relay test at dusk', aspect_ratio: '16:9' }),
  });
  const { job_id: id } = (await submitted.json()) as { job_id: string };
  const refused = await fetch(`${baseUrl}/api/imagine`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ prompt: 'gore' }),
  });
  const done = await waitFor(
    async () => {
      const job = (await (await fetch(`${baseUrl}/api/jobs/${id}`, { headers })).json()) as {
        status: string;
        image_url?: string;
      };
      return job.status === 'complete' && job;
    },
    { message: 'the relay job to be complete', timeoutMs: 60_000 },
  );
  const image = await fetch(`${baseUrl}${done.image_url}`, { headers });

  expect(submitted.status).toBe(202);
  expect(refused.status).toBe(422);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
    'The prompt was refused: banned word "gore"',
  );
  expect(image.headers.get('content-type')).toBe('image/png');
}, 120_000);
