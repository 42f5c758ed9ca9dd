// The simulator's midjourney-proxy face over HTTP (docs/upstreams.md §2), and what both of its
// protocols share: one key gate worded per protocol, a CDN-like image route with no key.
import request from 'supertest';
import { expect, test } from 'vitest';
import { createSimulatorApp } from '../../server/src/simulator/app';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';

const KEY = 'relay-key-1';
const secret = { 'mj-api-secret': KEY };

function simulator(overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {}) {
  const clock = { now: 5_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: KEY, queueMs: 1_000, renderMs: 4_000, failureRate: 0, ...overrides }),
    { now: () => clock.now, random: () => 0.5 },
  );
  return { app: createSimulatorApp(engine), clock };
}

async function finishedGrid(app: ReturnType<typeof simulator>['app'], clock: { now: number }) {
  const { body } = await request(app).post('/mj/submit/imagine').set(secret).send({ prompt: 'a fox --ar 16:9' });
  clock.now += 10_000;
  return String(body.result);
}

test.each([undefined, 'wrong', `Bearer ${KEY}`])(
  'a relay request with mj-api-secret %s gets 401 in the relay wording',
  async (header) => {
    const { app } = simulator();
    const attempt = request(app).post('/mj/submit/imagine').send({ prompt: 'a fox' });

    const response = await (header ? attempt.set('mj-api-secret', header) : attempt);

    expect(response.status).toBe(401);
    expect(response.body).toEqual({ code: 401, description: 'Invalid mj-api-secret' });
  },
);

test('the v7 key in a Bearer header does not open the relay, nor the relay secret the v7 routes', async () => {
  const { app } = simulator();

  const relay = await request(app).get('/mj/task/x/fetch').set('authorization', `Bearer ${KEY}`);
  const v7 = await request(app).get('/v1/jobs/x').set(secret);

  expect(relay.status).toBe(401);
  expect(v7.status).toBe(401);
  expect(v7.body).toEqual({ error: 'Invalid or missing API key' });
});

test('v7 and relay calls share one per-key budget, each refused past it in its own wording', async () => {
  const { app } = simulator({ rateLimit: 2, rateWindowMs: 60_000 });
  await request(app).get('/v1/jobs/x').set('authorization', `Bearer ${KEY}`);
  await request(app).get('/mj/task/x/fetch').set(secret);

  const relay = await request(app).get('/mj/task/x/fetch').set(secret);
  const v7 = await request(app).get('/v1/jobs/x').set('authorization', `Bearer ${KEY}`);

  expect(relay.status).toBe(429);
  expect(relay.headers['retry-after']).toBe('60');
  expect(relay.body).toEqual({ code: 429, description: 'Too many requests' });
  expect(v7.status).toBe(429);
  expect(v7.body).toEqual({ error: 'Rate limit of 2 requests per minute exceeded' });
});

test('a wrong key spends none of the budget', async () => {
  const { app } = simulator({ rateLimit: 1 });
  await request(app).get('/mj/task/x/fetch').set('mj-api-secret', 'wrong');
  await request(app).get('/v1/jobs/x').set('authorization', 'Bearer wrong');

  const response = await request(app).get('/mj/task/x/fetch').set(secret);

  expect(response.status).toBe(200);
});

test('POST /mj/submit/imagine answers code 1 with the task id, and the task walks to SUCCESS', async () => {
  const { app, clock } = simulator();

  const submitted = await request(app).post('/mj/submit/imagine').set(secret).send({ prompt: 'a fox --ar 16:9' });
  const queued = await request(app).get(`/mj/task/${submitted.body.result}/fetch`).set(secret);
  clock.now += 10_000;
  const done = await request(app).get(`/mj/task/${submitted.body.result}/fetch`).set(secret);

  expect(submitted.status).toBe(200);
  expect(submitted.body).toEqual({
    code: 1,
    description: 'Submit success',
    result: expect.any(String),
    properties: {},
  });
  expect(queued.body).toMatchObject({ status: 'SUBMITTED', progress: '0%', action: 'IMAGINE', prompt: 'a fox' });
  expect(done.body).toMatchObject({ status: 'SUCCESS', progress: '100%' });
  expect(done.body.imageUrl).toMatch(new RegExp(`/v1/images/${submitted.body.result}\\.png$`));
  expect(done.body.buttons).toHaveLength(9);
});

test.each([
  [{}, 4, 'Validation error: prompt is required'],
  [{ prompt: 'a fox --ar 0:4' }, 4, 'Invalid parameter: --ar'],
  [{ prompt: 'a fox --repeat 4' }, 4, 'Invalid parameter: --repeat is not a supported parameter'],
  [{ prompt: 'a fox', base64Array: ['data:image/png;base64,bm90IGFuIGltYWdl'] }, 4, 'Validation error: base64Array'],
])('a relay submission %j is refused in HTTP 200 with code %i', async (body, code, description) => {
  const { app } = simulator();

  const response = await request(app).post('/mj/submit/imagine').set(secret).send(body);

  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ code, result: null, properties: {} });
  expect(response.body.description).toContain(description);
});

