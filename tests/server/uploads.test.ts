// Images as input, through the API as a client (or an attacker) would send them: uploads
// judged by their bytes, owned like jobs, used as image prompts, style and omni references,
// described and blended, and handed to the upstream as base64 or as signed, expiring links.
import { deflateSync } from 'node:zlib';
import { HttpResponse, http } from 'msw';
import sharp from 'sharp';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { server } from '../mocks/node';
import { UPSTREAM_BASE } from '../mocks/upstream';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();

const RELAY = 'https://relay.test/mj';
const SECRET = 'relay-secret-77aa01';
const PUBLIC = 'https://studio.example';

const apps: Awaited<ReturnType<typeof buildTestApp>>[] = [];
afterEach(() => {
  for (const setup of apps.splice(0)) setup.scheduler.stop();
});

async function app(options: Parameters<typeof buildTestApp>[0] = {}) {
  const setup = await buildTestApp(options);
  apps.push(setup);
  return setup;
}

const relayApp = (publicUrl?: string) =>
  app({ relay: { baseUrl: RELAY, secret: SECRET, ...(publicUrl ? { publicUrl } : {}) } });

const png = (width = 64, height = 48, color = { r: 200, g: 40, b: 30 }) =>
  sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();

/** A relay that accepts everything and records what it was sent, per route. */
function relay() {
  const sent = { imagine: [] as unknown[], describe: [] as unknown[], blend: [] as unknown[] };
  let next = 0;
  for (const route of ['imagine', 'describe', 'blend'] as const) {
    server.use(
      http.post(`${RELAY}/submit/${route}`, async ({ request: incoming }) => {
        sent[route].push(await incoming.json());
        next += 1;
        return HttpResponse.json({ code: 1, description: 'ok', result: `${route}-${next}` });
      }),
    );
  }
  return sent;
}

async function upload(agent: request.Agent, body: Buffer, type = 'image/png') {
  return agent.post('/api/uploads').set('content-type', type).send(body);
}

test('an uploaded PNG answers its id, URL and size, and only its owner can see it', async () => {
  const { agent, app: express } = await app();
  const image = await png(64, 48);

  const response = await upload(agent, image);
  const mine = await agent.get(response.body.url).buffer(true);
  const theirs = await request(express).get(response.body.url);
  const theirRecord = await request(express).get(`/api/uploads/${response.body.upload_id}`);

  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ width: 64, height: 48, content_type: 'image/png' });
  expect(response.body.upload_id).toMatch(/^up_/);
  expect(mine.status).toBe(200);
  expect(mine.headers['content-type']).toBe('image/png');
  expect(Buffer.from(mine.body).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(theirs.status).toBe(404);
  expect(theirRecord.status).toBe(404);
});

test.each([
  ['an HTML page labelled as a PNG', Buffer.from('<html><script>alert(1)</script></html>'), 'image/png'],
  ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/png'],
  ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'image/png'],
  [
    'a JPEG header over garbage',
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4000, 7)]),
    'image/jpeg',
  ],
])('an upload of %s is refused with a 400 that names the accepted types', async (_label, body, type) => {
  const { agent } = await app();

  const response = await upload(agent, body, type);

  expect(response.status).toBe(400);
  expect(response.body.error.code).toBe('invalid_request');
  expect(response.body.error.message).toMatch(/PNG|JPEG|WebP|corrupt/);
});

test('a form upload (multipart) is a 415 that says how to send the image', async () => {
  const { agent } = await app();

  const response = await agent.post('/api/uploads').attach('file', await png(), 'a.png');

  expect(response.status).toBe(415);
  expect(response.body.error.message).toContain('Send the image itself as the body');
});

test('an upload over UPLOAD_MAX_BYTES is refused, and an empty one too', async () => {
  const { agent } = await app({ uploadMaxBytes: 4096 });
  const big = Buffer.concat([await png(), Buffer.alloc(10_000, 1)]);

  const tooBig = await upload(agent, big);
  const empty = await upload(agent, Buffer.alloc(0));

  expect([400, 413]).toContain(tooBig.status);
  expect(empty.status).toBe(400);
});

