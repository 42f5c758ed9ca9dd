// Midjourney V7's actions through the API against an msw-mocked relay: what a job offers comes
// from its buttons, each action presses its button (with the modal step where the relay asks),
// videos are kept and served by ranges, and favourites, lineage and filters over the history.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { HttpResponse, http } from 'msw';
import { PNG } from 'pngjs';
import { afterEach, expect, test } from 'vitest';
import { server } from '../mocks/node';
import { CDN_BASE, tinyPng } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const RELAY = 'https://relay.test/mj';
const SECRET = 'relay-secret-9c1d22';

/** A tiny WebM: the EBML header's magic, then filler (the server checks the magic and the size). */
const CLIP = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(4_000, 7)]);

const V7_BUTTONS = (id: string) => [
  { customId: `MJ::JOB::upsample_v7_2x_subtle::1::${id}::SOLO`, label: 'Upscale (Subtle)' },
  { customId: `MJ::JOB::upsample_v7_2x_creative::1::${id}::SOLO`, label: 'Upscale (Creative)' },
  { customId: `MJ::JOB::low_variation::1::${id}::SOLO`, label: 'Vary (Subtle)' },
  { customId: `MJ::JOB::high_variation::1::${id}::SOLO`, label: 'Vary (Strong)' },
  { customId: `MJ::Inpaint::1::${id}::SOLO`, label: 'Vary (Region)' },
  { customId: `MJ::Outpaint::50::1::${id}::SOLO`, label: 'Zoom Out 2x' },
  { customId: `MJ::Outpaint::75::1::${id}::SOLO`, label: 'Zoom Out 1.5x' },
  { customId: `MJ::CustomZoom::${id}`, label: 'Custom Zoom' },
  { customId: `MJ::JOB::pan_left::1::${id}::SOLO`, emoji: '⬅️' },
  { customId: `MJ::JOB::pan_up::1::${id}::SOLO`, emoji: '⬆️' },
  { customId: `MJ::JOB::animate_high::1::${id}::SOLO`, label: 'Animate (High motion)' },
  { customId: `MJ::BOOKMARK::${id}`, emoji: '❤️' },
];

/**
 * A newer relay (no /submit/change): an imagine is a grid with U/V/🔄 buttons, a U is an
 * upscale with V7's buttons, and Inpaint / CustomZoom answer 21 until the modal arrives.
 */
function relay() {
  const sent: { path: string; body: Record<string, unknown> }[] = [];
  const tasks = new Map<string, Record<string, unknown>>();
  let next = 0;
  const finish = (id: string, action: string, extra: Record<string, unknown> = {}) => {
    const buttons =
      action === 'IMAGINE'
        ? [1, 2, 3, 4].flatMap((n) => [
            { customId: `MJ::JOB::upsample::${n}::${id}`, label: `U${n}` },
            { customId: `MJ::JOB::variation::${n}::${id}`, label: `V${n}` },
          ])
        : action === 'UPSCALE'
          ? V7_BUTTONS(id)
          : action === 'VIDEO'
            ? [{ customId: `MJ::JOB::animate_low_extend::1::${id}::SOLO`, label: 'Extend (Low motion)' }]
            : [];
    tasks.set(id, {
      id,
      action,
      status: 'SUCCESS',
      progress: '100%',
      imageUrl: `${CDN_BASE}/images/${id}.png`,
      buttons,
      ...extra,
    });
  };
  const accept = (action: string, extra?: Record<string, unknown>) => {
    next += 1;
    const id = `task-${next}`;
    finish(id, action, extra);
    return HttpResponse.json({ code: 1, description: 'ok', result: id });
  };
  server.use(
    http.post(`${RELAY}/submit/change`, () => new HttpResponse(null, { status: 404 })),
    http.post(`${RELAY}/submit/imagine`, async ({ request }) => {
      sent.push({ path: 'imagine', body: (await request.json()) as Record<string, unknown> });
      return accept('IMAGINE');
    }),
    http.post(`${RELAY}/submit/action`, async ({ request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      sent.push({ path: 'action', body });
      const customId = String(body.customId);
      if (/^MJ::(Inpaint|CustomZoom)::/.test(customId)) {
        next += 1;
        return HttpResponse.json({ code: 21, description: 'Waiting for window confirm', result: `modal-${next}` });
      }
      if (customId.includes('::upsample::')) return accept('UPSCALE');
      if (customId.includes('::animate_')) {
        return accept('VIDEO', { videoUrl: `${CDN_BASE}/videos/clip.webm` });
      }
      return accept('VARIATION');
    }),
    http.post(`${RELAY}/submit/modal`, async ({ request }) => {
      sent.push({ path: 'modal', body: (await request.json()) as Record<string, unknown> });
      return accept('INPAINT');
    }),
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) => HttpResponse.json(tasks.get(String(params.id)) ?? {})),
    http.get(`${CDN_BASE}/videos/:name`, () =>
      HttpResponse.arrayBuffer(new Uint8Array(CLIP).buffer, { headers: { 'content-type': 'video/webm' } }),
    ),
  );
  return { sent, tasks };
}

