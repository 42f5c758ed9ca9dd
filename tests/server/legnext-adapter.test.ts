import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createLegnextAdapter, LEGNEXT_DEFAULT_BASE } from '../../server/src/upstream/legnext-adapter';
import { LEGNEXT, LEGNEXT_KEY, LEGNEXT_SENSITIVE_WORD, mockLegnextUpstream } from '../mocks/legnext-upstream';
import { mockHttpForEachTest, server } from '../mocks/node';

mockHttpForEachTest();

const HOOK = 'https://studio.test/hooks/legnext/token-1';
const png = Buffer.from('89504e470d0a1a0a', 'hex');

const adapter = (options: { secret?: string; webhookUrl?: string | (() => string | undefined) } = {}) =>
  createLegnextAdapter({
    baseUrl: `${LEGNEXT}/`,
    secret: options.secret ?? LEGNEXT_KEY,
    http: new UpstreamHttpClient({ timeoutMs: 1_000 }),
    ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
  });
const submit = (text = 'a fox', client = adapter()) =>
  client.submit({ text, params: { aspect_ratio: '16:9', quality: 2 }, imageUrls: [], images: [] });
const onJob = (answer: Record<string, unknown>) =>
  server.use(http.get(`${LEGNEXT}/api/v1/job/:jobId`, () => HttpResponse.json(answer)));
const task = (fields: Record<string, unknown>) => ({
  job_id: 'job-1',
  model: 'midjourney',
  task_type: 'diffusion',
  output: { image_url: '', image_urls: null, seed: '' },
  error: { code: 0, raw_message: '', message: '', detail: null },
  ...fields,
});
const GRID = 'https://cdn.legnext.test/temp/1760408558306.png';

test('the default base is Legnext origin, with the paths appended by the adapter', () => {
  expect(LEGNEXT_DEFAULT_BASE).toBe('https://api.legnext.ai');
});

test('a submission sends the x-api-key, the whole prompt as text and our callback, and answers the job id', async () => {
  const legnext = mockLegnextUpstream();

  const answer = await submit('a fox', adapter({ webhookUrl: () => HOOK }));

  expect(answer).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'pending' });
  expect(legnext.sent).toEqual([
    { path: 'diffusion', apiKey: LEGNEXT_KEY, body: { text: 'a fox --ar 16:9 --q 2', callback: HOOK } },
  ]);
});

test('without a webhook address yet, the submission carries no callback', async () => {
  const legnext = mockLegnextUpstream();

  await submit('a fox', adapter({ webhookUrl: () => undefined }));

  expect(legnext.sent[0]?.body).toEqual({ text: 'a fox --ar 16:9 --q 2' });
});

test('image prompts and style references travel as links in the text', async () => {
  const legnext = mockLegnextUpstream();

  await adapter().submit({
    text: 'a fox',
    params: { stylize: 250 },
    imageUrls: ['https://example.com/a.png'],
    images: [
      {
        role: 'style',
        url: 'https://studio.test/media/uploads/up_x.png?e=1&s=sig',
        load: async () => ({ body: png, contentType: 'image/png' }),
      },
    ],
  });

  expect(legnext.sent[0]?.body.text).toBe(
    'https://example.com/a.png a fox --s 250 --sref https://studio.test/media/uploads/up_x.png?e=1&s=sig',
  );
});

test('an image without a public link is refused before anything is sent', async () => {
  const legnext = mockLegnextUpstream();

  const failure = adapter().submit({
    text: 'a fox',
    params: {},
    imageUrls: [],
    images: [{ role: 'image', load: async () => ({ body: png, contentType: 'image/png' }) }],
  });

  await expect(failure).rejects.toMatchObject({ kind: 'rejected', message: expect.stringContaining('public link') });
  expect(legnext.sent).toEqual([]);
});

test('a prompt longer than Legnext takes is refused before anything is sent', async () => {
  const legnext = mockLegnextUpstream();

  await expect(submit('fox '.repeat(2_100).trim())).rejects.toMatchObject({ kind: 'rejected' });
  expect(legnext.sent).toEqual([]);
});

