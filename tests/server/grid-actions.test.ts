// Grid actions (upscale, variation, reroll) through the API against an msw-mocked relay, and
// the relay's in-progress preview served through our own URL.
import { HttpResponse, http } from 'msw';
import { afterEach, expect, test, vi } from 'vitest';
import { server } from '../mocks/node';
import { CDN_BASE, tinyPng } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const RELAY = 'https://relay.test/mj';
const SECRET = 'relay-secret-4b8e1f';

/** A relay whose tasks are all finished grids unless a test says otherwise. */
function relay() {
  const changes: unknown[] = [];
  const tasks = new Map<string, Record<string, unknown>>();
  let next = 0;
  const done = (id: string) => ({ id, status: 'SUCCESS', progress: '100%', imageUrl: `${CDN_BASE}/images/${id}.png` });
  server.use(
    http.post(`${RELAY}/submit/imagine`, () => {
      next += 1;
      return HttpResponse.json({ code: 1, description: 'ok', result: `grid-${next}` });
    }),
    http.post(`${RELAY}/submit/change`, async ({ request }) => {
      changes.push(await request.json());
      next += 1;
      return HttpResponse.json({ code: 1, description: 'ok', result: `child-${next}` });
    }),
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) =>
      HttpResponse.json(tasks.get(String(params.id)) ?? done(String(params.id))),
    ),
  );
  return { changes, tasks };
}

const apps: Awaited<ReturnType<typeof buildTestApp>>[] = [];
// A job queued for budget is sent by the scheduler's timer: stop it before the next test.
afterEach(() => {
  for (const setup of apps.splice(0)) setup.scheduler.stop();
  vi.useRealTimers();
});

async function relayApp() {
  const setup = await buildTestApp({ relay: { baseUrl: RELAY, secret: SECRET } });
  apps.push(setup);
  return setup;
}

async function finishedGrid(setup: Awaited<ReturnType<typeof relayApp>>) {
  const id = await submitJob(setup.agent, 'a glacier lake');
  await setup.jobs.refresh(id);
  return id;
}

test('a finished grid offers the relay actions; upscaling one image makes a linked job that finishes', async () => {
  const { changes } = relay();
  const setup = await relayApp();
  const gridId = await finishedGrid(setup);

  const grid = await setup.agent.get(`/api/jobs/${gridId}`);
  const response = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'upscale', index: 2 });
  const childId = String(response.body.job_id);
  await setup.jobs.refresh(childId);
  const child = await setup.agent.get(`/api/jobs/${childId}`);
  const list = await setup.agent.get('/api/jobs');

  // The relay shows no buttons: a grid offers what /submit/change does, image by image.
  expect(grid.body.available_actions).toEqual([
    ...[1, 2, 3, 4].map((index) => ({ action: 'upscale', index })),
    ...[1, 2, 3, 4].map((index) => ({ action: 'variation', index })),
    { action: 'reroll' },
  ]);
  expect(response.status).toBe(202);
  expect(response.headers.location).toBe(`/api/jobs/${childId}`);
  expect(response.body).toMatchObject({
    parent_id: gridId,
    action: 'upscale',
    action_index: 2,
    prompt: 'a glacier lake',
  });
  expect(changes).toEqual([{ taskId: 'grid-1', action: 'UPSCALE', index: 2 }]);
  expect(child.body).toMatchObject({ status: 'complete', parent_id: gridId, action: 'upscale', action_index: 2 });
  expect(child.body.image_url).toMatch(/^\/api\/images\//);
  // An upscale is one image, not a grid: nothing more to do with it here.
  expect(child.body.available_actions).toBeUndefined();
  expect(list.body.jobs.map((job: { job_id: string }) => job.job_id)).toEqual([childId, gridId]);
});

test('variation names its image; reroll sends no index; both carry the grid prompt and format', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const { changes } = relay();
  const setup = await relayApp();
  const response = await setup.agent
    .post('/api/imagine')
    .send({ prompt: 'dunes', aspect_ratio: '9:16', quality: 'high' });
  const gridId = String(response.body.job_id);
  await setup.jobs.refresh(gridId);

  const variation = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'variation', index: 4 });
  const reroll = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'reroll' });

  expect(variation.status).toBe(202);
  expect(reroll.status).toBe(202);
  // Three calls in a row exceed the budget's burst: the reroll may wait its turn in the queue,
  // which the scheduler's timer sends within a second (1,000 calls a minute, 2 at a time).
  await vi.advanceTimersByTimeAsync(1_000);
  expect(changes).toEqual([
    { taskId: 'grid-1', action: 'VARIATION', index: 4 },
    { taskId: 'grid-1', action: 'REROLL' },
  ]);
  for (const job of [variation.body, reroll.body]) {
    expect(job).toMatchObject({ parent_id: gridId, prompt: 'dunes', aspect_ratio: '9:16', quality: 'high' });
  }
  expect(reroll.body.action_index).toBeUndefined();
});

