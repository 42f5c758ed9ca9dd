// The midjourney-proxy protocol served under /mj, driven as the clients people run drive it,
// with our studio speaking to an msw-mocked relay upstream behind it: every endpoint's answer
// codes and task shape, auth by each header clients send, ids as digits, links that open
// without a cookie, and the same jobs seen from the studio's own API.
import { HttpResponse, http } from 'msw';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { server } from '../mocks/node';
import { RELAY, mockRelayUpstream as upstream } from '../mocks/relay-upstream';
import { waitFor } from '../support/wait';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const SECRET = 'relay-secret-0ff1ce';
const TOKEN = 'studio-token-5a5a5a5a5a5a5a5a5a5a';

const apps: Awaited<ReturnType<typeof buildTestApp>>[] = [];
afterEach(() => {
  for (const setup of apps.splice(0)) setup.scheduler.stop();
});

async function studio(options: { token?: string } = {}) {
  const setup = await buildTestApp({
    relay: { baseUrl: RELAY, secret: SECRET },
    budgetBurst: 50,
    security: options.token ? { accessToken: options.token } : {},
  });
  apps.push(setup);
  return setup;
}

type Setup = Awaited<ReturnType<typeof studio>>;
type Auth = Record<string, string>;

/** Lets every running job finish upstream (the mocked relay answers SUCCESS at once). */
async function settle(setup: Setup) {
  for (const job of setup.jobs.listActive()) await setup.jobs.refresh(job.id);
}

async function imagine(setup: Setup, auth: Auth, body: Record<string, unknown>) {
  const answer = await request(setup.app).post('/mj/submit/imagine').set(auth).send(body);
  await settle(setup);
  return answer;
}

const fetchTask = async (setup: Setup, auth: Auth, id: string) =>
  (await request(setup.app).get(`/mj/task/${id}/fetch`).set(auth)).body;

test('imagine answers code 1 with a digits-only id; fetch shows the task as relays do, state verbatim', async () => {
  upstream();
  const setup = await studio();
  const state = JSON.stringify({ user: 42, chat: 'a"b' });

  const answer = await imagine(setup, {}, { prompt: 'a fox in the snow --ar 3:2', state });
  const task = await fetchTask(setup, {}, String(answer.body.result));

  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ code: 1, description: 'Submit success', properties: {} });
  expect(answer.body.result).toMatch(/^\d{16}$/);
  expect(Number.isSafeInteger(Number(answer.body.result))).toBe(true);
  expect(task).toMatchObject({
    id: answer.body.result,
    action: 'IMAGINE',
    status: 'SUCCESS',
    progress: '100%',
    prompt: 'a fox in the snow',
    state,
    failReason: null,
    properties: { finalPrompt: 'final up-1' },
  });
  expect(typeof task.submitTime).toBe('number');
  expect(typeof task.finishTime).toBe('number');
  expect(task.finishTime).toBeGreaterThanOrEqual(task.submitTime);
  // Midjourney's order: U1-U4, the reroll (🔄, no label), V1-V4.
  expect(task.buttons.map((button: { label: string }) => button.label)).toEqual([
    'U1',
    'U2',
    'U3',
    'U4',
    '',
    'V1',
    'V2',
    'V3',
    'V4',
  ]);
  expect(JSON.stringify(task)).not.toContain('up-1::');
});

test("a task's imageUrl is an absolute link that opens the kept image with no cookie and no secret", async () => {
  upstream();
  const setup = await studio({ token: TOKEN });
  const auth = { 'mj-api-secret': TOKEN };
  const answer = await imagine(setup, auth, { prompt: 'a lighthouse' });

  const task = await fetchTask(setup, auth, String(answer.body.result));
  const url = new URL(task.imageUrl);
  const image = await request(setup.app).get(`${url.pathname}${url.search}`).set('host', url.host);
  const forged = await request(setup.app)
    // One hex digit of the key changed (to another digit, whatever it was).
    .get(url.pathname + url.search.replace(/k=([0-9a-f])/, (_, digit) => `k=${digit === '0' ? '1' : '0'}`))
    .set('host', url.host);

  expect(task.imageUrl).toMatch(/^http:\/\/127\.0\.0\.1(:\d+)?\/media\/share\/[\w-]+\.png\?k=[0-9a-f]{64}$/);
  expect(image.status).toBe(200);
  expect(image.headers['content-type']).toBe('image/png');
  // Shown in other sites' pages and drawn on their canvases.
  expect(image.headers['access-control-allow-origin']).toBe('*');
  expect(image.headers['cross-origin-resource-policy']).toBe('cross-origin');
  expect(forged.status).toBe(404);
});