test('a job walks pending, staged, processing and completed, and ends with its grid and its offers', async () => {
  mockLegnextUpstream();
  const client = adapter();
  const { id } = await submit('a fox', client);

  const seen = [await client.getJob(id), await client.getJob(id), await client.getJob(id)];
  const done = await client.getJob(id);

  expect(seen.map((job) => job.status)).toEqual(['pending', 'pending', 'processing']);
  expect(done).toEqual({
    id,
    status: 'complete',
    progress: 100,
    imageUrl: `https://cdn.legnext.test/temp/${id}.png`,
    offers: [
      ...[1, 2, 3, 4].map((index) => ({ action: 'upscale', index })),
      ...[1, 2, 3, 4].map((index) => ({ action: 'variation', index })),
      { action: 'reroll' },
    ],
  });
});

test.each([
  [task({ status: 'pending' }), { status: 'pending' }],
  [task({ status: 'staged' }), { status: 'pending' }],
  [task({ status: 'processing', progress: 42 }), { status: 'processing', progress: 42 }],
  [task({ status: 'processing', progress: 'much' }), { status: 'processing' }],
  [
    task({ status: 'completed', output: { image_url: GRID, image_urls: null } }),
    { status: 'complete', progress: 100, imageUrl: GRID },
  ],
  [
    task({
      status: 'failed',
      output: null,
      error: { code: 500, message: 'Midjourney generation timed out', raw_message: '' },
    }),
    { status: 'failed', error: 'Midjourney generation timed out' },
  ],
  [
    task({ status: 'failed', output: null, error: { code: 403, message: 'Banned prompt: gore', raw_message: '' } }),
    { status: 'failed', error: 'Legnext moderated the job (sensitive content): Banned prompt: gore' },
  ],
  [task({ status: 'failed', output: null, error: null }), { status: 'failed', error: 'Legnext reported a failure' }],
])('job answer %j maps to %j', async (answer, expected) => {
  onJob(answer);

  expect(await adapter().getJob('job-1')).toEqual({ id: 'job-1', ...expected });
});

test('an upscale names its one image in the list and offers nothing we take', async () => {
  const one = 'https://cdn.legnext.test/mj/job-1_0.png?Expires=1&Signature=x';
  onJob(
    task({
      task_type: 'upscale',
      status: 'completed',
      output: { image_url: '', image_urls: [one], available_actions: { upscale: [0], variation: [0] } },
    }),
  );

  const job = await adapter().getJob('job-1');

  expect(job).toEqual({ id: 'job-1', status: 'complete', progress: 100, imageUrl: one, offers: [] });
});

test('available actions we do not take are dropped, and malformed ones offer nothing', async () => {
  onJob(
    task({
      status: 'completed',
      output: {
        image_url: GRID,
        available_actions: { upscale: [2, 2, 7, 'x', 0], variation: 'all', reroll: false, pan: [0], remix: [1] },
      },
    }),
  );

  const job = await adapter().getJob('job-1');

  expect(job.offers).toEqual([
    { action: 'upscale', index: 1 },
    { action: 'upscale', index: 3 },
  ]);
});

test('a finished grid without available actions says nothing about its offers', async () => {
  onJob(task({ status: 'completed', output: { image_url: GRID, image_urls: [] } }));

  const job = await adapter().getJob('job-1');

  expect(job).toEqual({ id: 'job-1', status: 'complete', progress: 100, imageUrl: GRID });
});

test.each([
  ['an unknown status', task({ status: 'exploded' })],
  ['a finished job without an image', task({ status: 'completed' })],
  ['an image link that is not http', task({ status: 'completed', output: { image_url: 'javascript:alert(1)' } })],
  ['no job id', { status: 'completed' }],
])('a job answer with %s is a malformed answer', async (_why, answer: Record<string, unknown>) => {
  onJob(answer);

  await expect(adapter().getJob('job-1')).rejects.toMatchObject({ kind: 'bad_response' });
});