/** A PNG of a few kilobytes whose header claims 60000 x 60000 pixels: a decompression bomb. */
function bombPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(body));
    return Buffer.concat([head, body, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60_000, 0);
  ihdr.writeUInt32BE(60_000, 4);
  ihdr.writeUInt8(8, 8);
  ihdr.writeUInt8(2, 9);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1_000_000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a decompression bomb disguised as a small PNG, and an image of too many pixels, are refused', async () => {
  const { agent } = await app();
  const huge = await sharp({ create: { width: 9000, height: 9000, channels: 3, background: '#000' } })
    .png()
    .toBuffer();

  const bomb = await upload(agent, bombPng());
  const tooManyPixels = await upload(agent, huge);

  expect(bomb.status).toBe(400);
  expect(bomb.body.error.message).toMatch(/pixels/);
  expect(tooManyPixels.status).toBe(400);
  expect(tooManyPixels.body.error.message).toMatch(/pixels/);
});

test('the kept copy of a photo has no EXIF: a marker written in it is gone', async () => {
  const { agent } = await app();
  const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#357' } })
    .jpeg()
    .withExif({ IFD0: { Copyright: 'gps-marker-51.5N' } })
    .toBuffer();

  const response = await upload(agent, photo, 'image/jpeg');
  const kept = await agent.get(response.body.url).buffer(true);

  expect(photo.includes('gps-marker-51.5N')).toBe(true);
  expect(response.status).toBe(201);
  expect(Buffer.from(kept.body).includes('gps-marker-51.5N')).toBe(false);
  expect((await sharp(Buffer.from(kept.body)).metadata()).exif).toBeUndefined();
});

test("a submission naming someone else's upload, a deleted one or a made-up id is refused, and nothing is sent", async () => {
  const sent = relay();
  const owner = await relayApp();
  const other = request.agent(owner.app);
  const mine = (await upload(owner.agent, await png())).body.upload_id;
  const deleted = (await upload(owner.agent, await png())).body.upload_id;
  expect((await owner.agent.delete(`/api/uploads/${deleted}`)).status).toBe(204);

  const theirs = await other.post('/api/imagine').send({ prompt: 'a fox', image_prompts: [{ upload_id: mine }] });
  const gone = await owner.agent
    .post('/api/imagine')
    .send({ prompt: 'a fox', image_prompts: [{ upload_id: deleted }] });
  const madeUp = await owner.agent
    .post('/api/imagine')
    .send({ prompt: 'a fox', image_prompts: [{ upload_id: '../../etc' }] });
  const deletedImage = await owner.agent.get(`/api/uploads/${deleted}/image`);

  expect(theirs.status).toBe(404);
  expect(gone.status).toBe(404);
  expect(madeUp.status).toBe(400);
  expect(deletedImage.status).toBe(404);
  expect(sent.imagine).toEqual([]);
});

test('on a relay, image prompts travel as base64Array and the job records them', async () => {
  const sent = relay();
  const { agent } = await relayApp();
  const image = (await upload(agent, await png(32, 32))).body;

  const response = await agent
    .post('/api/imagine')
    .send({ prompt: 'a fox --s 250', image_prompts: [{ upload_id: image.upload_id }], params: { image_weight: 2 } });

  expect(response.status).toBe(202);
  expect(response.body).toMatchObject({
    prompt: 'a fox',
    params: { stylize: 250, image_weight: 2 },
    references: [{ role: 'image', upload_id: image.upload_id, url: image.url }],
  });
  const [body] = sent.imagine as { prompt: string; base64Array: string[] }[];
  expect(body?.prompt).toBe('a fox --s 250 --iw 2');
  expect(body?.base64Array).toHaveLength(1);
  expect(body?.base64Array[0]).toMatch(/^data:image\/png;base64,/);
});