test.each([
  ['mj-api-secret', { 'mj-api-secret': TOKEN }],
  ['Mj-Api-Secret', { 'Mj-Api-Secret': TOKEN }],
  ['Authorization: Bearer', { Authorization: `Bearer ${TOKEN}` }],
  ['a bare Authorization', { Authorization: TOKEN }],
])('with ACCESS_TOKEN set, the secret is taken from %s', async (_name, auth) => {
  upstream();
  const setup = await studio({ token: TOKEN });

  const answer = await imagine(setup, auth, { prompt: 'a harbour' });

  expect(answer.body.code).toBe(1);
});

test('with ACCESS_TOKEN set, a missing or wrong secret is a 401 and nothing is sent upstream', async () => {
  const { sent } = upstream();
  const setup = await studio({ token: TOKEN });

  const missing = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'x' });
  const wrong = await request(setup.app).post('/mj/submit/imagine').set('mj-api-secret', 'nope').send({ prompt: 'x' });
  const fetch = await request(setup.app).get('/mj/task/1700000000000000/fetch').set('mj-api-secret', 'nope');

  expect(missing.status).toBe(401);
  expect(wrong.status).toBe(401);
  expect(fetch.status).toBe(401);
  expect(sent).toEqual([]);
});

test('a token holder sees the same jobs through /mj and through the studio API, both ways', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });
  const auth = { 'mj-api-secret': TOKEN };
  const fromRelay = await imagine(setup, auth, { prompt: 'made by a relay client' });
  const fromStudio = await request(setup.app)
    .post('/api/imagine')
    .set('authorization', `Bearer ${TOKEN}`)
    .send({ prompt: 'made in the studio' });
  await settle(setup);

  const list = await request(setup.app).get('/api/jobs').set('authorization', `Bearer ${TOKEN}`);
  const relayList = await request(setup.app).get('/mj/task/list').set(auth);

  expect(list.body.jobs.map((job: { prompt: string }) => job.prompt)).toEqual([
    'made in the studio',
    'made by a relay client',
  ]);
  expect(relayList.body.map((task: { prompt: string }) => task.prompt)).toEqual([
    'made in the studio',
    'made by a relay client',
  ]);
  expect(relayList.body[1].id).toBe(fromRelay.body.result);
  expect(fromStudio.status).toBe(202);
});

test('change, simple-change and action each make an upscale linked to its grid', async () => {
  const { sent } = upstream();
  const setup = await studio();
  const grid = String((await imagine(setup, {}, { prompt: 'dunes' })).body.result);
  const buttons = (await fetchTask(setup, {}, grid)).buttons as { customId: string; label: string }[];

  const change = await request(setup.app).post('/mj/submit/change').send({ taskId: grid, action: 'UPSCALE', index: 2 });
  const simple = await request(setup.app)
    .post('/mj/submit/simple-change')
    .send({ content: `${grid} U3` });
  const action = await request(setup.app)
    .post('/mj/submit/action')
    .send({ taskId: grid, customId: buttons.find((button) => button.label === 'V4')?.customId });
  await settle(setup);
  const tasks = await Promise.all(
    [change, simple, action].map((answer) => fetchTask(setup, {}, String(answer.body.result))),
  );

  expect([change, simple, action].map((answer) => answer.body.code)).toEqual([1, 1, 1]);
  expect(tasks.map((task) => task.action)).toEqual(['UPSCALE', 'UPSCALE', 'VARIATION']);
  for (const task of tasks) expect(task.properties.originTaskId).toBe(grid);
  expect(sent.filter((entry) => entry.path !== 'imagine').map((entry) => entry.body)).toEqual([
    { taskId: 'up-1', action: 'UPSCALE', index: 2 },
    { taskId: 'up-1', action: 'UPSCALE', index: 3 },
    { taskId: 'up-1', action: 'VARIATION', index: 4 },
  ]);
});