test.each([
  [401, {}, { kind: 'auth' }],
  [402, {}, { kind: 'account', message: expect.stringContaining('out of credits') }],
  [403, {}, { kind: 'refused', message: expect.stringContaining('sensitive content') }],
  [400, {}, { kind: 'rejected' }],
  [413, {}, { kind: 'rejected' }],
  [422, {}, { kind: 'rejected' }],
  [429, { 'retry-after': '12' }, { kind: 'rate_limited', retryAfterS: 12 }],
  [429, {}, { kind: 'rate_limited', retryAfterS: 30 }],
  [500, {}, { kind: 'unavailable' }],
  [503, {}, { kind: 'unavailable' }],
  [418, {}, { kind: 'bad_response' }],
])('HTTP %i %j on submit is %j, and the key never shows in the message', async (status, headers, expected) => {
  server.use(
    http.post(`${LEGNEXT}/api/v1/diffusion`, () =>
      HttpResponse.json(
        { code: status, message: `refused for key ${LEGNEXT_KEY}`, raw_message: LEGNEXT_KEY, detail: null },
        { status, headers },
      ),
    ),
  );

  const failure: unknown = await submit().catch((error: unknown) => error);

  expect(failure).toMatchObject({ ...expected, upstreamStatus: status });
  expect(String((failure as Error).message)).not.toContain(LEGNEXT_KEY);
});

test('a refusal in the job-object shape is read for its words', async () => {
  server.use(
    http.post(`${LEGNEXT}/api/v1/diffusion`, () =>
      HttpResponse.json(
        task({ job_id: '', status: 'failed', error: { code: 403, message: 'Sensitive content detected' } }),
        { status: 403 },
      ),
    ),
  );

  await expect(submit()).rejects.toMatchObject({
    kind: 'refused',
    message: 'Legnext refused the prompt as sensitive content: Sensitive content detected',
  });
});

test('a failed job in an HTTP 200 answer to a submission is the refusal its error code names', async () => {
  server.use(
    http.post(`${LEGNEXT}/api/v1/diffusion`, () =>
      HttpResponse.json(
        task({ job_id: '', status: 'failed', error: { code: 402, message: `no credits ${LEGNEXT_KEY}` } }),
      ),
    ),
  );

  const failure: unknown = await submit().catch((error: unknown) => error);

  expect(failure).toMatchObject({ kind: 'account', upstreamStatus: 402 });
  expect(String((failure as Error).message)).not.toContain(LEGNEXT_KEY);
});

test('a submission answer without a usable job id is a malformed answer', async () => {
  server.use(
    http.post(`${LEGNEXT}/api/v1/diffusion`, () => HttpResponse.json(task({ job_id: '../x', status: 'pending' }))),
  );

  await expect(submit()).rejects.toMatchObject({ kind: 'bad_response' });
});

test('the fake refuses a sensitive word, a spent account, a rate limit and a wrong key as Legnext does', async () => {
  const legnext = mockLegnextUpstream();

  const sensitive = await submit(`a ${LEGNEXT_SENSITIVE_WORD} scene`).catch((error: unknown) => error);
  legnext.credits = 0;
  const spent = await submit().catch((error: unknown) => error);
  legnext.credits = 5;
  legnext.rateLimitNext('7');
  const limited = await submit().catch((error: unknown) => error);
  const wrongKey = await submit('a fox', adapter({ secret: 'lnx_wrong' })).catch((error: unknown) => error);

  expect(sensitive).toMatchObject({ kind: 'refused' });
  expect(spent).toMatchObject({ kind: 'account' });
  expect(limited).toMatchObject({ kind: 'rate_limited', retryAfterS: 7 });
  expect(wrongKey).toMatchObject({ kind: 'auth' });
  expect(String((wrongKey as Error).message)).not.toContain('lnx_wrong');
});

test('an unknown job is not found', async () => {
  mockLegnextUpstream();

  await expect(adapter().getJob('7c0e4a1b-0000-4000-8000-999999999999')).rejects.toMatchObject({ kind: 'not_found' });
});