test('a style reference needs a link the upstream can fetch: 409 without PUBLIC_URL, a signed link with it', async () => {
  const sent = relay();
  const closed = await relayApp();
  const open = await relayApp(PUBLIC);
  const closedUpload = (await upload(closed.agent, await png())).body.upload_id;
  const openUpload = (await upload(open.agent, await png())).body.upload_id;

  const refused = await closed.agent
    .post('/api/imagine')
    .send({ prompt: 'a fox', style_refs: [{ upload_id: closedUpload }] });
  const accepted = await open.agent
    .post('/api/imagine')
    .send({ prompt: 'a fox', style_refs: [{ upload_id: openUpload }] });

  expect(refused.status).toBe(409);
  expect(refused.body.error.message).toContain('PUBLIC_URL');
  expect(accepted.status).toBe(202);
  const prompt = (sent.imagine[0] as { prompt: string }).prompt;
  const link = /--sref (\S+)/.exec(prompt)?.[1] ?? '';
  expect(link.startsWith(`${PUBLIC}/media/uploads/${openUpload}.png?e=`)).toBe(true);

  // The upstream fetches the link with no cookie; a changed signature or file opens nothing.
  const url = new URL(link);
  const fetched = await request(open.app).get(`${url.pathname}${url.search}`).set('host', 'studio.example');
  const forged = await request(open.app)
    .get(`${url.pathname}${url.search.replace(/s=[^&]+/, 's=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')}`)
    .set('host', 'studio.example');
  const otherFile = await request(open.app)
    .get(`${url.pathname.replace(openUpload, 'up_zzzzzzzzzzzzzzzzzzzzzz')}${url.search}`)
    .set('host', 'studio.example');
  expect(fetched.status).toBe(200);
  expect(fetched.headers['content-type']).toBe('image/png');
  expect(forged.status).toBe(404);
  expect(otherFile.status).toBe(404);
});

test('the v7 contract gets image prompts as links in the prompt, and refuses them without PUBLIC_URL', async () => {
  const { agent } = await app();
  const id = (await upload(agent, await png())).body.upload_id;

  const response = await agent.post('/api/imagine').send({ prompt: 'a fox', image_prompts: [{ upload_id: id }] });

  expect(response.status).toBe(409);
  expect(response.body.error.message).toContain('PUBLIC_URL');
});

test('describe and blend are 409 on an upstream without them, and go to a relay as base64', async () => {
  const sent = relay();
  const v7 = await app();
  const onRelay = await relayApp();
  const v7Upload = (await upload(v7.agent, await png())).body.upload_id;
  const a = (await upload(onRelay.agent, await png(30, 20))).body.upload_id;
  const b = (await upload(onRelay.agent, await png(20, 30, { r: 10, g: 200, b: 10 }))).body.upload_id;

  const noDescribe = await v7.agent.post('/api/describe').send({ image: { upload_id: v7Upload } });
  const noBlend = await v7.agent
    .post('/api/blend')
    .send({ images: [{ upload_id: v7Upload }, { upload_id: v7Upload }] });
  const described = await onRelay.agent.post('/api/describe').send({ image: { upload_id: a } });
  const blended = await onRelay.agent
    .post('/api/blend')
    .send({ images: [{ upload_id: a }, { upload_id: b }], shape: 'landscape' });
  const tooFew = await onRelay.agent.post('/api/blend').send({ images: [{ upload_id: a }] });

  expect(noDescribe.status).toBe(409);
  expect(noBlend.status).toBe(409);
  expect(described.status).toBe(202);
  expect(described.body).toMatchObject({ kind: 'describe', references: [{ role: 'image', upload_id: a }] });
  expect(blended.status).toBe(202);
  expect(blended.body).toMatchObject({ kind: 'blend', aspect_ratio: '3:2' });
  expect(tooFew.status).toBe(400);
  expect((sent.describe[0] as { base64: string }).base64).toMatch(/^data:image\/png;base64,/);
  expect(sent.blend[0]).toMatchObject({ dimensions: 'LANDSCAPE' });
  expect((sent.blend[0] as { base64Array: string[] }).base64Array).toHaveLength(2);
});

