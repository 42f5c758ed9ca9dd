// Real answers, successes and errors alike, judged against the OpenAPI document the server
// serves: every request below goes through the composed app, and each answer must be a status
// its operation lists, with a body its schema accepts (or a media type it names) and the
// headers it requires. The file's last test checks that every operation answered at least one
// success and one error.
import { delay, HttpResponse, http } from 'msw';
import sharp from 'sharp';
import request, { type Response } from 'supertest';
import { expect, test } from 'vitest';
import { openApiDocument } from '../../server/src/http/openapi';
import { server } from '../mocks/node';
import { mockRelayUpstream, RELAY } from '../mocks/relay-upstream';
import { CDN_BASE, tinyPng, UPSTREAM_BASE } from '../mocks/upstream';
import { answerOf, openApiChecker } from '../support/openapi-check';
import { appsClosedAfterEach, mockUpstreamForEachTest, type TestApp } from './helpers';

mockUpstreamForEachTest();

const TOKEN = 'correct-horse-battery-staple-42';
const checker = openApiChecker(openApiDocument());
const answered = new Map<string, Set<number>>();

const app = appsClosedAfterEach({ budgetBurst: 50 });
type Setup = TestApp;

/** Awaits the answer, judges it by the document and records which operation gave which status. */
async function judged(pending: PromiseLike<Response>): Promise<Response> {
  const response = await pending;
  const answer = answerOf(response);
  const operation = checker.operationFor(answer.method, answer.url);
  if (operation) {
    const statuses = answered.get(operation.operationId) ?? new Set();
    answered.set(operation.operationId, statuses.add(answer.status));
  }
  expect(checker.problems(answer)).toEqual([]);
  return response;
}

/** The statuses of a series of answers, each judged. */
async function statuses(...pending: PromiseLike<Response>[]): Promise<number[]> {
  const answers = [];
  for (const one of pending) answers.push((await judged(one)).status);
  return answers;
}

const png = (width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 30 } } })
    .png()
    .toBuffer();

async function submitted(setup: Setup, prompt = 'a fox in the snow', agent = setup.agent): Promise<string> {
  const response = await judged(agent.post('/api/imagine').send({ prompt }));
  expect(response.status).toBe(202);
  return String(response.body.job_id);
}

async function uploaded(setup: Setup): Promise<string> {
  const response = await judged(
    setup.agent
      .post('/api/uploads')
      .set('content-type', 'image/png')
      .send(await png()),
  );
  expect(response.status).toBe(201);
  return String(response.body.upload_id);
}

const upstreamIdOf = (setup: Setup, id: string) => String(setup.store.get(id)?.upstreamId);

test('the job routes answer as documented: list, read, lineage, favourites, cancel, delete, the budget', async () => {
  server.use(http.post(`${UPSTREAM_BASE}/jobs/:jobId/cancel`, () => HttpResponse.json({ status: 'cancelled' })));
  const setup = await app();
  const { agent } = setup;
  const done = await submitted(setup);
  await setup.jobs.refresh(done);
  const running = await submitted(setup, 'still running');

  expect(
    await statuses(
      agent.get('/api/jobs'),
      agent.get('/api/jobs?status=complete,failed&q=fox&limit=5'),
      agent.get('/api/jobs?limit=1e2'),
      agent.get(`/api/jobs/${done}`),
      agent.get('/api/jobs/not.an.id'),
      agent.get('/api/jobs/no-such-job'),
      agent.get(`/api/jobs/${done}/lineage`),
      agent.get('/api/jobs/no-such-job/lineage'),
      agent.put(`/api/jobs/${done}/favourite`),
      agent.put('/api/jobs/no-such-job/favourite'),
      agent.delete(`/api/jobs/${done}/favourite`),
      agent.delete('/api/jobs/no-such-job/favourite'),
      agent.post(`/api/jobs/${running}/cancel`),
      agent.post(`/api/jobs/${running}/cancel`),
      agent.post('/api/jobs/no-such-job/cancel'),
      agent.get('/api/budget'),
      agent.get('/api/accounts'),
      agent.delete(`/api/jobs/${done}`),
      agent.delete(`/api/jobs/${done}`),
    ),
  ).toEqual([200, 200, 400, 200, 400, 404, 200, 404, 200, 404, 200, 404, 200, 409, 404, 200, 200, 204, 404]);
});

