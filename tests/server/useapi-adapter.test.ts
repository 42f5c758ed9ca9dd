import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import type { UpstreamAdapter } from '../../server/src/upstream/adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createUseapiAdapter, USEAPI_DEFAULT_BASE } from '../../server/src/upstream/useapi-adapter';
import { mockHttpForEachTest, server } from '../mocks/node';
import { mockUseapiUpstream, USEAPI, USEAPI_CDN, USEAPI_TOKEN } from '../mocks/useapi-upstream';

mockHttpForEachTest();

const HOOK = 'https://studio.test/hooks/useapi/tok_1';
const JOBID = 'job:20261130100000001-user:1234-channel:1122334455667788990-bot:midjourney';

const adapter = (overrides: Partial<Parameters<typeof createUseapiAdapter>[0]> = {}) =>
  createUseapiAdapter({
    baseUrl: USEAPI,
    secret: USEAPI_TOKEN,
    http: new UpstreamHttpClient({ timeoutMs: 1_000 }),
    ...overrides,
  });
const submit = (upstream: UpstreamAdapter = adapter()) =>
  upstream.submit({ text: 'a fox', params: { aspect_ratio: '16:9', quality: 2 }, imageUrls: [], images: [] });
const png = async () => ({ body: Buffer.from('89504e470d0a1a0a', 'hex'), contentType: 'image/png' });
const onJob = (answer: object) =>
  server.use(http.get(`${USEAPI}/v2/jobs/`, () => HttpResponse.json({ jobid: JOBID, verb: 'imagine', ...answer })));
/** What a call failed with (undefined when it did not), caught at once so no rejection goes unhandled. */
const failureOf = (call: Promise<unknown> | undefined) =>
  call?.then(
    () => undefined,
    (error: unknown) => error,
  );
const grid = { status: 'completed', attachments: [{ url: `${USEAPI_CDN}/grid.png` }] };

test('the default base is the API origin and an imagine makes a grid with the classic grid actions', () => {
  const upstream = adapter();

  expect(USEAPI_DEFAULT_BASE).toBe('https://api.useapi.net');
  expect(upstream).toMatchObject({
    name: 'useapi',
    imagineOutput: 'grid',
    gridActions: ['upscale', 'variation', 'reroll'],
  });
  expect(upstream.inlineRoles).toBeUndefined();
  expect(upstream.cancel).toBeUndefined();
});

test('a submission sends the bearer token, the whole prompt, the channel and our webhook as replyUrl', async () => {
  const fake = mockUseapiUpstream();

  const answer = await submit(adapter({ channel: '5566778899', webhookUrl: () => HOOK, name: 'useapi-a' }));

  expect(answer).toEqual({
    id: 'job:20261130100000001-user:1234-channel:5566778899-bot:midjourney',
    status: 'pending',
  });
  expect(fake.sent).toHaveLength(1);
  expect(fake.sent[0]?.headers.get('authorization')).toBe(`Bearer ${USEAPI_TOKEN}`);
  expect(fake.sent[0]?.headers.get('content-type')).toBe('application/json');
  expect(fake.sent[0]?.body).toEqual({ prompt: 'a fox --ar 16:9 --q 2', channel: '5566778899', replyUrl: HOOK });
});

test('without a channel or a webhook address the body holds the prompt alone, and an overlong replyUrl is left out', async () => {
  const fake = mockUseapiUpstream();

  await submit(adapter({ webhookUrl: () => undefined }));
  await submit(adapter({ webhookUrl: `https://studio.test/${'x'.repeat(1100)}` }));

  expect(fake.sent.map((call) => call.body)).toEqual([
    { prompt: 'a fox --ar 16:9 --q 2' },
    { prompt: 'a fox --ar 16:9 --q 2' },
  ]);
});

