import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createMjProxyAdapter } from '../../server/src/upstream/mj-proxy-adapter';
import { mockHttpForEachTest, server } from '../mocks/node';

const RELAY = 'https://relay.test/mj';
const SECRET = 'relay-secret-123';

mockHttpForEachTest();

const adapter = () =>
  createMjProxyAdapter({ baseUrl: RELAY, secret: SECRET, http: new UpstreamHttpClient({ timeoutMs: 1_000 }) });
const onSubmit = (answer: Parameters<typeof HttpResponse.json>[0]) =>
  server.use(http.post(`${RELAY}/submit/imagine`, () => HttpResponse.json(answer)));
const onFetch = (answer: () => Response) => server.use(http.get(`${RELAY}/task/:id/fetch`, answer));
const submit = () =>
  adapter().submit({ text: 'a fox', params: { aspect_ratio: '16:9', quality: 2 }, imageUrls: [], images: [] });

test('a submission sends the secret and the prompt with Midjourney parameters', async () => {
  let seen: { secret: string | null; body: unknown } | undefined;
  server.use(
    http.post(`${RELAY}/submit/imagine`, async ({ request }) => {
      seen = { secret: request.headers.get('mj-api-secret'), body: await request.json() };
      return HttpResponse.json({ code: 1, description: 'Submit success', result: '1712345678901', properties: {} });
    }),
  );

  const answer = await submit();

  expect(answer).toEqual({ id: '1712345678901', status: 'pending' });
  expect(seen).toEqual({ secret: SECRET, body: { prompt: 'a fox --ar 16:9 --q 2' } });
});

test('every parameter travels in the prompt text, image prompts as base64Array and style references as links', async () => {
  let body: unknown;
  server.use(
    http.post(`${RELAY}/submit/imagine`, async ({ request }) => {
      body = await request.json();
      return HttpResponse.json({ code: 1, description: 'Submit success', result: 'task_9', properties: {} });
    }),
  );
  const png = Buffer.from('89504e470d0a1a0a', 'hex');

  await adapter().submit({
    text: 'a fox',
    params: { stylize: 250, no: ['red cars', 'people'], seed: 42, speed: 'relax' },
    imageUrls: ['https://example.com/a.png'],
    images: [
      { role: 'image', load: async () => ({ body: png, contentType: 'image/png' }) },
      {
        role: 'style',
        url: 'https://studio.test/media/uploads/up_x.png?e=1&s=sig',
        load: async () => ({ body: png, contentType: 'image/png' }),
      },
    ],
  });

  expect(body).toEqual({
    prompt:
      'https://example.com/a.png a fox --s 250 --seed 42 --no red cars, people --sref https://studio.test/media/uploads/up_x.png?e=1&s=sig --relax',
    base64Array: [`data:image/png;base64,${png.toString('base64')}`],
  });
});

test('a finished describe task answers its four prompts, and a task its final prompt', async () => {
  server.use(
    http.get(`${RELAY}/task/d1/fetch`, () =>
      HttpResponse.json({
        id: 'd1',
        action: 'DESCRIBE',
        status: 'SUCCESS',
        progress: '100%',
        imageUrl: '',
        prompt: '1️⃣ a red fox --ar 3:2\n\n2️⃣ a fox in snow\n\n3️⃣ an orange animal\n\n4️⃣ wildlife photo',
        properties: { finalPrompt: 'ignored for describe' },
      }),
    ),
    http.get(`${RELAY}/task/g1/fetch`, () =>
      HttpResponse.json({
        id: 'g1',
        action: 'IMAGINE',
        status: 'IN_PROGRESS',
        progress: '40%',
        imageUrl: '',
        properties: { finalPrompt: 'a fox --ar 16:9 --v 7' },
      }),
    ),
  );

  const described = await adapter().getJob('d1');
  const running = await adapter().getJob('g1');

  expect(described).toMatchObject({
    status: 'complete',
    descriptions: ['a red fox --ar 3:2', 'a fox in snow', 'an orange animal', 'wildlife photo'],
  });
  expect(running).toMatchObject({ status: 'processing', finalPrompt: 'a fox --ar 16:9 --v 7' });
});

test.each([
  [22, 'accepted but queued'],
  [21, 'already exists'],
])('code %i (%s) is an accepted task', async (code) => {
  onSubmit({ code, description: 'ok', result: 'task_1', properties: { numberOfQueues: 3 } });

  expect(await submit()).toEqual({ id: 'task_1', status: 'pending' });
});

test.each([
  [
    { code: 23, description: 'queue full' },
    { kind: 'busy', retryAfterS: 30 },
  ],
  [
    { code: 24, description: 'banned', properties: { bannedWord: 'gore' } },
    { kind: 'refused', message: 'The prompt was refused: banned word "gore"' },
  ],
  [
    { code: 4, description: 'prompt too long' },
    { kind: 'rejected', message: 'The relay rejected the request: prompt too long' },
  ],
  [{ code: 9, description: 'discord down' }, { kind: 'unavailable' }],
  [{ code: 77, description: '?' }, { kind: 'bad_response' }],
  [{ code: 1, description: 'ok', result: '../etc' }, { kind: 'bad_response' }],
])('submit answer %j maps to %j', async (answer, expected) => {
  onSubmit(answer);

  await expect(submit()).rejects.toMatchObject(expected);
});