test('a submission answers 202, and each refusal as documented: input, JSON, size, media type, the upstream', async () => {
  const setup = await app();
  const slow = await app({ timeoutMs: 50 });
  // Each account-level refusal takes the one account out of its turn (a 429 pauses it, a
  // refused key takes it out of rotation): those two go to apps of their own.
  const paused = await app();
  const keyless = await app();
  const { agent } = setup;
  const onSubmit = (status: number, headers: Record<string, string> = {}) =>
    server.use(
      http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ error: 'no' }, { status, headers }), {
        once: true,
      }),
    );
  const imagine = (body: unknown) => agent.post('/api/imagine').send(body as object);
  await submitted(setup);

  const local = await statuses(
    imagine({ prompt: '' }),
    imagine({ prompt: 'a fox --ar 99:1' }),
    agent.post('/api/imagine').set('content-type', 'application/json').send('{"prompt":'),
    agent.post('/api/imagine').set('content-type', 'text/plain').send('a fox'),
    imagine({ prompt: `a fox ${'x'.repeat(17_000)}` }),
    imagine({ prompt: 'a fox', image_prompts: [{ job_id: 'not-finished' }] }),
  );
  onSubmit(422);
  const refused = await judged(imagine({ prompt: 'a fox' }));
  onSubmit(503);
  const down = await judged(imagine({ prompt: 'a fox' }));
  onSubmit(429, { 'Retry-After': '17' });
  const limited = await judged(paused.agent.post('/api/imagine').send({ prompt: 'a fox' }));
  const waiting = await judged(paused.agent.post('/api/imagine').send({ prompt: 'a fox' }));
  onSubmit(401);
  const badKey = await judged(keyless.agent.post('/api/imagine').send({ prompt: 'a fox' }));
  const outOfRotation = await judged(keyless.agent.post('/api/imagine').send({ prompt: 'a fox' }));
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async () => {
      await delay('infinite');
      return HttpResponse.json({});
    }),
  );
  const late = await judged(slow.agent.post('/api/imagine').send({ prompt: 'a fox' }));

  expect(local).toEqual([400, 400, 400, 415, 413, 409]);
  expect([waiting.status, waiting.body.status]).toEqual([202, 'queued']);
  expect(
    [refused, limited, down, badKey, outOfRotation, late].map((answer) => [answer.status, answer.body.error.code]),
  ).toEqual([
    [422, 'content_refused'],
    [429, 'rate_limited'],
    [502, 'upstream_unavailable'],
    [502, 'upstream_auth'],
    [502, 'upstream_auth'],
    [504, 'upstream_timeout'],
  ]);
});

test('a kept image answers whole, by range, as an attachment and not modified; bad names and ranges are refused', async () => {
  const setup = await app();
  const { agent } = setup;
  const id = await submitted(setup);
  await setup.jobs.refresh(id);
  const image = `/api/images/${id}.png`;
  const first = await judged(agent.get(image));

  expect(
    await statuses(
      agent.get(`${image}?download`),
      agent.get(image).set('range', 'bytes=0-3'),
      agent.get(image).set('if-none-match', String(first.headers.etag)),
      agent.get(image).set('range', 'bytes=900000-'),
      agent.get('/api/images/not-an-image.txt'),
      agent.get('/api/images/no-such-job.png'),
      agent.get('/api/videos/not-a-video.txt'),
      agent.get(`/api/videos/${id}.webm`),
    ),
  ).toEqual([200, 206, 304, 416, 400, 404, 400, 404]);
  expect(first.status).toBe(200);
});