test('Vary (Region) answers 21, fetch shows MODAL, and /submit/modal with the mask runs it', async () => {
  const { sent } = upstream();
  const setup = await studio();
  const grid = String((await imagine(setup, {}, { prompt: 'a cliff' })).body.result);
  const upscale = await request(setup.app)
    .post('/mj/submit/simple-change')
    .send({ content: `${grid} U1` });
  await settle(setup);
  const buttons = (await fetchTask(setup, {}, String(upscale.body.result))).buttons as {
    customId: string;
    label: string;
  }[];
  const region = buttons.find((button) => button.label === 'Vary (Region)')?.customId;
  const { PNG } = await import('pngjs');
  const png = new PNG({ width: 16, height: 16 });
  png.data.fill(255);

  const asked = await request(setup.app)
    .post('/mj/submit/action')
    .send({ taskId: upscale.body.result, customId: region });
  const waiting = await fetchTask(setup, {}, String(asked.body.result));
  const done = await request(setup.app)
    .post('/mj/submit/modal')
    .send({ taskId: asked.body.result, prompt: 'a red cliff', maskBase64: PNG.sync.write(png).toString('base64') });
  await settle(setup);
  const task = await fetchTask(setup, {}, String(done.body.result));

  expect(asked.body).toMatchObject({ code: 21 });
  expect(asked.body.result).toMatch(/^\d{16}$/);
  expect(waiting).toMatchObject({ status: 'MODAL', action: 'INPAINT' });
  expect(done.body.code).toBe(1);
  expect(task).toMatchObject({ action: 'INPAINT', status: 'SUCCESS', prompt: 'a red cliff' });
  expect(sent.find((entry) => entry.path === 'modal')?.body.maskBase64).toMatch(/^data:image\/png;base64,/);
});

test('list-by-condition answers the asked tasks of this owner only, in the order asked', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });
  const auth = { 'mj-api-secret': TOKEN };
  const first = String((await imagine(setup, auth, { prompt: 'one' })).body.result);
  const second = String((await imagine(setup, auth, { prompt: 'two' })).body.result);

  const both = await request(setup.app)
    .post('/mj/task/list-by-condition')
    .set(auth)
    .send({ ids: [second, first, '1'] });
  const numbers = await request(setup.app)
    .post('/mj/task/list-by-condition')
    .set(auth)
    .send({ ids: [Number(first)] });

  expect(both.body.map((task: { prompt: string }) => task.prompt)).toEqual(['two', 'one']);
  expect(numbers.body.map((task: { id: string }) => task.id)).toEqual([first]);
});

test('an unknown or malformed task id is an empty body, as a relay answers it', async () => {
  upstream();
  const setup = await studio();

  const unknown = await request(setup.app).get('/mj/task/1700000000009999/fetch');
  const malformed = await request(setup.app).get('/mj/task/abc/fetch');

  expect(unknown.status).toBe(200);
  expect(unknown.text).toBe('');
  expect(malformed.text).toBe('');
});

test.each([
  ['no prompt', {}, 4],
  ['an unknown parameter', { prompt: 'a fox --motoin 3' }, 4],
  ['a banned word upstream', { prompt: 'a forbidden fox' }, 24],
])('imagine with %s answers code %s in HTTP 200', async (_name, body, code) => {
  upstream();
  const setup = await studio();

  const answer = await request(setup.app).post('/mj/submit/imagine').send(body);

  expect(answer.status).toBe(200);
  expect(answer.body.code).toBe(code);
  expect(answer.body.result).toBeNull();
  expect(typeof answer.body.description).toBe('string');
});