const apps: Awaited<ReturnType<typeof buildTestApp>>[] = [];
afterEach(() => {
  for (const setup of apps.splice(0)) setup.scheduler.stop();
});

async function relayApp(security?: NonNullable<Parameters<typeof buildTestApp>[0]>['security']) {
  // Each test takes several actions in a row: none should wait for the budget's spacing.
  const setup = await buildTestApp({
    relay: { baseUrl: RELAY, secret: SECRET },
    budgetBurst: 50,
    ...(security ? { security } : {}),
  });
  apps.push(setup);
  return setup;
}

type Setup = Awaited<ReturnType<typeof relayApp>>;

/** Takes an action and lets the job finish: answers the finished job as the API shows it. */
async function act(setup: Setup, id: string, body: Record<string, unknown>) {
  const response = await setup.agent.post(`/api/jobs/${id}/actions`).send(body);
  if (response.status !== 202) throw new Error(`action failed: ${response.status} ${response.text}`);
  await setup.jobs.refresh(String(response.body.job_id));
  return (await setup.agent.get(`/api/jobs/${String(response.body.job_id)}`)).body;
}

/** A finished grid, and the upscale of its image 2. */
async function upscaled(setup: Setup) {
  const gridId = await submitJob(setup.agent, 'a lighthouse on a cliff --ar 3:2');
  await setup.jobs.refresh(gridId);
  const upscale = await act(setup, gridId, { action: 'upscale', index: 2 });
  return { gridId, upscale };
}

async function maskPng(width = 32, height = 32): Promise<string> {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([i < png.data.length / 2 ? 255 : 0, 0, 0, 255], i);
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

test('an upscale offers exactly the V7 buttons its relay showed, in our names, and no unknown one', async () => {
  relay();
  const setup = await relayApp();

  const { gridId, upscale } = await upscaled(setup);
  const grid = (await setup.agent.get(`/api/jobs/${gridId}`)).body;

  expect(grid.output).toBe('grid');
  expect(grid.available_actions).toContainEqual({ action: 'upscale', index: 4 });
  expect(grid.available_actions).not.toContainEqual({ action: 'reroll' });
  expect(upscale).toMatchObject({ status: 'complete', output: 'image', action: 'upscale', action_index: 2 });
  expect(upscale.available_actions).toEqual([
    { action: 'upscale_subtle' },
    { action: 'upscale_creative' },
    { action: 'vary_subtle' },
    { action: 'vary_strong' },
    { action: 'vary_region' },
    { action: 'zoom_out_2x' },
    { action: 'zoom_out_1_5x' },
    { action: 'zoom_custom' },
    { action: 'pan_left' },
    { action: 'pan_up' },
    { action: 'animate_high' },
  ]);
  // The relay's own button ids stay on the server.
  expect(JSON.stringify(upscale)).not.toContain('MJ::');
});

test.each([
  ['upscale_creative', 'MJ::JOB::upsample_v7_2x_creative::1::task-2::SOLO', 'image'],
  ['vary_strong', 'MJ::JOB::high_variation::1::task-2::SOLO', 'grid'],
  ['zoom_out_1_5x', 'MJ::Outpaint::75::1::task-2::SOLO', 'grid'],
  ['pan_left', 'MJ::JOB::pan_left::1::task-2::SOLO', 'grid'],
])('%s presses its own button on the relay and makes a %s linked to the upscale', async (action, customId, output) => {
  const { sent } = relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const child = await act(setup, upscale.job_id, { action });

  expect(sent.at(-1)).toEqual({ path: 'action', body: { taskId: 'task-2', customId } });
  expect(child).toMatchObject({ status: 'complete', output, parent_id: upscale.job_id, action });
  expect(child.prompt).toBe('a lighthouse on a cliff');
});

test('a pan widens the frame by half on its side: a 3:2 image panned left is 9:4, panned up 1:1', async () => {
  relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const left = await act(setup, upscale.job_id, { action: 'pan_left' });
  const up = await act(setup, upscale.job_id, { action: 'pan_up' });

  expect(left.aspect_ratio).toBe('9:4');
  expect(left.params.aspect_ratio).toBe('9:4');
  expect(up.aspect_ratio).toBe('1:1');
});

test('Vary (Region) goes through the modal: the mask (re-encoded) and the new prompt, in one API call', async () => {
  const { sent } = relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);
  const mask = await maskPng(40, 30);

  const child = await act(setup, upscale.job_id, { action: 'vary_region', mask, prompt: 'a red lighthouse' });
  const modal = sent.find((entry) => entry.path === 'modal');
  const maskSent = PNG.sync.read(Buffer.from(String(modal?.body.maskBase64).split(',')[1] ?? '', 'base64'));

  expect(sent.filter((entry) => entry.path === 'action').at(-1)?.body.customId).toBe('MJ::Inpaint::1::task-2::SOLO');
  expect(modal?.body).toMatchObject({ taskId: 'modal-3', prompt: 'a red lighthouse --ar 3:2' });
  expect(String(modal?.body.maskBase64)).toMatch(/^data:image\/png;base64,/);
  expect([maskSent.width, maskSent.height]).toEqual([40, 30]);
  // White (red channel 255) stays where it was drawn: the top half.
  expect(maskSent.data[0]).toBe(255);
  expect(maskSent.data[maskSent.data.length - 4]).toBe(0);
  expect(child).toMatchObject({ status: 'complete', action: 'vary_region', prompt: 'a red lighthouse' });
});