test('an upload answers 201, its record, its image and its deletion; each refusal as documented', async () => {
  const setup = await app();
  const { agent } = setup;
  const id = await uploaded(setup);
  const image = `/api/uploads/${id}/image`;
  const first = await judged(agent.get(image));

  expect(
    await statuses(
      agent.get(`/api/uploads/${id}`),
      agent.get(image).set('range', 'bytes=0-3'),
      agent.get(image).set('if-none-match', String(first.headers.etag)),
      agent.get(image).set('range', 'bytes=900000-'),
      agent.get('/api/uploads/not-an-upload'),
      agent.get('/api/uploads/not-an-upload/image'),
      agent.post('/api/uploads').set('content-type', 'image/png').send(Buffer.alloc(0)),
      agent.post('/api/uploads').set('content-type', 'image/png').send(Buffer.from('not an image at all')),
      agent.post('/api/uploads').set('content-type', 'text/plain').send('hello'),
      agent
        .post('/api/uploads')
        .set('content-type', 'image/png')
        .send(Buffer.alloc(3 * 1024 * 1024, 1)),
      agent.delete(`/api/uploads/${id}`),
      agent.get(`/api/uploads/${id}`),
      agent.delete(`/api/uploads/${id}`),
      agent.delete('/api/uploads/not-an-upload'),
    ),
  ).toEqual([200, 206, 304, 416, 400, 400, 400, 400, 415, 413, 204, 404, 404, 400]);
  expect(first.status).toBe(200);
});

test('on a relay: actions, describe, blend, a preview and a clip answer as documented, and so do their refusals', async () => {
  const { tasks } = mockRelayUpstream();
  server.use(
    http.get(`${CDN_BASE}/previews/:name`, ({ params }) =>
      params.name === 'broken.png'
        ? new HttpResponse(null, { status: 500 })
        : HttpResponse.arrayBuffer(new Uint8Array(tinyPng(2, 2)).buffer, { headers: { 'content-type': 'image/png' } }),
    ),
    http.get(`${CDN_BASE}/videos/:name`, () =>
      HttpResponse.arrayBuffer(
        new Uint8Array(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(4_000, 7)])).buffer,
        { headers: { 'content-type': 'video/webm' } },
      ),
    ),
    http.post(`${RELAY}/submit/action`, async ({ request: incoming }) => {
      const body = (await incoming.json()) as { customId: string };
      if (!body.customId.includes('::animate_')) return undefined;
      tasks.set('clip-1', {
        id: 'clip-1',
        action: 'VIDEO',
        status: 'SUCCESS',
        progress: '100%',
        imageUrl: `${CDN_BASE}/images/clip-1.png`,
        videoUrl: `${CDN_BASE}/videos/clip-1.webm`,
        buttons: [],
      });
      return HttpResponse.json({ code: 1, description: 'ok', result: 'clip-1' });
    }),
  );
  const setup = await app({ relay: { baseUrl: RELAY, secret: 'relay-secret-c0ffee' } });
  const v7 = await app();
  const { agent } = setup;
  const act = (id: string, body: object) => agent.post(`/api/jobs/${id}/actions`).send(body);
  const grid = await submitted(setup, 'a lighthouse');
  await setup.jobs.refresh(grid);
  const upscale = await judged(act(grid, { action: 'upscale', index: 1 }));
  const upscaleId = String(upscale.body.job_id);
  // The relay's upscale offers Animate too, as V7's do.
  const upstreamUpscale = upstreamIdOf(setup, upscaleId);
  const buttons = tasks.get(upstreamUpscale)?.buttons;
  if (!Array.isArray(buttons)) throw new Error('the mocked relay made no upscale');
  buttons.push({ customId: `MJ::JOB::animate_high::1::${upstreamUpscale}::SOLO`, label: 'Animate (High motion)' });
  await setup.jobs.refresh(upscaleId);
  const clip = await judged(act(upscaleId, { action: 'animate_high' }));
  await setup.jobs.refresh(String(clip.body.job_id));
  const video = (await judged(agent.get(`/api/jobs/${clip.body.job_id}`))).body.video_url;
  const rendering = await submitted(setup, 'still rendering');
  const broken = await submitted(setup, 'a broken preview');
  for (const [id, name] of [
    [rendering, 'grid-40.png'],
    [broken, 'broken.png'],
  ] as const) {
    const upstreamId = upstreamIdOf(setup, id);
    tasks.set(upstreamId, {
      id: upstreamId,
      status: 'IN_PROGRESS',
      progress: '40%',
      imageUrl: `${CDN_BASE}/previews/${name}`,
    });
    await setup.jobs.refresh(id);
  }
  const photo = await uploaded(setup);
  const other = await uploaded(setup);

  expect(upscale.status).toBe(202);
  expect(clip.status).toBe(202);
  expect(
    await statuses(
      act(grid, { action: 'zoom_custom', zoom: 1.5 }),
      act(grid, { action: 'no-such-action' }),
      act('no-such-job', { action: 'reroll' }),
      agent.get(String(video)),
      agent.get(String(video)).set('range', 'bytes=0-3'),
      agent.get(`/api/jobs/${rendering}/preview?at=40`),
      agent.get(`/api/jobs/${broken}/preview`),
      agent.get(`/api/jobs/${grid}/preview`),
      agent.post('/api/describe').send({ image: { upload_id: photo } }),
      agent.post('/api/describe').send({ image: { upload_id: 'up_AAAAAAAAAAAAAAAAAAAA' } }),
      agent.post('/api/describe').send({}),
      v7.agent.post('/api/describe').send({ image: { upload_id: photo } }),
      agent.post('/api/blend').send({ images: [{ upload_id: photo }, { upload_id: other }] }),
      agent.post('/api/blend').send({ images: [{ upload_id: photo }] }),
      v7.agent.post('/api/blend').send({ images: [{ upload_id: photo }, { upload_id: other }] }),
      agent.post('/api/imagine').send({ prompt: 'a fox', image_prompts: [{ upload_id: 'up_AAAAAAAAAAAAAAAAAAAA' }] }),
    ),
  ).toEqual([409, 400, 404, 200, 206, 200, 502, 404, 202, 404, 400, 409, 202, 400, 409, 404]);
});

