// What a hostile look at the server found, each tried the way an attacker would: parameters
// smuggled in a prompt, odd hook tokens, webhook retries, crashes mid-save, malformed upstream
// answers, odd ranges and numbers, and a preview cache filled with large images.
import { readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { imagineRequestSchema } from '@shared/schemas/imagine';
import { jobSchema } from '@shared/schemas/job';
import { HttpResponse, http } from 'msw';
import request from 'supertest';
import { afterEach, expect, test, vi } from 'vitest';
import { UpstreamError } from '../../server/src/errors';
import { ImageFiles } from '../../server/src/store/image-files';
import type { UpstreamAdapter } from '../../server/src/upstream/adapter';
import { sign } from '../../server/src/webhooks/standard-webhooks';
import { server } from '../mocks/node';
import { CDN_BASE, tinyPng, UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob, tempDir } from './helpers';

mockUpstreamForEachTest();
afterEach(() => vi.useRealTimers());

// Item 4: Midjourney parameters smuggled in the prompt. Parameters are now parsed from the
// text with the shared table: what the job records is what the upstream gets, a value given
// twice is a contradiction, and anything unknown is refused by name, never passed through.

test.each([
  ['a cat --ar 21:9', { aspect_ratio: '1:1' }, '--ar is given twice with different values (21:9 and 1:1)'],
  ['a dog --q 2', { quality: 'standard' }, '--q is given twice with different values (2 and 1)'],
  ['a phone-typed cat —ar 21:9', { aspect_ratio: '1:1' }, '--ar is given twice'],
  ['a fox --turbo --repeat 40', {}, '--repeat is not a supported parameter'],
  ['--v 6 a bare parameter first', {}, '--v (model) takes one value'],
  ['a well--known cat', {}, '--known is not a supported parameter'],
  ['a cat,—q 2, a fullwidth －－stylize 1000', {}, '--q (quality) takes one value'],
  ['a cat --AR 21:9 --ar 1:1', {}, 'aspect ratio is already set by --ar'],
])(
  'POST /api/imagine refuses "%s" with a 400 that says why, and nothing reaches the upstream',
  async (prompt, fields, message) => {
    const { agent } = await buildTestApp();
    let submissions = 0;
    server.use(
      http.post(`${UPSTREAM_BASE}/imagine`, () => {
        submissions += 1;
        return HttpResponse.json({ job_id: 'smuggled', status: 'pending' });
      }),
    );

    const response = await agent.post('/api/imagine').send({ prompt, ...fields });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(message);
    expect(submissions).toBe(0);
  },
);

test.each([
  ['a cat --ar 21:9', 'a cat', { aspect_ratio: '21:9' }, { aspect_ratio: '21:9', quality: 'standard' }],
  ['a dog --q 2', 'a dog', { quality: 2 }, { aspect_ratio: '1:1', quality: 'high' }],
  ['a cat --\u200Bar 21:9', 'a cat', { aspect_ratio: '21:9' }, { aspect_ratio: '21:9', quality: 'standard' }],
  ['a cat \u2e3aq 2', 'a cat', { quality: 2 }, { aspect_ratio: '1:1', quality: 'high' }],
])(
  'POST /api/imagine reads "%s" as the job it is: recorded and sent with the same parameters',
  async (prompt, text, params, sent) => {
    const { agent } = await buildTestApp();
    const bodies: unknown[] = [];
    server.use(
      http.post(`${UPSTREAM_BASE}/imagine`, async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json({ job_id: 'seen', status: 'pending' });
      }),
    );

    const response = await agent.post('/api/imagine').send({ prompt });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ prompt: text, params, ...sent });
    expect(bodies).toEqual([expect.objectContaining({ prompt: text, ...sent })]);
  },
);

test.each([
  'a cat::2 a dog::1',
  'a well-known cat — sleeping',
  'a cat - ar 21:9 -- not a parameter',
  'a cat—black and white—on a roof',
  '1990--2000 posters',
])('POST /api/imagine accepts "%s": weights and ordinary dashes are not parameters', async (prompt) => {
  const { agent } = await buildTestApp();

  const response = await agent.post('/api/imagine').send({ prompt });

  expect(response.status).toBe(202);
});

