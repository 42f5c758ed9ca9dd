// One test per kind of client that speaks the midjourney-proxy protocol (docs/upstreams.md,
// "Serving the relay protocol"), each making the calls that kind makes and reading the fields
// it reads, the way their public sources do: a chat web UI, a chat-app plugin with
// simple-change strings, a bot keeping JSON in `state`, a reselling gateway that polls only
// list-by-condition, and a client that polls until SUCCESS whatever happens.
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { z } from 'zod';
import { mockRelayUpstream, RELAY } from '../mocks/relay-upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const SECRET = 'relay-secret-c1c1c1';
const TOKEN = 'studio-token-c2c2c2c2c2c2c2c2c2c2c2';
const apps: Awaited<ReturnType<typeof buildTestApp>>[] = [];
afterEach(() => {
  for (const setup of apps.splice(0)) setup.scheduler.stop();
});

async function studio(token?: string) {
  const setup = await buildTestApp({
    relay: { baseUrl: RELAY, secret: SECRET },
    budgetBurst: 50,
    security: token ? { accessToken: token } : {},
  });
  apps.push(setup);
  return setup;
}
type Setup = Awaited<ReturnType<typeof studio>>;

/** Lets every running job finish upstream: what a client's next poll then sees. */
async function settle(setup: Setup) {
  for (const job of setup.jobs.listActive()) await setup.jobs.refresh(job.id);
}

/** Every key a strict client indexes directly (a missing one is a KeyError there). */
const TASK_KEYS = [
  'id',
  'action',
  'status',
  'prompt',
  'promptEn',
  'description',
  'state',
  'submitTime',
  'startTime',
  'finishTime',
  'imageUrl',
  'progress',
  'failReason',
  'properties',
  'buttons',
];

/** A gateway's strict reading of a task (Go fields: strings, int64 times, any null). */
const gatewayTask = z.object({
  id: z.string(),
  action: z.string(),
  prompt: z.string().nullable(),
  promptEn: z.string().nullable(),
  description: z.string().nullable(),
  state: z.string().nullable(),
  submitTime: z.number().int().nullable(),
  startTime: z.number().int().nullable(),
  finishTime: z.number().int().nullable(),
  imageUrl: z.string().nullable(),
  videoUrl: z.string().nullable(),
  status: z.string(),
  progress: z.string(),
  failReason: z.string().nullable(),
  properties: z.object({ finalPrompt: z.string().optional() }).passthrough(),
  buttons: z.array(
    z.object({ customId: z.string(), emoji: z.string(), label: z.string(), style: z.number(), type: z.number() }),
  ),
});