test('API keys answer as documented: list, make, revoke, and what a key itself may not do', async () => {
  const setup = await app();
  const { agent } = setup;
  const made = await judged(agent.post('/api/keys').send({ name: 'my script' }));
  const key = { authorization: `Bearer ${made.body.secret}` };

  expect(made.status).toBe(201);
  expect(
    await statuses(
      agent.get('/api/keys'),
      agent.post('/api/keys').send({ name: '' }),
      agent.post('/api/keys').send({ name: 'x'.repeat(3_000) }),
      request(setup.app).get('/api/keys').set(key),
      request(setup.app).post('/api/keys').set(key).send({ name: 'another' }),
      request(setup.app).get('/api/jobs').set(key),
      agent.delete('/api/keys/not-a-key'),
      agent.delete('/api/keys/ak_AAAAAAAAAAAAAAAAAAAA'),
      agent.delete(`/api/keys/${made.body.key.id}`),
      request(setup.app).get('/api/jobs').set(key),
    ),
  ).toEqual([200, 400, 413, 403, 403, 200, 400, 404, 204, 401]);
});

test('the session answers as documented: its state, signing in and out, and the refusals', async () => {
  const guarded = await app({ security: { accessToken: TOKEN } });
  const open = await app();
  const browser = request.agent(guarded.app);

  // An agent attaches its cookies when a request is made: each series starts after the last.
  const before = await statuses(
    browser.get('/api/session'),
    browser.post('/api/session').send({ token: 'not-the-token' }),
    browser.post('/api/session').send({}),
    browser.post('/api/session').set('content-type', 'application/json').send('{"token":'),
    browser.post('/api/session').send({ token: TOKEN }),
  );
  const signedIn = await statuses(
    browser.get('/api/jobs'),
    browser.delete('/api/session').set('origin', 'https://evil.example'),
    browser.delete('/api/session'),
  );
  const after = await statuses(
    browser.get('/api/jobs'),
    browser.get('/api/session').set('authorization', 'Bearer not-the-token'),
    open.agent.post('/api/session').send({ token: TOKEN }),
  );

  expect([before, signedIn, after]).toEqual([
    [200, 401, 400, 400, 204],
    [200, 403, 204],
    [401, 401, 404],
  ]);
});

test('the guards answer as documented on every kind of route: no credentials, a foreign Host, a cross-site request', async () => {
  const guarded = await app({ security: { accessToken: TOKEN } });
  const open = await app();
  const foreign = (path: string) => request(open.app).get(path).set('host', 'evil.example');

  expect(
    await statuses(
      request(guarded.app).get('/api/jobs'),
      request(guarded.app).get('/api/budget'),
      request(guarded.app).get('/api/accounts'),
      request(guarded.app).post('/api/imagine').send({ prompt: 'a fox' }),
      foreign('/api/budget'),
      foreign('/api/openapi.json'),
      foreign('/api/docs'),
      open.agent.post('/api/imagine').set('origin', 'https://evil.example').send({ prompt: 'a fox' }),
    ),
  ).toEqual([401, 401, 401, 401, 421, 421, 421, 403]);
});

