import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import type { ActionInput, SubmitInput } from '../../server/src/upstream/adapter';
import { APIFRAME_DEFAULT_BASE, createApiframeAdapter } from '../../server/src/upstream/apiframe-adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import {
  APIFRAME,
  APIFRAME_BANNED,
  APIFRAME_CDN,
  APIFRAME_KEY,
  mockApiframeUpstream,
} from '../mocks/apiframe-upstream';
import { mockHttpForEachTest, server } from '../mocks/node';

mockHttpForEachTest();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const png = Buffer.from('89504e470d0a1a0a', 'hex');

const adapter = (options: { webhookUrl?: string | (() => string | undefined); secret?: string } = {}) =>
  createApiframeAdapter({
    baseUrl: `${APIFRAME}/`,
    secret: options.secret ?? APIFRAME_KEY,
    http: new UpstreamHttpClient({ timeoutMs: 1_000 }),
    webhookUrl: options.webhookUrl,
  });
const fox: SubmitInput = { text: 'a fox', params: { aspect_ratio: '16:9', quality: 2 }, imageUrls: [], images: [] };
const onJob = (answer: Record<string, unknown>) =>
  server.use(http.get(`${APIFRAME}/v2/jobs/:id`, () => HttpResponse.json(answer)));
const job = (extra: Record<string, unknown>) => ({
  id: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890',
  model: 'midjourney',
  progress: 0,
  result: null,
  error: null,
  creditCost: 16,
  webhookStatus: null,
  createdAt: '2026-03-15T10:00:00.000Z',
  completedAt: null,
  ...extra,
});
const GRID = {
  images: [1, 2, 3, 4].map((n) => `${APIFRAME_CDN}/images/g-${n}.png`),
  gridUrl: `${APIFRAME_CDN}/images/g-grid.png`,
};
const gridOffers = [1, 2, 3, 4].flatMap((index) => [
  { action: 'upscale', index },
  { action: 'variation', index },
]);
const imageOffers = ['vary_region', 'zoom_out_2x', 'zoom_out_1_5x', 'pan_left', 'pan_right', 'pan_up', 'pan_down'].map(
  (action) => ({ action }),
);

/** A finished grid on the fake, and the fake itself. */
async function finishedGrid() {
  const fake = mockApiframeUpstream();
  const { id } = await adapter().submit(fox);
  fake.finish(id);
  return { fake, id };
}

test('a submission sends the key, a fresh idempotency key and the whole prompt to generate, and answers the job', async () => {
  const fake = mockApiframeUpstream();

  const first = await adapter().submit(fox);
  const second = await adapter().submit(fox);

  expect(first).toEqual({ id: expect.stringMatching(UUID), status: 'pending' });
  expect(second.id).not.toBe(first.id);
  expect(fake.sent.map(({ body }) => body)).toEqual([
    { model: 'midjourney', prompt: 'a fox --ar 16:9 --q 2' },
    { model: 'midjourney', prompt: 'a fox --ar 16:9 --q 2' },
  ]);
  const [one, two] = fake.sent.map(({ idempotencyKey }) => idempotencyKey);
  expect(one).toMatch(UUID);
  expect(two).toMatch(UUID);
  expect(two).not.toBe(one);
});

test('the default base is Apiframe’s own origin', () => {
  expect(APIFRAME_DEFAULT_BASE).toBe('https://api.apiframe.ai');
});

test('a wrong key is refused by the fake and reads as the credentials being rejected', async () => {
  mockApiframeUpstream();

  const attempt = adapter({ secret: 'afk_wrong' }).submit(fox);

  await expect(attempt).rejects.toMatchObject({ kind: 'auth', upstreamStatus: 401 });
});