// Item 7: the relay hook's path token compared as strings of characters, not bytes.

test('the relay hook answers 404, not 500, to a 32-character token with a non-ASCII character', async () => {
  const context = await buildTestApp({
    relay: { baseUrl: 'https://relay.test/mj', secret: 'relay-secret-9c2d', publicUrl: 'https://studio.example' },
  });
  const lookalike = `${context.relayToken.slice(0, 31)}é`;
  const tokens = [lookalike, `é${context.relayToken.slice(1)}`, 'é'.repeat(32), 'x'.repeat(32)];

  const answers = await Promise.all(
    tokens.map((token) =>
      request(context.app)
        .post(`/hooks/mj-proxy/${encodeURIComponent(token)}`)
        .send({ id: 'task_1', status: 'SUCCESS' }),
    ),
  );

  expect(lookalike).toHaveLength(32);
  expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 404]);
  expect(context.logs.join('')).not.toContain('request failed');
});

// Item 8: a webhook delivery id spent before its body was accepted.

const SECRET = `whsec_${Buffer.from('webhook-secret-for-the-tests-01').toString('base64')}`;

function deliver(app: Parameters<typeof request>[0], payload: unknown, id: string) {
  const body = JSON.stringify(payload);
  const at = Math.floor(Date.now() / 1000);
  return request(app)
    .post('/hooks/v7')
    .set('content-type', 'application/json')
    .set('webhook-id', id)
    .set('webhook-timestamp', String(at))
    .set('webhook-signature', sign(SECRET, id, at, body))
    .send(body);
}

async function webhookApp() {
  const context = await buildTestApp({ webhookSecret: SECRET });
  server.use(http.post(`${UPSTREAM_BASE}/imagine`, () => HttpResponse.json({ job_id: 'up_1', status: 'pending' })));
  const id = await submitJob(context.agent);
  const view = async () => jobSchema.parse((await context.agent.get(`/api/jobs/${id}`)).body);
  return { ...context, view };
}

