// The simulator's push side over real loopback HTTP: signed v7 webhooks and relay notifyHook
// task JSON, at start, half-way and end, some late (out of order) or repeated, on purpose.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterEach, expect, onTestFinished, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { type RunningSimulator, startSimulator } from '../../server/src/simulator/server';
import { sqliteSimPersistence } from '../../server/src/simulator/sim-store';
import { createV7Adapter } from '../../server/src/upstream/v7-adapter';
import { verify, type WebhookHeaders } from '../../server/src/webhooks/standard-webhooks';
import { buildTestApp, submitJob } from '../server/helpers';
import { waitFor } from '../support/wait';

interface Delivery {
  path: string;
  headers: WebhookHeaders;
  body: Buffer;
}

let simulator: RunningSimulator | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await simulator?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve) ?? resolve(undefined));
  simulator = undefined;
  receiver = undefined;
});

async function listen(): Promise<{ base: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const app = express();
  app.post('/*path', express.raw({ type: () => true }), (req, res) => {
    deliveries.push({
      path: req.path,
      headers: {
        id: req.get('webhook-id'),
        timestamp: req.get('webhook-timestamp'),
        signature: req.get('webhook-signature'),
      },
      body: req.body as Buffer,
    });
    res.status(204).end();
  });
  receiver = await new Promise<Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  return { base: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`, deliveries };
}

// Short jobs: 100 ms queued, 400 ms rendering, real time.
const config = (apiKey: string) => simulatorConfig({ apiKey, queueMs: 100, renderMs: 400, jitter: 0, failureRate: 0 });

test('v7: each job is announced at start, half-way and end, each delivery signed with the secret', async () => {
  const { base, deliveries } = await listen();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  simulator = await startSimulator(config('k'), {
    notify: { v7: { url: `${base}/hooks/v7`, secret }, lateShare: 0, duplicateShare: 0, lateByMs: 0 },
  });
  const response = await fetch(`${simulator.baseUrl}/imagine`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a harbour at night' }),
  });
  const { job_id: id } = (await response.json()) as { job_id: string };

  await waitFor(() => deliveries.length === 3, { message: 'three deliveries', timeoutMs: 3_000 });
  const bodies = deliveries.map((delivery) => JSON.parse(delivery.body.toString('utf8')));

  expect(bodies.map((body) => body.status)).toEqual(['processing', 'processing', 'complete']);
  expect(bodies.every((body) => body.job_id === id)).toBe(true);
  expect(bodies[2].image_url).toBe(`${simulator.baseUrl}/images/${id}.png`);
  for (const delivery of deliveries) {
    expect(delivery.path).toBe('/hooks/v7');
    expect(verify(secret, delivery.headers, delivery.body)).toMatchObject({ ok: true, id: delivery.headers.id });
    expect(verify(`whsec_${randomBytes(24).toString('base64')}`, delivery.headers, delivery.body).ok).toBe(false);
  }
  expect(new Set(deliveries.map((delivery) => delivery.headers.id)).size).toBe(3);
});

test('v7: a repeated delivery keeps its webhook-id; a late one arrives after the later news', async () => {
  const { base, deliveries } = await listen();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  // Draws per notice: [late?, duplicate?]. The start notice is late, the end one doubled.
  const draws = [0, 0.9, 0.9, 0.9, 0.9, 0];
  simulator = await startSimulator(config('k'), {
    notify: {
      v7: { url: `${base}/hooks/v7`, secret },
      lateShare: 0.5,
      duplicateShare: 0.5,
      lateByMs: 1_000,
      random: () => draws.shift() ?? 0.9,
    },
  });
  await fetch(`${simulator.baseUrl}/imagine`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a harbour at night' }),
  });

  await waitFor(() => deliveries.length === 4, { message: 'four deliveries', timeoutMs: 3_000 });
  const seen = deliveries.map((delivery) => ({
    id: delivery.headers.id,
    progress: JSON.parse(delivery.body.toString('utf8')).progress as number,
  }));

  // Half-way, end, end again (same id), then the start notice, late.
  expect(seen.map((entry) => entry.progress)).toEqual([seen[0]?.progress, 100, 100, seen[3]?.progress]);
  expect(seen[1]?.id).toBe(seen[2]?.id);
  expect(seen[3]?.progress).toBeLessThan(seen[0]?.progress ?? 0);
});

test.each(['setTarget', 'the old assignment to the options'])(
  'v7: a target named after start through %s receives every notice',
  async (way) => {
    const { base, deliveries } = await listen();
    const notify = { v7: { url: '', secret: 'whsec_a2V5' }, lateShare: 0, duplicateShare: 0, lateByMs: 0 };
    simulator = await startSimulator(config('k'), { notify });
    if (way === 'setTarget') simulator.notifier?.setTarget({ v7Url: `${base}/hooks/v7` });
    else notify.v7.url = `${base}/hooks/v7`;

    await fetch(`${simulator.baseUrl}/imagine`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a harbour at night' }),
    });

    await waitFor(() => deliveries.length === 3, { message: 'three deliveries', timeoutMs: 3_000 });
    expect(deliveries.map((delivery) => delivery.path)).toEqual(['/hooks/v7', '/hooks/v7', '/hooks/v7']);
  },
);

test('after a restart, resume names the v7 target and announces the jobs still running', async () => {
  const { base, deliveries } = await listen();
  const dir = mkdtempSync(path.join(tmpdir(), 'mj-sim-notifier-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'simulator.sqlite');
  const notify = () => ({ v7: { url: '', secret: 'whsec_a2V5' }, lateShare: 0, duplicateShare: 0, lateByMs: 0 });
  const before = await startSimulator(config('k'), {
    deps: { persistence: sqliteSimPersistence(file) },
    notify: notify(),
  });
  const response = await fetch(`${before.baseUrl}/imagine`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a harbour at night' }),
  });
  const { job_id: id } = (await response.json()) as { job_id: string };
  await before.close();

  simulator = await startSimulator(config('k'), {
    deps: { persistence: sqliteSimPersistence(file) },
    notify: notify(),
  });
  simulator.notifier?.resume({ v7Url: `${base}/hooks/v7` });

  await waitFor(() => deliveries.length === 3, { message: 'three deliveries', timeoutMs: 3_000 });
  const bodies = deliveries.map((delivery) => JSON.parse(delivery.body.toString('utf8')));
  expect(bodies.every((body) => body.job_id === id)).toBe(true);
  expect(bodies[2].status).toBe('complete');
  expect(deliveries.every((delivery) => delivery.path === '/hooks/v7')).toBe(true);
});

test('relay: the notifyHook receives the whole task as midjourney-proxy sends it, relay statuses included', async () => {
  const { base, deliveries } = await listen();
  simulator = await startSimulator(config('secret'), { notify: { lateShare: 0, duplicateShare: 0, lateByMs: 0 } });
  const relay = simulator.baseUrl.replace(/\/v1$/, '/mj');
  const response = await fetch(`${relay}/submit/imagine`, {
    method: 'POST',
    headers: { 'mj-api-secret': 'secret', 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a harbour at night --ar 16:9', notifyHook: `${base}/hooks/mj-proxy/token` }),
  });
  const { result: id } = (await response.json()) as { result: string };

  await waitFor(() => deliveries.length === 3, { message: 'three deliveries', timeoutMs: 3_000 });
  const tasks = deliveries.map((delivery) => JSON.parse(delivery.body.toString('utf8')));

  expect(deliveries.every((delivery) => delivery.path === '/hooks/mj-proxy/token')).toBe(true);
  expect(deliveries.every((delivery) => delivery.headers.signature === undefined)).toBe(true);
  expect(tasks.map((task) => task.status)).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'SUCCESS']);
  expect(tasks[2]).toMatchObject({
    id,
    action: 'IMAGINE',
    progress: '100%',
    imageUrl: `${simulator.baseUrl}/images/${id}.png`,
  });
  expect(tasks[1].progress).toMatch(/^\d{1,2}%$/);
});

test('end to end: signed webhooks finish jobs in our server with no status call at all', async () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  simulator = await startSimulator(config('k'), {
    notify: { v7: { url: '', secret }, lateShare: 0.3, duplicateShare: 0.3, lateByMs: 300 },
  });
  const statusCalls: string[] = [];
  const baseUrl = simulator.baseUrl;
  const setup = await buildTestApp({
    webhookSecret: secret,
    upstream: (_configured, http) => {
      const inner = createV7Adapter({ baseUrl, apiKey: 'k', http });
      return {
        ...inner,
        getJob: (id) => {
          statusCalls.push(id);
          return inner.getJob(id);
        },
      };
    },
  });
  receiver = await new Promise<Server>((resolve) => {
    const server = setup.app.listen(0, '127.0.0.1', () => resolve(server));
  });
  const ours = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  simulator.notifier?.setTarget({ v7Url: `${ours}/hooks/v7` });
  const ids = [];
  for (const prompt of ['a harbour at night', 'a quiet bay', 'fog over a pier'])
    ids.push(await submitJob(setup.agent, prompt));

  await waitFor(
    async () => {
      const { body } = await setup.agent.get('/api/jobs');
      const statuses = body.jobs.map((job: { status: string }) => job.status);
      return statuses.length === 3 && statuses.every((status: string) => status === 'complete');
    },
    { message: 'the three jobs to be complete', timeoutMs: 5_000 },
  );
  setup.scheduler.stop();
  const image = await setup.agent.get(String((await setup.agent.get(`/api/jobs/${ids[0]}`)).body.image_url));

  expect(statusCalls).toEqual([]);
  expect(image.status).toBe(200);
  expect(image.headers['content-type']).toBe('image/png');
});