test('our webhook address goes with the submission, asking only for the ends', async () => {
  const fake = mockApiframeUpstream();

  await adapter({ webhookUrl: 'https://studio.test/hooks/apiframe/t0k3n' }).submit(fox);
  await adapter({ webhookUrl: () => 'https://studio.test/hooks/apiframe/later' }).submit(fox);
  await adapter({ webhookUrl: () => undefined }).submit(fox);

  expect(fake.sent.map(({ body }) => [body.webhookUrl, body.webhookEvents])).toEqual([
    ['https://studio.test/hooks/apiframe/t0k3n', ['completed', 'failed']],
    ['https://studio.test/hooks/apiframe/later', ['completed', 'failed']],
    [undefined, undefined],
  ]);
});

test('image inputs travel as links in the prompt: image prompts in front, style references as --sref', async () => {
  const fake = mockApiframeUpstream();

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

  expect(fake.sent[0]?.body.prompt).toBe(
    'https://example.com/a.png a fox --s 250 --sref https://studio.test/media/uploads/up_x.png?e=1&s=sig',
  );
});

test('an image without a link is refused before anything is sent: Apiframe needs a public link', async () => {
  const fake = mockApiframeUpstream();

  const attempt = adapter().submit({
    ...fox,
    images: [{ role: 'image', load: async () => ({ body: png, contentType: 'image/png' }) }],
  });

  await expect(attempt).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/public link/) });
  expect(fake.sent).toEqual([]);
});

test('a prompt longer than Apiframe’s 2,000 characters is refused before anything is sent', async () => {
  const fake = mockApiframeUpstream();

  const attempt = adapter().submit({ ...fox, text: 'fox '.repeat(600).trim() });

  await expect(attempt).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/2000/) });
  expect(fake.sent).toEqual([]);
});

test('a job goes queued, processing, complete through the fake, with its progress and its grid', async () => {
  mockApiframeUpstream();
  const upstream = adapter();
  const { id } = await upstream.submit(fox);

  const seen = [await upstream.getJob(id), await upstream.getJob(id), await upstream.getJob(id)];

  expect(seen.map(({ status, progress }) => [status, progress])).toEqual([
    ['pending', 0],
    ['processing', 65],
    ['complete', 100],
  ]);
  expect(seen[2]).toEqual({
    id,
    status: 'complete',
    progress: 100,
    imageUrl: `${APIFRAME_CDN}/images/${id}-grid.png`,
    offers: gridOffers,
  });
});