test('a signed delivery refused for its body is applied when the sender retries it with the same id and a good body', async () => {
  const { app, view } = await webhookApp();
  const refused = await deliver(app, { job_id: 'up_1', status: 'complete' }, 'msg_retried');

  const retried = await deliver(
    app,
    { job_id: 'up_1', status: 'complete', image_url: `${CDN_BASE}/images/up_1.png` },
    'msg_retried',
  );

  expect(refused.status).toBe(400);
  expect(retried.status).toBe(204);
  expect(await view()).toMatchObject({ status: 'complete', image_url: expect.stringMatching(/^\/api\/images\//) });
});

test('a delivery that was applied, or was about a job we do not know, is still a repeat when sent again', async () => {
  const { app, view } = await webhookApp();
  await deliver(app, { job_id: 'up_1', status: 'processing', progress: 40 }, 'msg_applied');
  const unknown = await deliver(app, { job_id: 'not_ours', status: 'processing', progress: 10 }, 'msg_stranger');

  const repeat = await deliver(app, { job_id: 'up_1', status: 'failed', error: 'replayed' }, 'msg_applied');
  const strangerAgain = await deliver(app, { job_id: 'up_1', status: 'failed', error: 'replayed' }, 'msg_stranger');

  expect(unknown.status).toBe(202);
  expect([repeat.status, strangerAgain.status]).toEqual([204, 204]);
  expect(await view()).toMatchObject({ status: 'processing', progress: 40 });
});

// Item 9: kill -9 during an image save.

test('a temporary file left by a save killed midway is removed when the image files open again', async () => {
  const dir = tempDir();
  const first = new ImageFiles(dir);
  const kept = await first.save('job_kept', tinyPng(), 'png');
  const leftover = `.job_killed.png.${'a1b2c3d4e5f6'}.tmp`;
  writeFileSync(path.join(dir, leftover), Buffer.alloc(1024));
  writeFileSync(path.join(dir, 'notes.txt'), 'not ours');

  const reopened = new ImageFiles(dir);

  expect(readdirSync(dir).sort()).toEqual([kept, 'notes.txt']);
  expect(reopened.pathOf(kept)).toBe(path.join(dir, kept));
});

test('in a folder several instances share, a recent temporary file is another save in progress and stays; an old one goes', async () => {
  const dir = tempDir();
  const recent = `.job_saving.png.${'a1b2c3d4e5f6'}.tmp`;
  const old = `.job_killed.png.${'0f1e2d3c4b5a'}.tmp`;
  writeFileSync(path.join(dir, recent), Buffer.alloc(16));
  writeFileSync(path.join(dir, old), Buffer.alloc(16));
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(path.join(dir, old), twoHoursAgo, twoHoursAgo);

  new ImageFiles(dir, { shared: true });

  expect(readdirSync(dir)).toEqual([recent]);
});

// Item 10: a malformed status answer retried every 5 s until the deadline.

function malformedUpstream(answers: ('bad' | 'good')[], then: 'bad' | 'good') {
  const statusCalls: number[] = [];
  const adapter: UpstreamAdapter = {
    name: 'fake',
    async submit() {
      return { id: 'up_bad', status: 'pending' };
    },
    async getJob(id) {
      statusCalls.push(Date.now());
      if ((answers.shift() ?? then) === 'bad') {
        throw new UpstreamError('bad_response', 'The upstream answered a status call with an unexpected shape');
      }
      return { id, status: 'processing', progress: Math.min(90, statusCalls.length) };
    },
  };
  return { adapter, statusCalls };
}

async function onFakeClock(adapter: UpstreamAdapter) {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const context = await buildTestApp({
    upstream: () => adapter,
    budgetPerMinute: 60,
    expectedDurationMs: 30_000,
    deadlineMs: 10 * 60_000,
  });
  const job = await context.scheduler.admit(
    context.jobs.record('owner', imagineRequestSchema.parse({ prompt: 'a fox' })),
  );
  return { ...context, job };
}

test('a job whose status checks keep getting malformed answers backs off and is failed after a few, not retried every 5 s', async () => {
  const { adapter, statusCalls } = malformedUpstream([], 'bad');
  const { jobs, job } = await onFakeClock(adapter);

  await vi.advanceTimersByTimeAsync(10 * 60_000);

  expect(statusCalls.length).toBe(5);
  const gaps = statusCalls.slice(1).map((at, i) => at - (statusCalls[i] ?? 0));
  expect(gaps).toEqual([5_000, 10_000, 20_000, 40_000]);
  expect(jobs.find(job.id)).toMatchObject({
    status: 'failed',
    error: expect.stringMatching(
      /^The upstream answered 5 status checks of this job with malformed data \(last: .+\); it was given up$/,
    ),
  });
});

test('a malformed answer now and then does not fail a job: only consecutive ones count', async () => {
  const { adapter, statusCalls } = malformedUpstream(
    ['bad', 'bad', 'bad', 'bad', 'good', 'bad', 'bad', 'good'],
    'good',
  );
  const { jobs, job } = await onFakeClock(adapter);

  await vi.advanceTimersByTimeAsync(4 * 60_000);

  expect(statusCalls.length).toBeGreaterThan(8);
  expect(jobs.find(job.id)?.status).toBe('processing');
});

// Item 11: ranges, numbers and the preview cache.

test('GET /api/images/:name answers 416 to an unsatisfiable Range, and still 404 for a missing file', async () => {
  const { agent, jobs, dataDir } = await buildTestApp();
  const id = await submitJob(agent);
  await jobs.refresh(id);

  const unsatisfiable = await agent.get(`/api/images/${id}.png`).set('Range', 'bytes=100000-200000');
  const partial = await agent.get(`/api/images/${id}.png`).set('Range', 'bytes=0-7').buffer(true);
  rmSync(path.join(dataDir, 'images', `${id}.png`));
  const missing = await agent.get(`/api/images/${id}.png`);

  expect(unsatisfiable.status).toBe(416);
  expect(unsatisfiable.headers['content-range']).toMatch(/^bytes \*\/\d+$/);
  expect(unsatisfiable.headers['content-type']).toMatch(/^application\/json/);
  expect(unsatisfiable.headers['cache-control']).not.toContain('immutable');
  expect(unsatisfiable.body.error.code).toBe('invalid_request');
  expect(partial.status).toBe(206);
  expect(missing.status).toBe(404);
});

test.each(['1e2', '0x10', '1.0', ' 5', '+5', '5abc', '0', '101'])(
  'GET /api/jobs answers 400 for limit=%s: only plain decimal integers in range',
  async (limit) => {
    const { agent } = await buildTestApp();

    const response = await agent.get('/api/jobs').query(`limit=${encodeURIComponent(limit)}`);

    expect(response.status).toBe(400);
    expect(response.body.error.fields).toEqual([{ path: 'limit', message: expect.any(String) }]);
  },
);

test('GET /api/jobs takes limit=2 and limit=100 as numbers', async () => {
  const { agent } = await buildTestApp();
  for (let i = 0; i < 3; i++) await submitJob(agent, `fox ${i}`);

  const two = await agent.get('/api/jobs?limit=2');
  const hundred = await agent.get('/api/jobs?limit=100');

  expect(two.body.jobs).toHaveLength(2);
  expect(hundred.body.jobs).toHaveLength(3);
});

test('the preview cache is bounded in bytes: after 36 MiB of previews the oldest is downloaded again', async () => {
  const previewBytes = 4 * 1024 * 1024;
  const { jobs, store } = await buildTestApp({ imageMaxBytes: previewBytes + 1024 });
  const big = Buffer.concat([tinyPng(), Buffer.alloc(previewBytes - tinyPng().length)]);
  const downloads = new Map<string, number>();
  server.use(
    http.get(`${CDN_BASE}/previews/:name`, ({ params }) => {
      const name = String(params.name);
      downloads.set(name, (downloads.get(name) ?? 0) + 1);
      return HttpResponse.arrayBuffer(new Uint8Array(big).buffer, { headers: { 'content-type': 'image/png' } });
    }),
  );
  const ids: string[] = [];
  for (let i = 0; i < 9; i++) {
    const job = jobs.record('owner', imagineRequestSchema.parse({ prompt: `fox ${i}` }));
    store.updateActive(
      job.id,
      { status: 'processing', upstreamId: `up_${i}`, previewUrl: `${CDN_BASE}/previews/${i}.png` },
      Date.now(),
    );
    ids.push(job.id);
  }

  for (const id of ids) await jobs.preview('owner', id);
  await jobs.preview('owner', ids[8] ?? '');
  await jobs.preview('owner', ids[0] ?? '');

  expect(downloads.get('8.png')).toBe(1);
  expect(downloads.get('0.png')).toBe(2);
});

test('POST /api/imagine refuses a permutation prompt, which would run one billed job per combination', async () => {
  const { agent } = await buildTestApp();

  const response = await agent.post('/api/imagine').send({ prompt: 'a {red, blue, green} bird' });
  const emoji = await agent.post('/api/imagine').send({ prompt: 'a family 👨\u200d👩\u200d👧 at the beach' });

  expect(response.status).toBe(400);
  expect(response.body.error.message).toMatch(/Permutation/);
  expect(emoji.status).toBe(202);
});

test('a status the upstream made up, even one named like an object property, is a malformed answer, not a stuck job', async () => {
  const { agent, jobs } = await buildTestApp();
  const id = await submitJob(agent);
  server.use(http.get(`${UPSTREAM_BASE}/jobs/:jobId`, () => HttpResponse.json({ status: 'constructor' })));

  const refresh = await jobs.refresh(id).catch((error: unknown) => error);

  expect(refresh).toMatchObject({ kind: 'bad_response' });
});