test('the /mj-relax/mj prefix sets the speed mode, unless the prompt names one (in any case)', async () => {
  const { sent } = upstream();
  const setup = await studio();

  await imagine(setup, {}, { prompt: 'a quiet lake' });
  await request(setup.app).post('/mj-relax/mj/submit/imagine').send({ prompt: 'a quiet lake' });
  const own = await request(setup.app).post('/mj-turbo/mj/submit/imagine').send({ prompt: 'a quiet lake --FAST' });
  const bare = await request(setup.app).post('/mj-relax/submit/imagine').send({ prompt: 'a quiet lake' });

  expect(own.body.code).toBe(1);
  expect(bare.status).toBe(404);
  expect(sent.map((entry) => entry.body.prompt)).toEqual([
    'a quiet lake',
    'a quiet lake --relax',
    'a quiet lake --fast',
  ]);
});

test('shorten is not offered, and says so with code 4', async () => {
  upstream();
  const setup = await studio();

  const answer = await request(setup.app).post('/mj/submit/shorten').send({ prompt: 'a long prompt' });

  expect(answer.body).toMatchObject({ code: 4, description: 'Shorten is not supported by this server' });
});

test('a browser-side client may call /mj from its own page when a secret is required; preflight allowed', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });

  const preflight = await request(setup.app)
    .options('/mj/submit/imagine')
    .set('origin', 'https://chat.example')
    .set('access-control-request-headers', 'content-type, mj-api-secret');
  const call = await request(setup.app)
    .post('/mj/submit/imagine')
    .set('origin', 'https://chat.example')
    .set('mj-api-secret', TOKEN)
    .send({ prompt: 'a fox' });

  expect(preflight.status).toBe(204);
  expect(preflight.headers['access-control-allow-headers']).toContain('mj-api-secret');
  expect(call.headers['access-control-allow-origin']).toBe('*');
  expect(call.body.code).toBe(1);
});

test('with CORS_ORIGINS set too, any page may still call /mj when a secret is required', async () => {
  upstream();
  const setup = await buildTestApp({
    relay: { baseUrl: RELAY, secret: SECRET },
    security: { accessToken: TOKEN, allowedOrigins: ['https://studio.example'] },
  });
  apps.push(setup);

  const preflight = await request(setup.app)
    .options('/mj/task/1700000000000000/fetch')
    .set('origin', 'https://chat.example')
    .set('access-control-request-headers', 'mj-api-secret');

  expect(preflight.status).toBe(204);
  expect(preflight.headers['access-control-allow-origin']).toBe('*');
});

test('with an access token, nothing unauthenticated is read: a large body without a secret is a 401 at once', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });

  const answer = await request(setup.app)
    .post('/mj/submit/imagine')
    .set('content-type', 'application/json')
    .send(`{"prompt": "x", "base64Array": ["${'A'.repeat(2_000_000)}"`);

  expect(answer.status).toBe(401);
});

test('without an access token, another site gets no CORS answer, so its pages cannot spend the budget', async () => {
  upstream();
  const setup = await studio();

  const preflight = await request(setup.app).options('/mj/submit/imagine').set('origin', 'https://evil.example');

  expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
});

test('a cancelled task reads as FAILURE with a reason, since clients poll until SUCCESS or FAILURE', async () => {
  const { tasks } = upstream();
  const setup = await studio();
  const answer = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'a slow fox' });
  tasks.set('up-1', { id: 'up-1', status: 'IN_PROGRESS', progress: '10%', imageUrl: '' });
  await settle(setup);
  const jobId = String(setup.jobs.jobIdOfTaskNumber(Number(answer.body.result)));
  await setup.jobs.cancel(setup.jobs.find(jobId)?.ownerId ?? '', jobId);

  const task = await fetchTask(setup, {}, String(answer.body.result));

  expect(task).toMatchObject({ status: 'FAILURE', failReason: 'Cancelled' });
  expect(typeof task.startTime).toBe('number');
  expect(typeof task.finishTime).toBe('number');
});