test('the reference answers as documented: the document, the page and its files', async () => {
  const setup = await app();
  const file = await judged(request(setup.app).get('/api/docs/reference.js'));
  const document = await judged(request(setup.app).get('/api/openapi.json'));

  expect(
    await statuses(
      request(setup.app).get('/api/openapi.json').set('if-none-match', String(document.headers.etag)),
      request(setup.app).get('/api/docs'),
      request(setup.app).get('/api/docs/swagger-ui.css'),
      request(setup.app).get('/api/docs/reference.js').set('if-none-match', String(file.headers.etag)),
      request(setup.app).get('/api/docs/index.html'),
    ),
  ).toEqual([304, 200, 200, 304, 404]);
  expect([file.status, document.status]).toEqual([200, 200]);
});

test('every route with a JSON body answers what express.json can, as documented: bad JSON, too large, a charset it cannot read', async () => {
  const guarded = await app({ security: { accessToken: TOKEN } });
  const { agent } = await app();
  const latin1 = 'application/json; charset=latin1';

  expect(
    await statuses(
      agent.post('/api/keys').set('content-type', latin1).send('{"name":"x"}'),
      agent.post('/api/keys').set('content-type', 'application/json').send('{"name":'),
      agent.post('/api/imagine').set('content-type', latin1).send('{"prompt":"a fox"}'),
      agent.post('/api/describe').set('content-type', latin1).send('{}'),
      agent.post('/api/blend').set('content-type', 'application/json').send('{"images":'),
      agent.post('/api/jobs/abc/actions').set('content-type', latin1).send('{}'),
      request(guarded.app).post('/api/session').set('content-type', latin1).send('{"token":"x"}'),
      request(guarded.app)
        .post('/api/session')
        .send({ token: 'x'.repeat(3_000) }),
    ),
  ).toEqual([415, 400, 415, 415, 400, 415, 415, 413]);
});

test('a path parameter with a broken percent-encoding answers 400 as documented, on every kind of route', async () => {
  const { agent } = await app();
  const broken = '%E0%A4%A';

  expect(
    await statuses(
      agent.get(`/api/docs/${broken}`),
      agent.get(`/api/jobs/${broken}`),
      agent.get(`/api/images/${broken}`),
      agent.delete(`/api/uploads/${broken}`),
      agent.delete(`/api/keys/${broken}`),
    ),
  ).toEqual([400, 400, 400, 400, 400]);
});

test('the judge is not lenient: an unlisted status, a body off its schema and a code the route cannot give are each caught', () => {
  const answer = (status: number, body: unknown, url = '/api/jobs/abc') => ({
    method: 'GET',
    url,
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body,
    length: JSON.stringify(body).length,
  });
  const error = (code: string) => ({ error: { code, message: 'x' } });

  const verdicts = [
    answer(418, error('internal')),
    answer(200, { job_id: 'abc', status: 'done' }),
    answer(200, { jobs: [], next_cursor: null, extra: true }, '/api/jobs'),
    answer(404, error('conflict')),
    answer(404, { error: { code: 'not_found' } }),
    answer(404, error('not_found')),
  ].map((one) => checker.problems(one).length > 0);

  expect(verdicts).toEqual([true, true, true, true, true, false]);
});

// Last in the file (vitest runs a file's tests in order): it reads what the tests above recorded.
// Run alone (a filter naming only it), it has nothing to read and fails saying so.
test('every operation in the document answered, above, at least one success and one error', () => {
  expect(answered.size, 'nothing recorded: run this test with the tests above it, not on its own').toBeGreaterThan(0);

  const missing = checker.operations.flatMap(({ operationId }) => {
    const statuses = [...(answered.get(operationId) ?? [])];
    return [
      ...(statuses.some((status) => status < 400) ? [] : [`${operationId}: no success answered`]),
      ...(statuses.some((status) => status >= 400) ? [] : [`${operationId}: no error answered`]),
    ];
  });

  expect(missing).toEqual([]);
});