test.each([
  [
    { status: 'QUEUED', progress: 0 },
    { status: 'pending', progress: 0 },
  ],
  [
    { status: 'PROCESSING', progress: 65 },
    { status: 'processing', progress: 65 },
  ],
  [{ status: 'PROCESSING', progress: null }, { status: 'processing' }],
  [
    { status: 'COMPLETED', progress: 100, result: GRID },
    { status: 'complete', progress: 100, imageUrl: GRID.gridUrl, offers: gridOffers },
  ],
  [
    { status: 'COMPLETED', progress: 100, result: { images: [`${APIFRAME_CDN}/images/u-1.png`] } },
    { status: 'complete', progress: 100, imageUrl: `${APIFRAME_CDN}/images/u-1.png`, offers: imageOffers },
  ],
  [
    { status: 'COMPLETED', progress: 100, result: `${APIFRAME_CDN}/results/a1b2.png` },
    { status: 'complete', progress: 100, imageUrl: `${APIFRAME_CDN}/results/a1b2.png` },
  ],
  [
    { status: 'FAILED', error: 'Provider timed out' },
    { status: 'failed', progress: 0, error: 'Provider timed out' },
  ],
  [{ status: 'FAILED' }, { status: 'failed', progress: 0, error: 'Apiframe reported a failure without a reason' }],
  [
    { status: 'FAILED', error: 'Provider returned an error: content policy violation' },
    {
      status: 'failed',
      progress: 0,
      error: 'The prompt was moderated: Provider returned an error: content policy violation',
    },
  ],
  [{ status: 'CANCELLED' }, { status: 'cancelled', progress: 0, error: 'The job was cancelled on Apiframe' }],
])('job answer %j reads as %j', async (answer, expected) => {
  onJob(job(answer));

  const read = await adapter().getJob('a1b2c3d4-e5f6-7890-abcd-ef1234567890');

  expect(read).toEqual({ id: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', ...expected });
});

test('a finished job whose images Apiframe has already purged is a failure that says so', async () => {
  onJob(job({ status: 'COMPLETED', progress: 100, result: GRID, expired: true }));

  const read = await adapter().getJob('j1');

  expect(read).toMatchObject({ status: 'failed', error: expect.stringMatching(/already deleted/) });
});

test.each([
  ['an unknown status', job({ status: 'PAUSED' })],
  ['a lower-case status', job({ status: 'completed', result: GRID })],
  ['a finished job without a result', job({ status: 'COMPLETED', progress: 100 })],
  ['a finished job with four images and no grid', job({ status: 'COMPLETED', result: { images: GRID.images } })],
  ['an image link that is not http', job({ status: 'COMPLETED', result: { gridUrl: 'javascript:alert(1)' } })],
  ['no status at all', { id: 'j1', progress: 10 }],
])('%s is a malformed answer', async (_case, answer) => {
  onJob(answer);

  await expect(adapter().getJob('j1')).rejects.toMatchObject({ kind: 'bad_response' });
});

test('an answer that is not JSON is a malformed answer', async () => {
  server.use(http.get(`${APIFRAME}/v2/jobs/:id`, () => HttpResponse.text('<html>oops</html>')));

  await expect(adapter().getJob('j1')).rejects.toMatchObject({ kind: 'bad_response' });
});

test('a submission answered without a usable job id is a malformed answer', async () => {
  server.use(
    http.post(`${APIFRAME}/v2/images/generate`, () => HttpResponse.json({ jobId: '../etc', status: 'QUEUED' })),
  );

  await expect(adapter().submit(fox)).rejects.toMatchObject({ kind: 'bad_response' });
});

test.each([
  [401, { error: 'Invalid API key' }, {}, { kind: 'auth' }],
  [403, { error: 'API key is inactive' }, {}, { kind: 'auth' }],
  [
    402,
    { error: 'Insufficient credits', creditsRequired: 16, creditsAvailable: 3 },
    {},
    { kind: 'account', message: 'The Apiframe account is out of credits (the job needs 16, 3 left)' },
  ],
  [
    400,
    { error: 'Validation failed', details: { prompt: ['Too long'] } },
    {},
    { kind: 'rejected', message: 'Apiframe rejected the request: Validation failed; prompt: Too long' },
  ],
  [409, { error: 'Idempotency key reused' }, {}, { kind: 'rejected' }],
  [422, { error: 'Prompt violates the content policy' }, {}, { kind: 'refused' }],
  [429, { error: 'Rate limit exceeded' }, { 'retry-after': '12' }, { kind: 'rate_limited', retryAfterS: 12 }],
  [429, { error: 'Rate limit exceeded' }, {}, { kind: 'rate_limited', retryAfterS: 30 }],
  [500, { error: 'boom' }, {}, { kind: 'unavailable' }],
  [503, { error: 'Queue unavailable' }, {}, { kind: 'unavailable' }],
  [418, { error: 'teapot' }, {}, { kind: 'bad_response' }],
])('HTTP %i %j on a submission maps to %j', async (status, body, headers, expected) => {
  const fake = mockApiframeUpstream();
  fake.refuseNext(status, body, headers);

  const attempt = adapter().submit(fox);

  await expect(attempt).rejects.toMatchObject({ ...expected, upstreamStatus: status });
});

test.each([400, 401, 402, 403, 409, 422, 429, 500])(
  'the key never appears in the message of an HTTP %i, even when Apiframe echoes it',
  async (status) => {
    const fake = mockApiframeUpstream();
    fake.refuseNext(status, { error: `Bad request for key ${APIFRAME_KEY}`, details: { key: [APIFRAME_KEY] } });

    const error: unknown = await adapter()
      .submit(fox)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain(APIFRAME_KEY);
  },
);

test('the key never appears in a failed job’s reason', async () => {
  onJob(job({ status: 'FAILED', error: `provider said no to ${APIFRAME_KEY}` }));

  const read = await adapter().getJob('j1');

  expect(read.error).toBe('provider said no to [redacted]');
});

test('a job Apiframe does not know is not found', async () => {
  mockApiframeUpstream();

  await expect(adapter().getJob('0b7e6a8e-0000-4000-8000-000000000000')).rejects.toMatchObject({ kind: 'not_found' });
});

test('a prompt the provider moderates ends as a failed job saying it was moderated', async () => {
  mockApiframeUpstream();
  const upstream = adapter();
  const { id } = await upstream.submit({ ...fox, text: `a ${APIFRAME_BANNED} fox` });

  await upstream.getJob(id);
  const read = await upstream.getJob(id);

  expect(read).toMatchObject({ status: 'failed', error: expect.stringMatching(/^The prompt was moderated: /) });
});

test('the adapter makes grids, offers upscale and variation on a grid by default, and cannot cancel', () => {
  const upstream = adapter();

  expect(upstream.imagineOutput).toBe('grid');
  expect(upstream.gridActions).toEqual(['upscale', 'variation']);
  expect(upstream.cancel).toBeUndefined();
  expect(upstream.describe).toBeUndefined();
  expect(upstream.blend).toBeUndefined();
  expect(upstream.inlineRoles).toBeUndefined();
});

test('upscale and variation go to the action route with the grid’s id, the index and a fresh idempotency key', async () => {
  const { fake, id } = await finishedGrid();

  const upscaled = await adapter({ webhookUrl: 'https://studio.test/hooks/apiframe/t' }).act({
    gridId: id,
    action: 'upscale',
    index: 2,
  });
  const varied = await adapter().act({ gridId: id, action: 'variation', index: 4 });

  expect(upscaled).toEqual({ id: expect.stringMatching(UUID), status: 'pending' });
  expect(varied.id).not.toBe(upscaled.id);
  expect(fake.sent.slice(1).map(({ path, body }) => [path, body])).toEqual([
    [
      'action',
      {
        parentJobId: id,
        action: 'upsample',
        index: 2,
        webhookUrl: 'https://studio.test/hooks/apiframe/t',
        webhookEvents: ['completed', 'failed'],
      },
    ],
    ['action', { parentJobId: id, action: 'variation', index: 4 }],
  ]);
  expect(fake.sent[1]?.idempotencyKey).toMatch(UUID);
  expect(fake.sent[2]?.idempotencyKey).not.toBe(fake.sent[1]?.idempotencyKey);
});

test('an upscale finishes as one image that offers inpaint, outpaint and pan, and those reach the action route', async () => {
  const { fake, id } = await finishedGrid();
  const upstream = adapter();
  const upscale = await upstream.act({ gridId: id, action: 'upscale', index: 1 });
  fake.finish(upscale.id);
  const single = await upstream.getJob(upscale.id);
  const mask = Buffer.from('89504e470d0a1a0a0000', 'hex');

  const followUps: ActionInput[] = [
    { gridId: upscale.id, action: 'pan_left' },
    { gridId: upscale.id, action: 'zoom_out_2x' },
    { gridId: upscale.id, action: 'zoom_out_1_5x' },
    { gridId: upscale.id, action: 'vary_region', mask: { load: async () => mask } },
    {
      gridId: upscale.id,
      action: 'vary_region',
      mask: { load: async () => mask },
      prompt: 'a red hat --ar 16:9',
      remix: true,
    },
  ];
  for (const input of followUps) await upstream.act(input);

  expect(single).toMatchObject({
    status: 'complete',
    imageUrl: `${APIFRAME_CDN}/images/${upscale.id}-1.png`,
    offers: imageOffers,
  });
  expect(fake.sent.slice(2).map(({ body }) => body)).toEqual([
    { parentJobId: upscale.id, action: 'pan', direction: 'left' },
    { parentJobId: upscale.id, action: 'outpaint', zoomRatio: 2 },
    { parentJobId: upscale.id, action: 'outpaint', zoomRatio: 1.5 },
    { parentJobId: upscale.id, action: 'inpaint', mask: mask.toString('base64') },
    { parentJobId: upscale.id, action: 'inpaint', mask: mask.toString('base64'), prompt: 'a red hat --ar 16:9' },
  ]);
});

test('an action the parent does not take is Apiframe’s conflict, read as a rejected request', async () => {
  const { id } = await finishedGrid();

  const attempt = adapter().act({ gridId: id, action: 'pan_up' });

  await expect(attempt).rejects.toMatchObject({ kind: 'rejected', upstreamStatus: 409 });
});

test.each<[string, ActionInput]>([
  ['reroll, which Apiframe has no route for', { gridId: 'g', action: 'reroll' }],
  ['Upscale (Subtle)', { gridId: 'g', action: 'upscale_subtle' }],
  ['Vary (Strong)', { gridId: 'g', action: 'vary_strong' }],
  ['Custom Zoom', { gridId: 'g', action: 'zoom_custom', zoom: 1.3 }],
  ['an animation', { gridId: 'g', action: 'animate_low' }],
  ['an upscale without an index', { gridId: 'g', action: 'upscale' }],
  ['a variation of image 5', { gridId: 'g', action: 'variation', index: 5 }],
  ['a Remix variation (Apiframe takes no prompt there)', { gridId: 'g', action: 'variation', index: 1, remix: true }],
  ['Vary (Region) without a mask', { gridId: 'g', action: 'vary_region' }],
])('%s is refused before anything is sent', async (_case, input) => {
  const fake = mockApiframeUpstream();

  await expect(adapter().act(input)).rejects.toMatchObject({ kind: 'rejected' });
  expect(fake.sent).toEqual([]);
});

test.each([
  [{ event: 'completed', jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', status: 'COMPLETED', result: 'x' }, true],
  [{ event: 'failed', jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', status: 'FAILED', error: 'no' }, true],
  [{ event: 'progress', jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', status: 'PROCESSING', progress: 45 }, false],
  [{ jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', status: 'CANCELLED' }, true],
  [{ jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', event: 'progress' }, false],
  [{ jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890' }, true],
  [{ jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', status: 'SOMETHING_NEW' }, true],
])('webhook body %j is only a hint to look again (final: %s)', (body, final) => {
  const notice = adapter().parseWebhook(Buffer.from(JSON.stringify(body)));

  expect(notice).toEqual({ kind: 'hint', upstreamId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', final });
});

test('a webhook body that claims a result is still only a hint: its data is never taken as the job', () => {
  const body = {
    event: 'completed',
    jobId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890',
    status: 'COMPLETED',
    result: { gridUrl: 'https://evil.test/grid.png', images: [] },
  };

  const notice = adapter().parseWebhook(Buffer.from(JSON.stringify(body)));

  expect(notice).toEqual({ kind: 'hint', upstreamId: body.jobId, final: true });
  expect(JSON.stringify(notice)).not.toContain('evil.test');
});

test.each([
  ['a foreign body', JSON.stringify({ id: 'x', type: 'payment.succeeded' })],
  ['a job id that is not one', JSON.stringify({ jobId: '../../etc/passwd', status: 'COMPLETED' })],
  ['a number for an id', JSON.stringify({ jobId: 42, status: 'COMPLETED' })],
  ['not JSON', 'jobId=a1b2&status=COMPLETED'],
  ['an empty body', ''],
])('%s names no job', (_case, raw) => {
  expect(adapter().parseWebhook(Buffer.from(raw))).toBeUndefined();
});