/** The app on a loopback port of its own, closed after the test. */
async function listening(setup: Setup): Promise<string> {
  const listener = setup.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  closers.push(() => listener.close());
  return `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
}
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** Opens an absolute task link as another program does: with no cookie and no header. */
const openLink = (setup: Setup, link: string) => {
  const url = new URL(link);
  return request(setup.app).get(`${url.pathname}${url.search}`).set('host', url.host);
};

test('a chat web UI: imagine, poll fetch, press U1 by its customId, show the picture from imageUrl', async () => {
  mockRelayUpstream();
  const setup = await studio(TOKEN);
  const headers = { 'mj-api-secret': TOKEN, 'content-type': 'application/json' };
  const poll = async (id: string) => {
    await settle(setup);
    return (await request(setup.app).get(`/mj/task/${id}/fetch`).set(headers)).body;
  };

  const submit = await request(setup.app)
    .post('/mj/submit/imagine')
    .set(headers)
    .send({ base64Array: [], notifyHook: '', prompt: 'a cat on a roof', state: '' });
  const grid = await poll(String(submit.body.result));
  const u1 = grid.buttons.find((button: { customId: string }) => button.customId.indexOf('upsample::1') > -1);
  const action = await request(setup.app)
    .post('/mj/submit/action')
    .set(headers)
    .send({ customId: u1.customId, taskId: grid.id });
  const upscale = await poll(String(action.body.result));
  const picture = await openLink(setup, upscale.imageUrl);

  expect(submit.body.code).toBe(1);
  expect(grid.status).toBe('SUCCESS');
  expect(grid.progress).toBe('100%');
  // Its button text is `${emoji} ${label}`: both strings, never null.
  for (const button of grid.buttons) expect([typeof button.emoji, typeof button.label]).toEqual(['string', 'string']);
  expect(action.body.code).toBe(1);
  expect(upscale).toMatchObject({ action: 'UPSCALE', status: 'SUCCESS', progress: '100%' });
  expect(picture.status).toBe(200);
  expect(picture.headers['access-control-allow-origin']).toBe('*');
});

test('a chat-app plugin: code 1 only, simple-change strings as users type them, every key present, the queue as an array', async () => {
  mockRelayUpstream();
  // No access token on this machine; the plugin sends its empty secret anyway, and its base URL
  // ends in "/", so every path it asks for begins "//mj" (over a real socket: supertest would
  // read "//mj" as a host).
  const setup = await studio();
  const base = await listening(setup);
  const headers = { 'mj-api-secret': '', 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: object) => {
    const answer = await fetch(`${base}//mj/${path}`, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: answer.status, body: await answer.json() };
  };
  const post = (path: string, body: object) => call('POST', path, body);
  const fetchTask = async (id: string) => (await call('GET', `task/${id}/fetch`)).body;

  const submit = await post('submit/imagine', { prompt: 'a cat', base64Array: [], state: '' });
  await settle(setup);
  const grid = await fetchTask(String(submit.body.result));
  const changes = [];
  for (const content of [`${grid.id} U2`, `${grid.id} u3`, `  ${grid.id} V1 `, `${grid.id} R`]) {
    changes.push(await post('submit/simple-change', { content, state: '' }));
  }
  const reroll = await post('submit/change', { taskId: grid.id, action: 'REROLL', state: '' });
  const queue = await call('GET', 'task/queue');
  await settle(setup);
  const upscale = await fetchTask(String(changes[0]?.body.result));
  const picture = await openLink(setup, upscale.imageUrl);

  expect(submit.body.code).toBe(1);
  expect(typeof submit.body.result).toBe('string');
  for (const key of TASK_KEYS) expect(Object.keys(grid)).toContain(key);
  expect(changes.map((answer) => answer.body.code)).toEqual([1, 1, 1, 1]);
  expect(reroll.body.code).toBe(1);
  expect(Array.isArray(queue.body)).toBe(true);
  for (const task of queue.body)
    for (const key of ['state', 'id', 'progress', 'status', 'description', 'failReason', 'imageUrl', 'startTime'])
      expect(Object.keys(task)).toContain(key);
  expect(upscale.action).toBe('UPSCALE');
  expect(typeof upscale.startTime).toBe('number');
  expect((upscale.finishTime - upscale.startTime) / 1000).toBeGreaterThanOrEqual(0);
  expect(picture.status).toBe(200);
  expect(picture.headers['content-type']).toMatch(/^image\//);
});

test('a bot keeping JSON in state: each task echoes its own state string exactly, everywhere it is shown', async () => {
  mockRelayUpstream();
  const setup = await studio(TOKEN);
  const headers = { 'mj-api-secret': TOKEN };
  const user = (id: string) =>
    `{"user_id": "${id}", "user_nickname": "\\u5f20\\u4e09", "isgroup": false, "group_id": "", "limit": 3}`;
  const [s1, s2] = [user('u1'), user('u2')];

  const submit = await request(setup.app).post('/mj/submit/imagine').set(headers).send({ prompt: 'a cat', state: s1 });
  await settle(setup);
  const change = await request(setup.app)
    .post('/mj/submit/simple-change')
    .set(headers)
    .send({ content: `${submit.body.result} U1`, state: s2 });
  await settle(setup);
  const parent = (await request(setup.app).get(`/mj/task/${submit.body.result}/fetch`).set(headers)).body;
  const child = (await request(setup.app).get(`/mj/task/${change.body.result}/fetch`).set(headers)).body;
  const listed = (
    await request(setup.app)
      .post('/mj/task/list-by-condition')
      .set(headers)
      .send({ ids: [submit.body.result, change.body.result] })
  ).body;

  expect(parent.state).toBe(s1);
  expect(child.state).toBe(s2);
  expect(JSON.parse(child.state).user_id).toBe('u2');
  expect(listed.map((task: { state: string }) => task.state)).toEqual([s1, s2]);
});