test('image prompts and style references travel as links in the prompt text', async () => {
  const fake = mockUseapiUpstream();

  await adapter().submit({
    text: 'a fox',
    params: { stylize: 250 },
    imageUrls: ['https://example.com/a.png'],
    images: [{ role: 'style', url: 'https://studio.test/media/up_x.png?e=1&s=sig', load: png }],
  });

  expect(fake.sent[0]?.body).toEqual({
    prompt: 'https://example.com/a.png a fox --s 250 --sref https://studio.test/media/up_x.png?e=1&s=sig',
  });
});

test('an image without a public link is rejected before anything is sent', async () => {
  const fake = mockUseapiUpstream();

  const attempt = adapter().submit({
    text: 'a fox',
    params: {},
    imageUrls: [],
    images: [{ role: 'image', load: png }],
  });

  await expect(attempt).rejects.toMatchObject({ kind: 'rejected', message: expect.stringMatching(/public link/) });
  expect(fake.sent).toHaveLength(0);
});

test('a job is followed from started through 45 % with a preview to a finished grid with its buttons as offers', async () => {
  mockUseapiUpstream();
  const upstream = adapter();
  const { id } = await submit(upstream);

  const running = await upstream.getJob(id);
  const finished = await upstream.getJob(id);

  expect(running).toEqual({
    id,
    status: 'processing',
    progress: 45,
    previewUrl: `${USEAPI_CDN}/${encodeURIComponent(id)}/preview.webp`,
  });
  expect(finished).toEqual({
    id,
    status: 'complete',
    progress: 100,
    imageUrl: `${USEAPI_CDN}/${encodeURIComponent(id)}/grid.png?ex=67a1&is=67a0&hm=abc`,
    offers: [
      { action: 'upscale', index: 1, customId: 'U1' },
      { action: 'upscale', index: 2, customId: 'U2' },
      { action: 'upscale', index: 3, customId: 'U3' },
      { action: 'upscale', index: 4, customId: 'U4' },
      { action: 'reroll', customId: '🔄' },
      { action: 'variation', index: 1, customId: 'V1' },
      { action: 'variation', index: 2, customId: 'V2' },
      { action: 'variation', index: 3, customId: 'V3' },
      { action: 'variation', index: 4, customId: 'V4' },
    ],
  });
});

test('the job id travels encoded in the query string', async () => {
  let query: string | undefined;
  server.use(
    http.get(`${USEAPI}/v2/jobs/`, ({ request }) => {
      query = new URL(request.url).search;
      return HttpResponse.json({ jobid: JOBID, status: 'started' });
    }),
  );

  await adapter().getJob(JOBID);

  expect(query).toBe(`?jobid=${encodeURIComponent(JOBID)}`);
});

test.each([
  [{ status: 'created' }, { status: 'pending' }],
  [{ status: 'started', content: '**a fox** - Waiting to start' }, { status: 'pending' }],
  [
    { status: 'progress', content: '**a fox (3%) --ar 16:9** - <@1> (62%) (fast)' },
    { status: 'processing', progress: 62 },
  ],
  [grid, { status: 'complete', progress: 100, imageUrl: `${USEAPI_CDN}/grid.png` }],
  [{ status: 'moderated' }, { status: 'failed', error: 'Midjourney moderated this job' }],
  [
    {
      status: 'moderated',
      error: 'Sorry! Our AI moderator thinks this prompt is probably against our community standards.',
    },
    {
      status: 'failed',
      error:
        'Midjourney moderated this job: Sorry! Our AI moderator thinks this prompt is probably against our community standards.',
    },
  ],
  [
    { status: 'failed', error: 'Invalid parameter', errorDetails: '--ar must be W:H' },
    { status: 'failed', error: 'Invalid parameter: --ar must be W:H' },
  ],
  [{ status: 'failed' }, { status: 'failed', error: 'useapi.net reported a failure' }],
  [{ status: 'cancelled' }, { status: 'cancelled', error: 'The job was cancelled on useapi.net' }],
])('a job answering %j is %j', async (answer, expected) => {
  onJob(answer);

  expect(await adapter().getJob(JOBID)).toEqual({ id: JOBID, ...expected });
});