test('Custom Zoom sends its factor as --zoom in the modal, with the prompt it carries over', async () => {
  const { sent } = relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const child = await act(setup, upscale.job_id, { action: 'zoom_custom', zoom: 1.8 });

  expect(sent.find((entry) => entry.path === 'modal')?.body).toMatchObject({
    prompt: 'a lighthouse on a cliff --ar 3:2 --zoom 1.8',
  });
  expect(sent.find((entry) => entry.path === 'modal')?.body.maskBase64).toBeUndefined();
  expect(child).toMatchObject({ status: 'complete', action: 'zoom_custom', action_zoom: 1.8, output: 'grid' });
});

test.each([
  [{ action: 'vary_region' }, 'mask', 'vary_region needs a mask'],
  [{ action: 'zoom_custom' }, 'zoom', 'zoom_custom needs a zoom factor'],
  [{ action: 'zoom_custom', zoom: 2.5 }, 'zoom', 'zoom is a number from 1 to 2'],
  [{ action: 'pan_left', prompt: 'x' }, 'prompt', 'pan_left takes no prompt'],
  [{ action: 'vary_subtle', index: 1 }, 'index', 'vary_subtle takes no index'],
  [{ action: 'vary_region', mask: 'data:image/jpeg;base64,AAAA' }, 'mask', 'mask is a PNG as a data URL'],
  [{ action: 'animate_high', mask: 'data:image/png;base64,AAAA' }, 'mask', 'animate_high takes no mask'],
])('%j is a 400 naming %s, and nothing is sent', async (body, field, message) => {
  const { sent } = relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);
  const before = sent.length;

  const response = await setup.agent.post(`/api/jobs/${upscale.job_id}/actions`).send(body);

  expect(response.status).toBe(400);
  const fields = response.body.error.fields as { path: string; message: string }[];
  expect(fields.find((item) => item.path === field)?.message).toContain(message);
  expect(sent.length).toBe(before);
});

test('a mask that is not really a PNG is a 400 before anything is recorded', async () => {
  const { sent } = relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);
  const before = sent.length;
  const fake = `data:image/png;base64,${Buffer.from('<svg onload=alert(1)>').toString('base64')}`;

  const response = await setup.agent
    .post(`/api/jobs/${upscale.job_id}/actions`)
    .send({ action: 'vary_region', mask: fake });
  const list = await setup.agent.get('/api/jobs');

  expect(response.status).toBe(400);
  expect(response.body.error.fields).toEqual([{ path: 'mask', message: expect.stringMatching(/^mask: /) }]);
  expect(sent.length).toBe(before);
  expect(list.body.jobs).toHaveLength(2);
});