test('a studio API key is its own owner on /mj, and a revoked key stops at once', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });
  const studioAuth = { authorization: `Bearer ${TOKEN}` };
  const created = await request(setup.app).post('/api/keys').set(studioAuth).send({ name: 'chat UI' });
  const key = { 'mj-api-secret': String(created.body.secret) };
  const byToken = await imagine(setup, { 'mj-api-secret': TOKEN }, { prompt: 'the token owner’s fox' });

  const byKey = await imagine(setup, key, { prompt: 'the key’s fox' });
  const keyList = await request(setup.app).get('/mj/task/list').set(key);
  const notTheirs = await request(setup.app).get(`/mj/task/${byToken.body.result}/fetch`).set(key);
  const makeMore = await request(setup.app)
    .post('/api/keys')
    .set('authorization', `Bearer ${created.body.secret}`)
    .send({ name: 'x' });
  await request(setup.app).delete(`/api/keys/${created.body.key.id}`).set(studioAuth);
  const afterRevoke = await request(setup.app).get('/mj/task/list').set(key);

  expect(created.status).toBe(201);
  expect(byKey.body.code).toBe(1);
  expect(keyList.body.map((task: { prompt: string }) => task.prompt)).toEqual(['the key’s fox']);
  expect(notTheirs.text).toBe('');
  expect(makeMore.status).toBe(403);
  expect(afterRevoke.status).toBe(401);
});

test('a notifyHook hears the task on each change, its state and final imageUrl included, once per news', async () => {
  const { tasks } = upstream();
  const received: { status: string; progress: string; state: string | null; imageUrl: string }[] = [];
  server.use(
    http.post('https://bot.example/mj-hook', async ({ request: incoming }) => {
      received.push((await incoming.json()) as (typeof received)[number]);
      return new HttpResponse(null, { status: 204 });
    }),
  );
  const setup = await studio();
  const answer = await request(setup.app)
    .post('/mj/submit/imagine')
    .send({ prompt: 'a hooked fox', notifyHook: 'https://bot.example/mj-hook', state: 'chat-7' });
  const done = tasks.get('up-1') ?? {};
  tasks.set('up-1', { id: 'up-1', status: 'IN_PROGRESS', progress: '40%', imageUrl: '' });
  const jobId = String(setup.jobs.jobIdOfTaskNumber(Number(answer.body.result)));
  await setup.jobs.refresh(jobId);
  await setup.jobs.refresh(jobId);
  tasks.set('up-1', done);
  await settle(setup);

  await waitFor(() => received.some((task) => task.status === 'SUCCESS'), { message: 'the final notice' });

  expect(received.map((task) => [task.status, task.progress])).toEqual([
    ['SUBMITTED', '0%'],
    ['IN_PROGRESS', '40%'],
    ['SUCCESS', '100%'],
  ]);
  expect(received.every((task) => task.state === 'chat-7')).toBe(true);
  expect(received.at(-1)?.imageUrl).toMatch(/\/media\/share\//);
});

test('a notifyHook that is not an http(s) link is refused up front with code 4, and nothing is recorded', async () => {
  const { sent } = upstream();
  const setup = await studio();

  const local = await request(setup.app)
    .post('/mj/submit/imagine')
    .send({ prompt: 'a fox', notifyHook: 'ftp://bot.example/hook' });
  const list = await request(setup.app).get('/mj/task/list');

  expect(local.body.code).toBe(4);
  expect(local.body.description).toMatch(/notifyHook/);
  expect(sent).toEqual([]);
  expect(list.body).toEqual([]);
});

test('signed in to the studio, a browser is the token’s owner: it lists what relay clients made, and they list its jobs', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });
  const browser = request.agent(setup.app);
  await browser.post('/api/session').send({ token: TOKEN });
  await imagine(setup, { 'mj-api-secret': TOKEN }, { prompt: 'from a chat UI' });

  await browser.post('/api/imagine').send({ prompt: 'from the studio' });
  await settle(setup);
  const studioList = await browser.get('/api/jobs');
  const relayList = await request(setup.app).get('/mj/task/list').set('mj-api-secret', TOKEN);

  expect(studioList.body.jobs.map((job: { prompt: string }) => job.prompt)).toEqual([
    'from the studio',
    'from a chat UI',
  ]);
  expect(relayList.body.map((task: { prompt: string }) => task.prompt)).toEqual(['from the studio', 'from a chat UI']);
});