test('a reselling gateway: compact codes, string results, and list-by-condition polled strictly, ids only as asked', async () => {
  mockRelayUpstream();
  const setup = await studio(TOKEN);
  const headers = { 'mj-api-secret': TOKEN, 'content-type': 'application/json' };
  const poll = async (ids: unknown) => {
    await settle(setup);
    return request(setup.app).post('/mj/task/list-by-condition').set(headers).send({ ids });
  };

  // Its bodies come re-encoded: keys in alphabetical order, botType kept.
  const submit = await request(setup.app)
    .post('/mj/submit/imagine')
    .set(headers)
    .send({ base64Array: [], botType: 'MID_JOURNEY', prompt: 'a cat', state: '' });
  const first = await poll([submit.body.result]);
  const tasks = z.array(gatewayTask).parse(first.body);
  const u1 = tasks[0]?.buttons.find((button) => button.customId.split('::')[2] === 'upsample');
  const action = await request(setup.app)
    .post('/mj/submit/action')
    .set(headers)
    .send({ customId: u1?.customId, state: '', taskId: submit.body.result });
  const change = await request(setup.app)
    .post('/mj/submit/change')
    .set(headers)
    .send({ action: 'UPSCALE', index: 1, taskId: submit.body.result });
  const both = z
    .array(gatewayTask)
    .parse((await poll([action.body.result, change.body.result, '1700000000000999'])).body);
  const none = await poll([]);
  const missing = await request(setup.app).post('/mj/task/list-by-condition').set(headers).send({});
  const picture = await openLink(setup, String(tasks[0]?.imageUrl));

  expect(submit.text).toMatch(/^\{"code":1,"description":"[^"]*","result":"\d{16}","properties":\{/);
  expect(tasks.map((task) => task.id)).toEqual([submit.body.result]);
  expect(tasks[0]).toMatchObject({ status: 'SUCCESS', progress: '100%' });
  // It bills by the customId's shape: MJ::JOB::<kind>::<index>::<id>.
  expect(u1?.customId.split('::')).toEqual(['MJ', 'JOB', 'upsample', '1', submit.body.result]);
  expect(action.text).toContain('"code":1');
  expect(change.text).toContain('"code":1');
  expect(both.map((task) => task.id)).toEqual([action.body.result, change.body.result]);
  expect(both.every((task) => task.progress === '100%')).toBe(true);
  expect(none.body).toEqual([]);
  expect(missing.body).toEqual([]);
  expect(picture.headers['content-type']).toMatch(/^image\//);
});

test('a client that polls until SUCCESS: a failed task stays FAILURE with its reason, poll after poll, never rate limited', async () => {
  const { tasks } = mockRelayUpstream();
  const setup = await studio(TOKEN);
  const headers = { 'mj-api-secret': TOKEN };
  const submit = await request(setup.app).post('/mj/submit/imagine').set(headers).send({ prompt: 'a doomed cat' });
  tasks.set('up-1', { id: 'up-1', status: 'FAILURE', progress: '40%', failReason: 'The render worker crashed' });
  await settle(setup);

  const seen = [];
  for (let round = 0; round < 60; round++) {
    const answer = await request(setup.app).get(`/mj/task/${submit.body.result}/fetch`).set(headers);
    seen.push([answer.status, answer.body.status, answer.body.failReason]);
  }

  expect(new Set(seen.map((entry) => JSON.stringify(entry)))).toEqual(
    new Set([JSON.stringify([200, 'FAILURE', 'The render worker crashed'])]),
  );
});