test('grid actions go to upscale, variation and reroll with Legnext image numbers 0-3 and our callback', async () => {
  const legnext = mockLegnextUpstream();
  const client = adapter({ webhookUrl: HOOK });
  const { id } = await submit('a fox', client);
  for (let check = 0; check < 4; check += 1) await client.getJob(id);

  const upscale = await client.act?.({ gridId: id, action: 'upscale', index: 3, prompt: 'a fox --ar 16:9 --q 2' });
  const variation = await client.act?.({ gridId: id, action: 'variation', index: 1, prompt: 'a fox' });
  const remix = await client.act?.({ gridId: id, action: 'variation', index: 4, prompt: 'a wolf', remix: true });
  const reroll = await client.act?.({ gridId: id, action: 'reroll', prompt: 'a fox' });

  expect(client.gridActions).toEqual(['upscale', 'variation', 'reroll']);
  expect(client.imagineOutput).toBe('grid');
  expect([upscale?.status, variation?.status, remix?.status, reroll?.status]).toEqual([
    'pending',
    'pending',
    'pending',
    'pending',
  ]);
  expect(new Set([upscale?.id, variation?.id, remix?.id, reroll?.id, id]).size).toBe(5);
  expect(legnext.sent.slice(1)).toEqual([
    { path: 'upscale', apiKey: LEGNEXT_KEY, body: { jobId: id, imageNo: 2, type: 0, callback: HOOK } },
    { path: 'variation', apiKey: LEGNEXT_KEY, body: { jobId: id, imageNo: 0, type: 1, callback: HOOK } },
    {
      path: 'variation',
      apiKey: LEGNEXT_KEY,
      body: { jobId: id, imageNo: 3, type: 1, remixPrompt: 'a wolf', callback: HOOK },
    },
    { path: 'reroll', apiKey: LEGNEXT_KEY, body: { jobId: id, callback: HOOK } },
  ]);
});

test('an upscale taken on a finished grid finishes as one image', async () => {
  mockLegnextUpstream();
  const client = adapter();
  const { id } = await submit('a fox', client);
  for (let check = 0; check < 4; check += 1) await client.getJob(id);
  const child = await client.act?.({ gridId: id, action: 'upscale', index: 2 });
  for (let check = 0; check < 3; check += 1) await client.getJob(child?.id ?? '');

  const done = await client.getJob(child?.id ?? '');

  expect(done).toEqual({
    id: child?.id,
    status: 'complete',
    progress: 100,
    imageUrl: expect.stringMatching(/^https:\/\/cdn\.legnext\.test\/mj\/.+_0\.png\?Expires=/),
  });
});

test('an action Legnext has no endpoint for, a reroll with a new prompt or a missing index is refused unsent', async () => {
  const legnext = mockLegnextUpstream();
  const client = adapter();

  const results = await Promise.all(
    [
      { gridId: 'g', action: 'pan_left' as const },
      { gridId: 'g', action: 'reroll' as const, prompt: 'a wolf', remix: true },
      { gridId: 'g', action: 'upscale' as const },
      { gridId: 'g', action: 'variation' as const, index: 5 },
    ].map((input) => client.act?.(input).catch((error: unknown) => error)),
  );

  expect(results).toEqual([
    expect.objectContaining({ kind: 'rejected' }),
    expect.objectContaining({ kind: 'rejected' }),
    expect.objectContaining({ kind: 'rejected' }),
    expect.objectContaining({ kind: 'rejected' }),
  ]);
  expect(legnext.sent).toEqual([]);
});

test('an action the fake refuses (the grid is not finished) is a rejected request', async () => {
  mockLegnextUpstream();
  const client = adapter();
  const { id } = await submit('a fox', client);

  await expect(client.act?.({ gridId: id, action: 'upscale', index: 1 })).rejects.toMatchObject({
    kind: 'rejected',
    message: 'Legnext rejected the request: The original job has no finished grid',
  });
});

test.each([
  [{ job_id: 'job-1', status: 'completed', output: { image_url: GRID } }, { final: true }],
  [{ job_id: 'job-1', status: 'failed' }, { final: true }],
  [{ job_id: 'job-1', status: 'processing' }, { final: false }],
  [{ job_id: 'job-1', status: 'staged' }, { final: false }],
  [{ job_id: 'job-1', status: 'mystery' }, { final: true }],
  [{ job_id: 'job-1' }, { final: true }],
])('a callback body %j is only a hint to check job-1 (%j)', (body, expected) => {
  const notice = adapter().parseWebhook?.(Buffer.from(JSON.stringify(body)));

  expect(notice).toEqual({ kind: 'hint', upstreamId: 'job-1', ...expected });
});

test.each([
  ['not json', 'not json at all'],
  ['a foreign body', JSON.stringify({ id: 'task-1', status: 'SUCCESS' })],
  ['an id that could escape a path', JSON.stringify({ job_id: '../../admin', status: 'completed' })],
  ['an empty id', JSON.stringify({ job_id: '', status: 'completed' })],
])('a callback body that is %s names no job', (_what, body) => {
  expect(adapter().parseWebhook?.(Buffer.from(body))).toBeUndefined();
});