test.each([
  ['an unknown status', { jobid: JOBID, status: 'exploded' }],
  ['a finished job without an image', { jobid: JOBID, status: 'completed', attachments: [] }],
  [
    'a finished job whose image is not a web link',
    { jobid: JOBID, status: 'completed', attachments: [{ url: 'file:///etc/passwd' }] },
  ],
  ['a job without its id', { status: 'completed', attachments: [{ url: `${USEAPI_CDN}/grid.png` }] }],
])('%s is a malformed answer', async (_name, answer) => {
  server.use(http.get(`${USEAPI}/v2/jobs/`, () => HttpResponse.json(answer)));

  await expect(adapter().getJob(JOBID)).rejects.toMatchObject({ kind: 'bad_response' });
});

test('an answer that is not JSON is a malformed answer', async () => {
  server.use(http.get(`${USEAPI}/v2/jobs/`, () => new HttpResponse('<html>oops</html>', { status: 200 })));

  await expect(adapter().getJob(JOBID)).rejects.toMatchObject({ kind: 'bad_response' });
});

test('buttons we do not take are dropped, emoji match without their variation selector, and a pressed upscale is not offered again', async () => {
  onJob({
    ...grid,
    verb: 'button',
    buttons: [
      'U1',
      'U2',
      '\u2B05',
      '➡️',
      'Vary (Region)',
      'Custom Zoom',
      'Make Square',
      'Vary (Strong)',
      'Zoom Out 1.5x',
      42,
    ],
    children: [{ button: 'U1', jobid: 'job:child-1', messageId: 'm1' }, { broken: true }],
  });

  const job = await adapter().getJob(JOBID);

  expect(job.offers).toEqual([
    { action: 'upscale', index: 2, customId: 'U2' },
    { action: 'pan_left', customId: '\u2B05' },
    { action: 'pan_right', customId: '➡️' },
    { action: 'vary_strong', customId: 'Vary (Strong)' },
    { action: 'zoom_out_1_5x', customId: 'Zoom Out 1.5x' },
  ]);
});

test('a finished job without buttons names no offers, so the job service falls back on the grid actions', async () => {
  onJob(grid);

  const job = await adapter().getJob(JOBID);

  expect(job.offers).toBeUndefined();
});

test.each([
  [401, {}, { kind: 'auth' }],
  [403, {}, { kind: 'auth' }],
  [402, { error: 'Subscription expired' }, { kind: 'account', message: expect.stringMatching(/out of credits/) }],
  [
    596,
    { error: 'Pending mod message', errorDetails: 'Please acknowledge the Midjourney message' },
    {
      kind: 'account',
      message:
        'The Midjourney account behind useapi.net needs attention: pending moderation or CAPTCHA: Pending mod message: Please acknowledge the Midjourney message',
    },
  ],
  [
    422,
    { error: 'Banned prompt', jobid: 'job:x', status: 'moderated' },
    { kind: 'refused', message: 'Midjourney moderated the prompt: Banned prompt' },
  ],
  [429, { error: 'Account is busy executing 3 jobs', executingJobs: ['job:a'] }, { kind: 'busy', retryAfterS: 30 }],
  [
    400,
    { error: 'Required param prompt is missing' },
    { kind: 'rejected', message: 'useapi.net rejected the request: Required param prompt is missing' },
  ],
  [412, {}, { kind: 'rejected', message: 'useapi.net rejected the request' }],
  [413, { error: 'replyUrl is too long' }, { kind: 'rejected' }],
  [500, {}, { kind: 'unavailable' }],
  [503, {}, { kind: 'unavailable' }],
  [418, {}, { kind: 'bad_response' }],
])('HTTP %i %j on a submission is %j', async (status, body, expected) => {
  const fake = mockUseapiUpstream();
  fake.refuseNext(status, body);

  const attempt = submit();

  await expect(attempt).rejects.toMatchObject({ ...expected, upstreamStatus: status });
});