test.each([
  [{ action: 'upscale' }, 'index'],
  [{ action: 'upscale', index: 5 }, 'index'],
  [{ action: 'variation', index: 0 }, 'index'],
  [{ action: 'upscale', index: 1.5 }, 'index'],
  [{ action: 'reroll', index: 1 }, ''],
  [{ action: 'zoom', index: 1 }, 'action'],
  [{}, 'action'],
])('a malformed action %j is a 400 and sends nothing', async (body, field) => {
  const { changes } = relay();
  const setup = await relayApp();
  const gridId = await finishedGrid(setup);

  const response = await setup.agent.post(`/api/jobs/${gridId}/actions`).send(body);

  expect(response.status).toBe(400);
  expect(response.body.error.code).toBe('invalid_request');
  if (field) expect(response.body.error.fields.map((f: { path: string }) => f.path)).toContain(field);
  expect(changes).toEqual([]);
  expect((await setup.agent.get('/api/jobs')).body.jobs).toHaveLength(1);
});

test('actions need a finished grid of this owner: running, upscaled, foreign and unknown jobs are refused', async () => {
  const { tasks } = relay();
  const setup = await relayApp();
  const gridId = await finishedGrid(setup);
  const upscale = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'upscale', index: 1 });
  await setup.jobs.refresh(String(upscale.body.job_id));
  tasks.set('grid-3', { id: 'grid-3', status: 'IN_PROGRESS', progress: '40%', imageUrl: '' });
  const runningId = await submitJob(setup.agent, 'still rendering');
  await setup.jobs.refresh(runningId);
  const stranger = (await buildTestApp()).agent;
  await stranger.get('/api/jobs');

  const onRunning = await setup.agent.post(`/api/jobs/${runningId}/actions`).send({ action: 'reroll' });
  const onUpscale = await setup.agent
    .post(`/api/jobs/${String(upscale.body.job_id)}/actions`)
    .send({ action: 'variation', index: 1 });
  const unknown = await setup.agent.post('/api/jobs/nope/actions').send({ action: 'reroll' });
  const badId = await setup.agent.post('/api/jobs/..%2Fx/actions').send({ action: 'reroll' });
  const foreign = await stranger.post(`/api/jobs/${gridId}/actions`).send({ action: 'reroll' });

  expect(onRunning.status).toBe(409);
  expect(onRunning.body.error.message).toMatch(
    /^Actions need a finished job; this one is (queued|pending|processing)$/,
  );
  expect(onUpscale.status).toBe(409);
  // The relay's upscale showed no buttons, and a single image has no grid to vary.
  expect(onUpscale.body.error.message).toBe('This job offers no actions');
  expect(unknown.status).toBe(404);
  expect(badId.status).toBe(400);
  expect(foreign.status).toBe(404);
});

test('with the v7 upstream, which takes no actions, no job offers them and asking is a clear 409', async () => {
  const setup = await buildTestApp();
  const id = await submitJob(setup.agent);
  await setup.jobs.refresh(id);

  const job = await setup.agent.get(`/api/jobs/${id}`);
  const response = await setup.agent.post(`/api/jobs/${id}/actions`).send({ action: 'upscale', index: 1 });

  expect(job.body.status).toBe('complete');
  expect(job.body.available_actions).toBeUndefined();
  expect(response.status).toBe(409);
  expect(response.body.error.message).toBe('The upstream in use (v7) takes no actions');
});

test('a relay refusal of the action is the client error it names, and leaves no job behind', async () => {
  relay();
  server.use(
    http.post(`${RELAY}/submit/change`, () => HttpResponse.json({ code: 4, description: 'Task is not a grid' })),
  );
  const setup = await relayApp();
  const gridId = await finishedGrid(setup);

  const response = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'reroll' });

  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(response.body.error.message).toBe('The relay rejected the request: Task is not a grid');
  expect((await setup.agent.get('/api/jobs')).body.jobs).toHaveLength(1);
});

test('the relay preview shows through our own URL while rendering, and goes away when done', async () => {
  const { tasks } = relay();
  const previewUrl = `${CDN_BASE}/previews/grid-1-40.png`;
  let previewFetches = 0;
  server.use(
    http.get(`${CDN_BASE}/previews/:name`, () => {
      previewFetches += 1;
      return HttpResponse.arrayBuffer(new Uint8Array(tinyPng(2, 2)).buffer, {
        headers: { 'content-type': 'image/png' },
      });
    }),
  );
  tasks.set('grid-1', { id: 'grid-1', status: 'IN_PROGRESS', progress: '40%', imageUrl: previewUrl });
  const setup = await relayApp();
  const id = await submitJob(setup.agent);
  await setup.jobs.refresh(id);

  const running = await setup.agent.get(`/api/jobs/${id}`);
  const first = await setup.agent.get(String(running.body.preview_url));
  const second = await setup.agent.get(String(running.body.preview_url));
  tasks.delete('grid-1');
  await setup.jobs.refresh(id);
  const finished = await setup.agent.get(`/api/jobs/${id}`);
  const afterwards = await setup.agent.get(`/api/jobs/${id}/preview`);

  expect(running.body.preview_url).toBe(`/api/jobs/${id}/preview?at=40`);
  expect(JSON.stringify(running.body)).not.toContain('cdn.mj.test');
  expect(first.status).toBe(200);
  expect(first.headers['content-type']).toBe('image/png');
  expect(Buffer.compare(first.body, tinyPng(2, 2))).toBe(0);
  expect(second.status).toBe(200);
  expect(previewFetches).toBe(1);
  expect(finished.body.status).toBe('complete');
  expect(finished.body.preview_url).toBeUndefined();
  expect(afterwards.status).toBe(404);
});