test('a finished describe job shows its four prompts', async () => {
  relay();
  server.use(
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) =>
      HttpResponse.json({
        id: params.id,
        action: 'DESCRIBE',
        status: 'SUCCESS',
        progress: '100%',
        prompt: '1️⃣ a red square --ar 4:3\n\n2️⃣ crimson block\n\n3️⃣ minimal red art\n\n4️⃣ a flat colour field',
      }),
    ),
  );
  const setup = await relayApp();
  const id = (await upload(setup.agent, await png())).body.upload_id;
  const job = (await setup.agent.post('/api/describe').send({ image: { upload_id: id } })).body.job_id;

  await setup.jobs.refresh(job);
  const done = await setup.agent.get(`/api/jobs/${job}`);

  expect(done.body).toMatchObject({
    status: 'complete',
    kind: 'describe',
    descriptions: ['a red square --ar 4:3', 'crimson block', 'minimal red art', 'a flat colour field'],
  });
  expect(done.body.image_url).toBeUndefined();
});

test('a finished job can be an image prompt; a running one cannot', async () => {
  const sent = relay();
  server.use(
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) =>
      HttpResponse.json({ id: params.id, status: 'IN_PROGRESS', progress: '10%', imageUrl: '' }),
    ),
  );
  const setup = await relayApp();
  const running = (await setup.agent.post('/api/imagine').send({ prompt: 'a lake' })).body.job_id;

  const refused = await setup.agent
    .post('/api/imagine')
    .send({ prompt: 'a fox', image_prompts: [{ job_id: running }] });
  server.use(
    http.get(`${RELAY}/task/:id/fetch`, ({ params }) =>
      HttpResponse.json({
        id: params.id,
        status: 'SUCCESS',
        progress: '100%',
        imageUrl: 'https://cdn.mj.test/images/x.png',
      }),
    ),
  );
  await setup.jobs.refresh(running);
  const accepted = await setup.agent
    .post('/api/imagine')
    .send({ prompt: 'a fox', image_prompts: [{ job_id: running }] });

  expect(refused.status).toBe(409);
  expect(accepted.status).toBe(202);
  expect(accepted.body.references).toEqual([
    { role: 'image', job_id: running, url: expect.stringMatching(/^\/api\/images\//) },
  ]);
  expect((sent.imagine.at(-1) as { base64Array: string[] }).base64Array).toHaveLength(1);
});

test('a costlier job counts as much against the per-client limit: two --q 2 jobs are four submissions', async () => {
  const { agent } = await app({ security: { submitsPerMinute: 3 } });

  const first = await agent.post('/api/imagine').send({ prompt: 'a fox --q 2' });
  const second = await agent.post('/api/imagine').send({ prompt: 'a fox --q 2' });
  const standard = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(first.status).toBe(202);
  expect(first.body.cost).toBe(2);
  expect(second.status).toBe(429);
  expect(standard.status).toBe(202);
});

test('the v7 contract gets ratio, quality and model as fields and every other parameter in the text', async () => {
  const bodies: unknown[] = [];
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: incoming }) => {
      bodies.push(await incoming.json());
      return HttpResponse.json({ job_id: 'v7-1', status: 'pending' });
    }),
  );
  const { agent } = await app();

  const response = await agent
    .post('/api/imagine')
    .send({ prompt: 'a fox --ar 3:2 --no people, cars', params: { stylize: 250, seed: 42, quality: 2, model: '6.1' } });

  expect(response.status).toBe(202);
  expect(response.body).toMatchObject({
    aspect_ratio: '3:2',
    quality: 'high',
    params: { aspect_ratio: '3:2', no: ['people', 'cars'], stylize: 250, seed: 42, quality: 2, model: '6.1' },
  });
  expect(bodies).toEqual([
    { prompt: 'a fox --s 250 --seed 42 --no people, cars', aspect_ratio: '3:2', model: 'v6.1', quality: 'high' },
  ]);
});

// What a hostile review of the above found, each replayed.