test('the token never appears in an error, even where the API repeats it', async () => {
  const fake = mockUseapiUpstream();
  const messages: string[] = [];
  for (const status of [400, 401, 402, 422, 596]) {
    fake.refuseNext(status, { error: `Token ${USEAPI_TOKEN} is not allowed`, errorDetails: USEAPI_TOKEN });
    await submit().catch((error: Error) => messages.push(error.message));
  }
  onJob({ status: 'failed', error: `Bad token ${USEAPI_TOKEN}` });
  messages.push((await adapter().getJob(JOBID)).error ?? '');

  expect(messages).toHaveLength(6);
  for (const message of messages) expect(message).not.toContain(USEAPI_TOKEN);
  expect(messages[0]).toContain('[redacted]');
});

test('a Retry-After on 429 is honoured', async () => {
  server.use(
    http.post(`${USEAPI}/v2/jobs/imagine`, () =>
      HttpResponse.json({ error: 'busy', code: 429 }, { status: 429, headers: { 'retry-after': '12' } }),
    ),
  );

  await expect(submit()).rejects.toMatchObject({ kind: 'busy', retryAfterS: 12 });
});

test('a wrong token is refused as the credentials', async () => {
  mockUseapiUpstream();

  const attempt = submit(adapter({ secret: 'user:1234-wrong' }));

  await expect(attempt).rejects.toMatchObject({ kind: 'auth' });
});

test("the account's full queue is a rate limit", async () => {
  mockUseapiUpstream({ maxJobs: 1 });
  const upstream = adapter();
  await submit(upstream);

  const full = submit(upstream);

  await expect(full).rejects.toMatchObject({ kind: 'busy', retryAfterS: 30, upstreamStatus: 429 });
});

test('a prompt Midjourney moderates is refused', async () => {
  mockUseapiUpstream();

  const moderated = adapter().submit({ text: 'a forbidden fox', params: {}, imageUrls: [], images: [] });

  await expect(moderated).rejects.toMatchObject({ kind: 'refused', upstreamStatus: 422 });
});

test('an unknown job id is not found', async () => {
  mockUseapiUpstream();

  await expect(adapter().getJob('job:nope')).rejects.toMatchObject({ kind: 'not_found' });
});

test('grid actions press the button of their label on /v2/jobs/button, with our webhook', async () => {
  const fake = mockUseapiUpstream({ maxJobs: 10 });
  const upstream = adapter({ webhookUrl: HOOK });
  const { id } = await submit(upstream);
  await upstream.getJob(id);
  await upstream.getJob(id);

  const upscaled = await upstream.act?.({ gridId: id, action: 'upscale', index: 2 });
  const rerolled = await upstream.act?.({ gridId: id, action: 'reroll', customId: '🔄', prompt: 'a fox --ar 16:9' });
  const varied = await upstream.act?.({ gridId: id, action: 'variation', index: 4, customId: 'V4' });

  expect(fake.sent.filter((call) => call.path === 'button').map((call) => call.body)).toEqual([
    { jobid: id, button: 'U2', replyUrl: HOOK },
    { jobid: id, button: '🔄', replyUrl: HOOK },
    { jobid: id, button: 'V4', replyUrl: HOOK },
  ]);
  expect(fake.sent.at(-1)?.headers.get('authorization')).toBe(`Bearer ${USEAPI_TOKEN}`);
  expect([upscaled?.status, rerolled?.status, varied?.status]).toEqual(['pending', 'pending', 'pending']);
  expect(new Set([upscaled?.id, rerolled?.id, varied?.id]).size).toBe(3);
});

test("an upscale's own follow-ups are offered and pressed by their labels", async () => {
  const fake = mockUseapiUpstream({ maxJobs: 10 });
  const upstream = adapter();
  const { id } = await submit(upstream);
  await upstream.getJob(id);
  await upstream.getJob(id);
  const upscale = await upstream.act?.({ gridId: id, action: 'upscale', index: 1 });
  await upstream.getJob(upscale?.id ?? '');
  const finished = await upstream.getJob(upscale?.id ?? '');
  const offer = finished.offers?.find((item) => item.action === 'vary_subtle');

  await upstream.act?.({ gridId: upscale?.id ?? '', action: 'vary_subtle', customId: offer?.customId });

  expect(finished.offers?.map((item) => item.action)).toEqual([
    'upscale_subtle',
    'upscale_creative',
    'vary_subtle',
    'vary_strong',
    'zoom_out_2x',
    'zoom_out_1_5x',
    'pan_left',
    'pan_right',
    'pan_up',
    'pan_down',
  ]);
  expect(fake.sent.at(-1)?.body).toEqual({ jobid: upscale?.id, button: 'Vary (Subtle)' });
});