test('an action the job does not offer is a 409 that says what it offers; a running job offers none', async () => {
  relay();
  const setup = await relayApp();
  const { gridId, upscale } = await upscaled(setup);

  const onGrid = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'pan_left' });
  const notShown = await setup.agent.post(`/api/jobs/${upscale.job_id}/actions`).send({ action: 'pan_right' });
  const reroll = await setup.agent.post(`/api/jobs/${gridId}/actions`).send({ action: 'reroll' });

  expect(onGrid.status).toBe(409);
  expect(onGrid.body.error.message).toBe('This job does not offer pan_left; it offers upscale, variation');
  expect(notShown.status).toBe(409);
  expect(notShown.body.error.message).toMatch(/^This job does not offer pan_right; it offers upscale_subtle, /);
  expect(reroll.status).toBe(409);
});

test('Animate keeps the clip and its first frame; the clip is served to its owner by ranges', async () => {
  relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const video = await act(setup, upscale.job_id, { action: 'animate_high' });
  const whole = await setup.agent.get(video.video_url).buffer(true);
  const part = await setup.agent.get(video.video_url).set('Range', 'bytes=0-3').buffer(true);
  const beyond = await setup.agent.get(video.video_url).set('Range', 'bytes=900000-');
  const stranger = (await buildTestApp()).agent;
  const theirs = await stranger.get(video.video_url);

  expect(video).toMatchObject({ status: 'complete', output: 'video', cost: 8 });
  expect(video.video_url).toMatch(/^\/api\/videos\/[A-Za-z0-9_-]+\.webm$/);
  expect(video.video_download_name).toBe('a-lighthouse-on-a-cliff.webm');
  expect(video.image_url).toMatch(/\.png$/);
  expect(video.available_actions).toEqual([{ action: 'extend_low' }]);
  expect(whole.status).toBe(200);
  expect(whole.headers['content-type']).toBe('video/webm');
  expect(whole.headers['accept-ranges']).toBe('bytes');
  expect(Buffer.compare(Buffer.from(whole.body), CLIP)).toBe(0);
  expect(part.status).toBe(206);
  expect(part.headers['content-range']).toBe(`bytes 0-3/${CLIP.length}`);
  expect(Buffer.from(part.body).toString('hex')).toBe('1a45dfa3');
  expect(beyond.status).toBe(416);
  expect(theirs.status).toBe(404);
});

test('a video link that answers something other than a clip fails the job and keeps nothing', async () => {
  relay();
  server.use(
    http.get(`${CDN_BASE}/videos/:name`, () =>
      HttpResponse.arrayBuffer(new Uint8Array(tinyPng()).buffer, { headers: { 'content-type': 'video/webm' } }),
    ),
  );
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const video = await act(setup, upscale.job_id, { action: 'animate_high' });

  expect(video.status).toBe('failed');
  expect(video.error).toBe(
    'The video could not be downloaded: The upstream video link did not answer with a WebM or MP4 clip',
  );
  expect(video.video_url).toBeUndefined();
  expect(video.image_url).toBeUndefined();
});

/** The files kept for jobs: images, clips and masks. */
const keptFiles = (setup: Setup) =>
  readdirSync(path.join(setup.dataDir, 'images')).filter((name) => !name.startsWith('.'));

test('a mask is kept beside the images while its job lives, and goes with the job', async () => {
  relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const child = await act(setup, upscale.job_id, { action: 'vary_region', mask: await maskPng() });
  const whileKept = keptFiles(setup);
  await setup.agent.delete(`/api/jobs/${child.job_id}`);

  expect(whileKept).toContain(`${child.job_id}-mask.png`);
  expect(keptFiles(setup)).not.toContain(`${child.job_id}-mask.png`);
  expect(keptFiles(setup).some((name) => name.startsWith(child.job_id))).toBe(false);
});