test('a browser that made jobs before the access token was set keeps them when it signs in', async () => {
  upstream();
  const open = await buildTestApp({ relay: { baseUrl: RELAY, secret: SECRET } });
  const browser = request.agent(open.app);
  await browser.post('/api/imagine').send({ prompt: 'made before the token' });
  const cookie = String((await browser.get('/api/jobs')).request.cookies ?? '');
  open.scheduler.stop();
  await open.close();

  const guarded = await buildTestApp({
    relay: { baseUrl: RELAY, secret: SECRET },
    dataDir: open.dataDir,
    security: { accessToken: TOKEN },
  });
  apps.push(guarded);
  const signedIn = request.agent(guarded.app);
  await signedIn.post('/api/session').set('cookie', cookie).send({ token: TOKEN });
  const list = await signedIn.get('/api/jobs');
  const relayList = await request(guarded.app).get('/mj/task/list').set('mj-api-secret', TOKEN);

  expect(list.body.jobs.map((job: { prompt: string }) => job.prompt)).toEqual(['made before the token']);
  expect(relayList.body.map((task: { prompt: string }) => task.prompt)).toEqual(['made before the token']);
});

async function pngBase64(color: number): Promise<string> {
  const { PNG } = await import('pngjs');
  const png = new PNG({ width: 32, height: 32 });
  png.data.fill(color);
  return PNG.sync.write(png).toString('base64');
}

test('describe and blend take base64 images, keep them as uploads, and answer tasks of their kind', async () => {
  const { sent } = upstream();
  const setup = await studio();
  const [a, b] = [await pngBase64(200), await pngBase64(90)];

  const describe = await request(setup.app)
    .post('/mj/submit/describe')
    .send({ base64: `data:image/png;base64,${a}` });
  const blend = await request(setup.app)
    .post('/mj/submit/blend')
    .send({ base64Array: [a, b], dimensions: 'LANDSCAPE' });
  await settle(setup);
  const described = await fetchTask(setup, {}, String(describe.body.result));
  const blended = await fetchTask(setup, {}, String(blend.body.result));

  expect([describe.body.code, blend.body.code]).toEqual([1, 1]);
  expect(described).toMatchObject({ action: 'DESCRIBE', status: 'SUCCESS', imageUrl: '' });
  expect(described.promptEn.split('\n\n')).toEqual(['a red fox', 'a fox in snow', 'an orange animal', 'a wild fox']);
  expect(blended).toMatchObject({ action: 'BLEND', status: 'SUCCESS' });
  expect(sent.find((entry) => entry.path === 'blend')?.body.dimensions).toBe('LANDSCAPE');
  expect(String(sent.find((entry) => entry.path === 'describe')?.body.base64)).toMatch(/^data:image\/png;base64,/);
});

test('image-seed answers the --seed a prompt gave, and code 4 where none is known', async () => {
  upstream();
  const setup = await studio();
  const seeded = await imagine(setup, {}, { prompt: 'a fox --seed 1234' });
  const unseeded = await imagine(setup, {}, { prompt: 'a fox' });

  const known = await request(setup.app).get(`/mj/task/${seeded.body.result}/image-seed`);
  const unknown = await request(setup.app).get(`/mj/task/${unseeded.body.result}/image-seed`);

  expect(known.body).toMatchObject({ code: 1, result: '1234' });
  expect(unknown.body).toMatchObject({ code: 4, result: null });
});

test('an upstream fault is code 9, and a spent client limit is code 23, each in HTTP 200', async () => {
  upstream();
  server.use(http.post(`${RELAY}/submit/imagine`, () => new HttpResponse('oops', { status: 502 }), { once: true }));
  const setup = await buildTestApp({ relay: { baseUrl: RELAY, secret: SECRET }, security: { submitsPerMinute: 2 } });
  apps.push(setup);

  const fault = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'a fox' });
  const first = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'a fox' });
  const second = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'a fox' });
  const third = await request(setup.app).post('/mj/submit/imagine').send({ prompt: 'a fox' });

  expect(fault.status).toBe(200);
  expect(fault.body.code).toBe(9);
  // The fault took one of the two submissions a minute, as any sent job does.
  expect([first.body.code, second.body.code, third.body.code]).toEqual([1, 23, 23]);
  expect(third.status).toBe(200);
  expect(third.body.description).toMatch(/try again/i);
});