test('a relay prompt with a banned word is refused with code 24 naming the word', async () => {
  const { app } = simulator();

  const response = await request(app).post('/mj/submit/imagine').set(secret).send({ prompt: 'a gore scene' });

  expect(response.body).toEqual({
    code: 24,
    description: 'Banned prompt',
    result: null,
    properties: { bannedWord: 'gore' },
  });
});

test('an unknown task is fetched as an empty body, not a 404', async () => {
  const { app } = simulator();

  const response = await request(app).get('/mj/task/nope/fetch').set(secret);

  expect(response.status).toBe(200);
  expect(response.text).toBe('');
});

test('POST /mj/submit/change upscales a finished grid; an unfinished one is refused with code 4', async () => {
  const { app, clock } = simulator();
  const gridId = await finishedGrid(app, clock);
  const { body: unfinished } = await request(app).post('/mj/submit/imagine').set(secret).send({ prompt: 'a cat' });

  const upscale = await request(app)
    .post('/mj/submit/change')
    .set(secret)
    .send({ taskId: gridId, action: 'UPSCALE', index: 3 });
  const refused = await request(app)
    .post('/mj/submit/change')
    .set(secret)
    .send({ taskId: unfinished.result, action: 'UPSCALE', index: 3 });
  const invalid = await request(app).post('/mj/submit/change').set(secret).send({ taskId: gridId, action: 'UPSCALE' });

  expect(upscale.body).toMatchObject({ code: 1, result: expect.any(String) });
  expect(refused.body).toEqual({ code: 4, description: 'The task is not finished', result: null, properties: {} });
  expect(invalid.body).toEqual({
    code: 4,
    description: 'Validation error: taskId, action and index are required',
    result: null,
  });
});

test('a newer relay without /submit/change answers it 404 and takes the button through /submit/action', async () => {
  const { app, clock } = simulator({ changeRoute: false });
  const gridId = await finishedGrid(app, clock);
  const { body: task } = await request(app).get(`/mj/task/${gridId}/fetch`).set(secret);
  const button = task.buttons.find((candidate: { label: string }) => candidate.label === 'V2');

  const change = await request(app).post('/mj/submit/change').set(secret).send({ taskId: gridId, action: 'REROLL' });
  const action = await request(app)
    .post('/mj/submit/action')
    .set(secret)
    .send({ taskId: gridId, customId: button.customId });
  const foreign = await request(app)
    .post('/mj/submit/action')
    .set(secret)
    .send({ taskId: 'other', customId: button.customId });

  expect(change.status).toBe(404);
  expect(change.body).toEqual({ error: 'Not found' });
  expect(action.body).toMatchObject({ code: 1, result: expect.any(String) });
  expect(foreign.body).toEqual({
    code: 4,
    description: 'Validation error: taskId and a customId of its buttons',
    result: null,
  });
});

test('a running task can be cancelled; an unknown one cannot', async () => {
  const { app, clock } = simulator();
  const { body } = await request(app).post('/mj/submit/imagine').set(secret).send({ prompt: 'a fox' });
  clock.now += 2_000;

  const cancelled = await request(app).post(`/mj/task/${body.result}/cancel`).set(secret);
  const unknown = await request(app).post('/mj/task/nope/cancel').set(secret);
  const task = await request(app).get(`/mj/task/${body.result}/fetch`).set(secret);

  expect(cancelled.body).toEqual({ code: 1, description: 'Cancelled', result: body.result });
  expect(unknown.body).toEqual({ code: 4, description: 'No such task' });
  expect(task.body.status).toBe('CANCEL');
});

test('a running grid shows a preview PNG with no key, then the finished image, cached publicly', async () => {
  const { app, clock } = simulator();
  const { body } = await request(app).post('/mj/submit/imagine').set(secret).send({ prompt: 'a fox' });
  clock.now += 3_000;
  const { body: task } = await request(app).get(`/mj/task/${body.result}/fetch`).set(secret);

  const preview = await request(app).get(new URL(task.imageUrl).pathname).buffer(true);
  const beyond = await request(app).get(`/v1/previews/${body.result}-101.png`);
  clock.now += 10_000;
  const image = await request(app).get(`/v1/images/${body.result}.png`).buffer(true);

  expect(task.imageUrl).toMatch(new RegExp(`/v1/previews/${body.result}-\\d+\\.png$`));
  expect(preview.status).toBe(200);
  expect(preview.headers['content-type']).toBe('image/png');
  expect(preview.headers['cache-control']).toBe('public, max-age=3600');
  expect(beyond.status).toBe(404);
  expect(beyond.body).toEqual({ error: 'Preview not found' });
  expect(image.status).toBe(200);
  expect(image.headers['cache-control']).toBe('public, max-age=86400');
});

test('an unknown path is a 404 and a malformed JSON body a 400, both in the one error shape', async () => {
  const { app } = simulator();

  const unknown = await request(app).get('/mj/nothing-here').set(secret);
  const malformed = await request(app)
    .post('/mj/submit/imagine')
    .set(secret)
    .set('content-type', 'application/json')
    .send('{"prompt":');

  expect(unknown.status).toBe(404);
  expect(unknown.body).toEqual({ error: 'Not found' });
  expect(malformed.status).toBe(400);
  expect(malformed.body).toEqual({ error: 'Bad request' });
});