test('a modal the relay refuses leaves neither a job nor its mask behind', async () => {
  relay();
  server.use(
    http.post(`${RELAY}/submit/modal`, () =>
      HttpResponse.json({ code: 24, description: 'Banned prompt', properties: { bannedWord: 'gore' } }),
    ),
  );
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);
  const before = keptFiles(setup);

  const response = await setup.agent
    .post(`/api/jobs/${upscale.job_id}/actions`)
    .send({ action: 'vary_region', mask: await maskPng(), prompt: 'gore' });

  expect(response.status).toBe(422);
  expect(keptFiles(setup)).toEqual(before);
  expect((await setup.agent.get('/api/jobs')).body.jobs).toHaveLength(2);
});

test('a relay that runs Vary (Region) without asking for its mask fails the job, saying so', async () => {
  relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);
  server.use(
    http.post(`${RELAY}/submit/action`, () => HttpResponse.json({ code: 1, description: 'ok', result: 'task-77' })),
  );

  const response = await setup.agent
    .post(`/api/jobs/${upscale.job_id}/actions`)
    .send({ action: 'vary_region', mask: await maskPng() });
  const job = (await setup.agent.get('/api/jobs')).body.jobs[0];

  expect(response.status).toBe(502);
  expect(job).toMatchObject({ action: 'vary_region', status: 'failed' });
  expect(job.error).toContain('The relay started vary_region (task task-77) without asking for its mask');
});

test.each([
  ['a permutation', 'a {red, blue} lighthouse', 'Permutation prompts'],
  ['a bidi override', 'a \u202elighthouse', 'control characters'],
  ['an unknown parameter', 'a lighthouse --motoin high', '--motoin'],
  ['a value out of range', 'a lighthouse --s 5000', 'stylize'],
])('a Remix prompt with %s is a 400 before any limit is counted', async (_name, prompt, message) => {
  const { sent } = relay();
  const setup = await relayApp({ submitsPerMinute: 3 });
  const { upscale } = await upscaled(setup);
  const before = sent.length;

  const response = await setup.agent
    .post(`/api/jobs/${upscale.job_id}/actions`)
    .send({ action: 'vary_subtle', prompt });
  const next = await setup.agent.post(`/api/jobs/${upscale.job_id}/actions`).send({ action: 'vary_subtle' });

  expect(response.status).toBe(400);
  expect(JSON.stringify(response.body.error.fields)).toContain(message);
  expect(sent.length).toBe(before + 1);
  expect(next.status).toBe(202);
});

test('a Remix prompt costs what its parameters cost, and a clip eight, against the client limits', async () => {
  relay();
  const setup = await relayApp({ submitsPerMinute: 4 });
  const { upscale } = await upscaled(setup);

  const costly = await setup.agent
    .post(`/api/jobs/${upscale.job_id}/actions`)
    .send({ action: 'vary_subtle', prompt: 'a lighthouse --q 4 --turbo' });
  const clip = await setup.agent.post(`/api/jobs/${upscale.job_id}/actions`).send({ action: 'animate_high' });

  // --q 4 with --turbo is 8 of the 4 allowed a minute, and so is a clip: each is refused outright.
  expect(costly.status).toBe(409);
  expect(clip.status).toBe(409);
  expect((await setup.agent.get('/api/jobs')).body.jobs).toHaveLength(2);
});

test('a Remix prompt writes its own ratio into the job, its frame and its parameters alike', async () => {
  relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const child = await act(setup, upscale.job_id, { action: 'vary_strong', prompt: 'a stormy lighthouse --ar 16:9' });

  expect(child).toMatchObject({ prompt: 'a stormy lighthouse', aspect_ratio: '16:9' });
  expect(child.params.aspect_ratio).toBe('16:9');
});

test("a pan that would pass Midjourney's 14:1 is a 409 and nothing is sent", async () => {
  const { sent } = relay();
  const setup = await relayApp();
  const gridId = await submitJob(setup.agent, 'a long wall --ar 10:1');
  await setup.jobs.refresh(gridId);
  const upscale = await act(setup, gridId, { action: 'upscale', index: 1 });
  const before = sent.length;

  const response = await setup.agent.post(`/api/jobs/${upscale.job_id}/actions`).send({ action: 'pan_left' });

  expect(response.status).toBe(409);
  expect(response.body.error.message).toMatch(/^This image cannot be panned left again: /);
  expect(sent.length).toBe(before);
});

test('a Custom Zoom factor is read to two decimals, as Midjourney reads it', async () => {
  const { sent } = relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);

  const child = await act(setup, upscale.job_id, { action: 'zoom_custom', zoom: 1.7777 });

  expect(child.action_zoom).toBe(1.78);
  expect(sent.find((entry) => entry.path === 'modal')?.body.prompt).toBe(
    'a lighthouse on a cliff --ar 3:2 --zoom 1.78',
  );
});