test('an upscale pressed twice is refused by the API (409) and rejected here', async () => {
  mockUseapiUpstream({ maxJobs: 10 });
  const upstream = adapter();
  const { id } = await submit(upstream);
  await upstream.getJob(id);
  await upstream.getJob(id);
  await upstream.act?.({ gridId: id, action: 'upscale', index: 3 });

  const again = upstream.act?.({ gridId: id, action: 'upscale', index: 3 });

  await expect(again).rejects.toMatchObject({ kind: 'rejected', upstreamStatus: 409 });
});

test('a customId that names another action is not trusted: the action picks the button', async () => {
  const fake = mockUseapiUpstream({ maxJobs: 10 });
  const upstream = adapter();
  const { id } = await submit(upstream);
  await upstream.getJob(id);
  await upstream.getJob(id);

  await upstream.act?.({ gridId: id, action: 'variation', index: 1, customId: 'U3' });

  expect(fake.sent.at(-1)?.body).toEqual({ jobid: id, button: 'V1' });
});

test('a Remix prompt and an action without a button are rejected before anything is sent', async () => {
  const fake = mockUseapiUpstream();
  const upstream = adapter();

  const remix = await failureOf(
    upstream.act?.({ gridId: JOBID, action: 'variation', index: 1, remix: true, prompt: 'a wolf' }),
  );
  const region = await failureOf(
    upstream.act?.({ gridId: JOBID, action: 'vary_region', mask: { load: async () => Buffer.from('') } }),
  );
  const video = await failureOf(upstream.act?.({ gridId: JOBID, action: 'animate_high' }));

  expect(remix).toMatchObject({ kind: 'rejected' });
  expect(region).toMatchObject({ kind: 'rejected' });
  expect(video).toMatchObject({ kind: 'rejected' });
  expect(fake.sent).toHaveLength(0);
});

test('a replyUrl callback is a hint naming the job; only an end is worth an early look', () => {
  const upstream = adapter();
  const body = (value: object) => Buffer.from(JSON.stringify(value));

  const done = upstream.parseWebhook?.(body({ jobid: JOBID, verb: 'imagine', status: 'completed', attachments: [] }));
  const moving = upstream.parseWebhook?.(body({ jobid: JOBID, status: 'progress', content: '(20%)' }));
  const moderated = upstream.parseWebhook?.(body({ jobid: JOBID, status: 'moderated' }));
  const odd = upstream.parseWebhook?.(body({ jobid: JOBID, status: 'exploded' }));

  expect(done).toEqual({ kind: 'hint', upstreamId: JOBID, final: true });
  expect(moving).toEqual({ kind: 'hint', upstreamId: JOBID, final: false });
  expect(moderated).toEqual({ kind: 'hint', upstreamId: JOBID, final: true });
  expect(odd).toEqual({ kind: 'hint', upstreamId: JOBID, final: true });
});

test('a callback that names no job, or is not JSON, or names one with a hostile id, is ignored', () => {
  const upstream = adapter();

  const notices = [
    Buffer.from('not json'),
    Buffer.from(JSON.stringify({ id: 'task_1', status: 'SUCCESS' })),
    Buffer.from(JSON.stringify({ jobid: '../../etc/passwd', status: 'completed' })),
    Buffer.from(JSON.stringify({ jobid: 42 })),
    Buffer.from(JSON.stringify([JOBID])),
  ].map((body) => upstream.parseWebhook?.(body));

  expect(notices).toEqual([undefined, undefined, undefined, undefined, undefined]);
});