test('a wrong secret is the server key being rejected', async () => {
  server.use(http.post(`${RELAY}/submit/imagine`, () => HttpResponse.json({}, { status: 401 })));

  await expect(submit()).rejects.toMatchObject({ kind: 'auth' });
});

test.each([
  [
    { id: 't', status: 'NOT_START', progress: '0%' },
    { status: 'pending', progress: 0 },
  ],
  [{ id: 't', status: 'SUBMITTED' }, { status: 'pending' }],
  [{ id: 't', status: 'MODAL' }, { status: 'pending' }],
  [
    { id: 't', status: 'IN_PROGRESS', progress: '46%', imageUrl: 'https://cdn.test/preview.webp' },
    { status: 'processing', progress: 46, previewUrl: 'https://cdn.test/preview.webp' },
  ],
  [
    { id: 't', status: 'SUCCESS', progress: '100%', imageUrl: 'https://cdn.test/grid.png' },
    { status: 'complete', progress: 100, imageUrl: 'https://cdn.test/grid.png' },
  ],
  [
    { id: 't', status: 'FAILURE', failReason: 'Banned prompt detected' },
    { status: 'failed', error: 'Banned prompt detected' },
  ],
  [
    { id: 't', status: 'CANCEL' },
    { status: 'cancelled', error: 'The task was cancelled on the relay' },
  ],
])('task %j maps to %j', async (task, expected) => {
  onFetch(() => HttpResponse.json(task));

  expect(await adapter().getJob('t')).toEqual({ id: 't', ...expected });
});

test('an empty answer for a task id means the relay does not know it', async () => {
  onFetch(() => new HttpResponse('', { status: 200 }));

  await expect(adapter().getJob('gone')).rejects.toMatchObject({ kind: 'not_found' });
});

test('an unknown task status is a malformed answer', async () => {
  onFetch(() => HttpResponse.json({ id: 't', status: 'EXPLODED' }));

  await expect(adapter().getJob('t')).rejects.toMatchObject({ kind: 'bad_response' });
});

test('grid actions go to /submit/change; on a relay without it, to /submit/action with the button customId', async () => {
  const seen: { path: string; body: unknown }[] = [];
  let changeCalls = 0;
  server.use(
    http.post(`${RELAY}/submit/change`, () => {
      changeCalls += 1;
      return new HttpResponse(null, { status: 404 });
    }),
    http.get(`${RELAY}/task/grid_1/fetch`, () =>
      HttpResponse.json({
        id: 'grid_1',
        status: 'SUCCESS',
        progress: '100%',
        imageUrl: 'https://cdn.test/grid_1.png',
        buttons: [
          { customId: 'MJ::JOB::upsample::1::abc', label: 'U1' },
          { customId: 'MJ::JOB::upsample::2::abc', label: 'U2' },
          { customId: 'MJ::JOB::reroll::0::abc::SOLO', label: '', emoji: '🔄' },
          { customId: 'MJ::JOB::variation::2::abc', label: 'V2' },
        ],
      }),
    ),
    http.post(`${RELAY}/submit/action`, async ({ request }) => {
      seen.push({ path: 'action', body: await request.json() });
      return HttpResponse.json({ code: 1, description: 'ok', result: `child_${seen.length}` });
    }),
  );
  const relay = adapter();

  const upscale = await relay.act?.({ gridId: 'grid_1', action: 'upscale', index: 2 });
  const reroll = await relay.act?.({ gridId: 'grid_1', action: 'reroll' });
  const missing = await relay
    .act?.({ gridId: 'grid_1', action: 'variation', index: 3 })
    .catch((error: unknown) => error);

  expect(relay.gridActions).toEqual(['upscale', 'variation', 'reroll']);
  expect([upscale?.id, reroll?.id]).toEqual(['child_1', 'child_2']);
  expect(seen.map((entry) => entry.body)).toEqual([
    { taskId: 'grid_1', customId: 'MJ::JOB::upsample::2::abc' },
    { taskId: 'grid_1', customId: 'MJ::JOB::reroll::0::abc::SOLO' },
  ]);
  // The missing route is learnt once, not asked again for every action.
  expect(changeCalls).toBe(1);
  expect(missing).toMatchObject({ kind: 'rejected', message: 'The relay offers no variation on this task' });
});

test('a relay that has /submit/change gets the action, the index and the hook there', async () => {
  let body: unknown;
  server.use(
    http.post(`${RELAY}/submit/change`, async ({ request }) => {
      body = await request.json();
      return HttpResponse.json({
        code: 22,
        description: 'queued',
        result: 'child_9',
        properties: { numberOfQueues: 2 },
      });
    }),
  );
  const relay = createMjProxyAdapter({
    baseUrl: RELAY,
    secret: SECRET,
    http: new UpstreamHttpClient({ timeoutMs: 1_000 }),
    notifyHook: () => 'https://studio.test/hooks/mj-proxy/token',
  });

  const child = await relay.act?.({ gridId: 'grid_1', action: 'variation', index: 3 });

  expect(child).toEqual({ id: 'child_9', status: 'pending' });
  expect(body).toEqual({
    taskId: 'grid_1',
    action: 'VARIATION',
    index: 3,
    notifyHook: 'https://studio.test/hooks/mj-proxy/token',
  });
});