test.each([
  [{ no: ['{red', 'green', 'blue}'] }, 'params.no'],
  [{ sref: ['https://x.com/{1,2,3,4}'] }, 'params.sref'],
  [{ oref: 'https://x.com/{a,b}.png' }, 'params.oref'],
  [{ no: ['a\nb\u0000c\u202e'] }, 'params.no'],
])('params %j cannot smuggle a permutation or control characters past the prompt checks', async (params, field) => {
  const bodies: unknown[] = [];
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: incoming }) => {
      bodies.push(await incoming.json());
      return HttpResponse.json({ job_id: 'x', status: 'pending' });
    }),
  );
  const { agent } = await app();

  const response = await agent.post('/api/imagine').send({ prompt: 'cat', params });

  expect(response.status).toBe(400);
  expect(response.body.error.fields.map((issue: { path: string }) => issue.path)).toContain(field);
  expect(bodies).toEqual([]);
});

test('an upload whose file vanished before the job was sent fails the submission with a clear 400, not a 500', async () => {
  const sent = relay();
  const setup = await relayApp();
  const { upload_id: id } = (await upload(setup.agent, await png())).body;
  const { rmSync } = await import('node:fs');
  const path = await import('node:path');
  rmSync(path.join(setup.dataDir, 'uploads', `${id}.png`));

  const response = await setup.agent.post('/api/imagine').send({ prompt: 'a fox', image_prompts: [{ upload_id: id }] });

  expect(response.status).toBe(400);
  expect(response.body.error.message).toContain('deleted before it was sent');
  expect(sent.imagine).toEqual([]);
});

test('a job costing more than the whole per-client limit is a 409 that spends nothing', async () => {
  const { agent } = await app({ security: { submitsPerMinute: 3 } });

  const costly = await agent.post('/api/imagine').send({ prompt: 'a fox --q 4' });
  const standard = await agent.post('/api/imagine').send({ prompt: 'a fox' });

  expect(costly.status).toBe(409);
  expect(costly.body.error.message).toContain('counts as 4 submissions');
  expect(standard.status).toBe(202);
});

test("the relay's final prompt is kept without our links' signatures, and media requests are logged without them", async () => {
  relay();
  const setup = await relayApp(PUBLIC);
  const { upload_id: id } = (await upload(setup.agent, await png())).body;
  const job = (await setup.agent.post('/api/imagine').send({ prompt: 'a fox', style_refs: [{ upload_id: id }] })).body;
  server.use(
    http.get(`${RELAY}/task/:task/fetch`, ({ params }) =>
      HttpResponse.json({
        id: params.task,
        status: 'IN_PROGRESS',
        progress: '20%',
        imageUrl: '',
        properties: { finalPrompt: `a fox --sref ${PUBLIC}/media/uploads/${id}.png?e=99999999999&s=${'a'.repeat(64)}` },
      }),
    ),
  );

  await setup.jobs.refresh(job.job_id);
  const seen = await setup.agent.get(`/api/jobs/${job.job_id}`);
  await request(setup.app)
    .get(`/media/uploads/${id}.png?e=1&s=${'b'.repeat(64)}`)
    .set('host', 'studio.example');

  expect(seen.body.final_prompt).toBe(`a fox --sref ${PUBLIC}/media/uploads/${id}.png`);
  expect(setup.logs.join('')).not.toContain('b'.repeat(64));
});

test('a describe job queued on a relay fails at a restart on the v7 contract, saying why; no imagine is sent in its place', async () => {
  relay();
  const imagined: unknown[] = [];
  server.use(
    http.post(`${UPSTREAM_BASE}/imagine`, async ({ request: incoming }) => {
      imagined.push(await incoming.json());
      return HttpResponse.json({ job_id: 'wrong', status: 'pending' });
    }),
  );
  const first = await relayApp();
  const owner = 'owner-restart';
  const upload = await first.uploads.save(owner, await png());
  const queued = first.jobs.recordDescribe(owner, { image: { upload_id: upload.id } });
  await first.close();

  const second = await app({ dataDir: first.dataDir });
  await second.scheduler.pump();

  expect(second.jobs.find(queued.id)).toMatchObject({
    status: 'failed',
    error: expect.stringContaining('No account in use can run this job'),
  });
  expect(imagined).toEqual([]);
});