test('a clip whose first frame cannot be downloaded is kept without it', async () => {
  relay();
  const setup = await relayApp();
  const { upscale } = await upscaled(setup);
  server.use(http.get(`${CDN_BASE}/images/task-3.png`, () => new HttpResponse(null, { status: 404 })));

  const video = await act(setup, upscale.job_id, { action: 'animate_high' });

  expect(video).toMatchObject({ status: 'complete', output: 'video' });
  expect(video.video_url).toMatch(/\.webm$/);
  expect(video.image_url).toBeUndefined();
  expect(existsSync(path.join(setup.dataDir, 'images', `${video.job_id}.webm`))).toBe(true);
});

test('favourites are set and cleared by their owner only, and a list can show favourites alone', async () => {
  relay();
  const setup = await relayApp();
  const { gridId, upscale } = await upscaled(setup);
  const stranger = (await buildTestApp()).agent;

  const marked = await setup.agent.put(`/api/jobs/${gridId}/favourite`);
  const afterMark = await setup.agent.get(`/api/jobs/${gridId}`);
  const favourites = await setup.agent.get('/api/jobs?favourite=1');
  const theirs = await stranger.put(`/api/jobs/${upscale.job_id}/favourite`);
  const cleared = await setup.agent.delete(`/api/jobs/${gridId}/favourite`);
  const afterClear = await setup.agent.get(`/api/jobs/${gridId}`);
  const none = await setup.agent.get('/api/jobs?favourite=1');

  expect(marked.status).toBe(200);
  expect(marked.body.favourite).toBe(true);
  // A finished job is read from the store's cache: the mark shows at once, and so does its end.
  expect(afterMark.body.favourite).toBe(true);
  expect(afterClear.body.favourite).toBe(false);
  expect(favourites.body.jobs.map((job: { job_id: string }) => job.job_id)).toEqual([gridId]);
  expect(theirs.status).toBe(404);
  expect(cleared.body.favourite).toBe(false);
  expect(none.body.jobs).toEqual([]);
});

test("a job's lineage shows where it came from and what was made from it, owner's jobs only", async () => {
  relay();
  const setup = await relayApp();
  const { gridId, upscale } = await upscaled(setup);
  const zoom = await act(setup, upscale.job_id, { action: 'zoom_out_2x' });
  const video = await act(setup, upscale.job_id, { action: 'animate_high' });
  const stranger = (await buildTestApp()).agent;

  const ofUpscale = await setup.agent.get(`/api/jobs/${upscale.job_id}/lineage`);
  const ofZoom = await setup.agent.get(`/api/jobs/${zoom.job_id}/lineage`);
  const theirs = await stranger.get(`/api/jobs/${zoom.job_id}/lineage`);

  const ids = (jobs: { job_id: string }[]) => jobs.map((job) => job.job_id);
  expect(ids(ofUpscale.body.ancestors)).toEqual([gridId]);
  expect(ids(ofUpscale.body.children)).toEqual([zoom.job_id, video.job_id]);
  expect(ids(ofZoom.body.ancestors)).toEqual([gridId, upscale.job_id]);
  expect(ofZoom.body.children).toEqual([]);
  expect(theirs.status).toBe(404);
});

test('the history is searched by prompt words and filtered by output, in the query string', async () => {
  relay();
  const setup = await relayApp();
  const { gridId, upscale } = await upscaled(setup);
  const other = await submitJob(setup.agent, 'a quiet harbour at dawn');
  await setup.jobs.refresh(other);

  const ids = async (query: string) =>
    ((await setup.agent.get(`/api/jobs?${query}`)).body.jobs as { job_id: string }[]).map((job) => job.job_id);

  expect(await ids('q=lighth')).toEqual([upscale.job_id, gridId]);
  expect(await ids('q=harbour%20dawn')).toEqual([other]);
  expect(await ids('q=lighthouse&output=image')).toEqual([upscale.job_id]);
  expect(await ids('output=grid&ar=3:2')).toEqual([gridId]);
  const bad = await setup.agent.get('/api/jobs?output=movie');
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toContain('output is a comma-separated list of: grid, image, video, text');
});