test('images sent with a prompt that is refused are not kept', async () => {
  upstream();
  const setup = await studio();
  const image = await pngBase64(120);

  const refusedPrompt = await request(setup.app)
    .post('/mj/submit/imagine')
    .send({ prompt: 'a fox --motoin 3', base64Array: [image, image] });
  const badBlend = await request(setup.app)
    .post('/mj/submit/blend')
    .send({ base64Array: [image, Buffer.from('not an image').toString('base64')] });

  expect(refusedPrompt.body.code).toBe(4);
  expect(badBlend.body.code).toBe(4);
  const files = (await import('node:fs')).readdirSync(`${setup.dataDir}/uploads`, { withFileTypes: true });
  expect(files.filter((entry) => entry.isFile() && !entry.name.startsWith('.'))).toEqual([]);
});

test('a request without a secret is refused without counting as a wrong guess, so it locks nobody out', async () => {
  upstream();
  const setup = await buildTestApp({
    relay: { baseUrl: RELAY, secret: SECRET },
    security: { accessToken: TOKEN, signInAttempts: 3 },
  });
  apps.push(setup);

  for (let i = 0; i < 5; i++) await request(setup.app).get('/mj/task/list').set('x-ptoken', 'the chat UI login token');
  const right = await request(setup.app).get('/mj/task/list').set('mj-api-secret', TOKEN);

  expect(right.status).toBe(200);
});

test('list-by-condition reads ids one by one: a bad one is skipped, and a long batch is served whole', async () => {
  upstream();
  const setup = await studio();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(String((await imagine(setup, {}, { prompt: `fox ${i}` })).body.result));
  const filler = Array.from({ length: 300 }, (_, i) => String(1_700_000_100_000_000 + i));

  const answer = await request(setup.app)
    .post('/mj/task/list-by-condition')
    .send({ ids: [...filler, ` ${ids[0]}`, 'abc', ids[1], { x: 1 }, Number(ids[2])] });

  expect(answer.body.map((task: { id: string }) => task.id)).toEqual(ids);
});

test('an empty state is echoed as the empty string it was', async () => {
  upstream();
  const setup = await studio();

  const answer = await imagine(setup, {}, { prompt: 'a fox', state: '' });

  expect((await fetchTask(setup, {}, String(answer.body.result))).state).toBe('');
});

test('waiting modals are per owner and shared by the prefixes: a flood of one owner evicts only its own', async () => {
  upstream();
  const setup = await studio({ token: TOKEN });
  const auth = { 'mj-api-secret': TOKEN };
  const grid = String((await imagine(setup, auth, { prompt: 'a cliff' })).body.result);
  const up = await request(setup.app)
    .post('/mj/submit/simple-change')
    .set(auth)
    .send({ content: `${grid} U1` });
  await settle(setup);
  const region = `MJ::Inpaint::1::${up.body.result}::SOLO`;
  const mine = await request(setup.app)
    .post('/mj-fast/mj/submit/action')
    .set(auth)
    .send({ taskId: up.body.result, customId: region });
  const created = await request(setup.app)
    .post('/api/keys')
    .set('authorization', `Bearer ${TOKEN}`)
    .send({ name: 'flooder' });
  const flooder = { 'mj-api-secret': String(created.body.secret) };
  const theirGrid = String((await imagine(setup, flooder, { prompt: 'spam' })).body.result);
  const theirUp = await request(setup.app)
    .post('/mj/submit/simple-change')
    .set(flooder)
    .send({ content: `${theirGrid} U1` });
  await settle(setup);
  for (let i = 0; i < 40; i++) {
    await request(setup.app)
      .post('/mj/submit/action')
      .set(flooder)
      .send({ taskId: theirUp.body.result, customId: `MJ::Inpaint::1::${theirUp.body.result}::SOLO` });
  }

  const waiting = await fetchTask(setup, auth, String(mine.body.result));

  expect(mine.body.code).toBe(21);
  expect(waiting.status).toBe('MODAL');
});
