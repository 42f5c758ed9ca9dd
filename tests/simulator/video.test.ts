// The simulator's clips: a WebM of VP8 key frames that starts on the picture it animates, moves
// more for high motion, begins an extension with its parent's very frames, and is served whole
// or by byte ranges.
import { PNG } from 'pngjs';
import sharp from 'sharp';
import request from 'supertest';
import { expect, test } from 'vitest';
import { createSimulatorApp } from '../../server/src/simulator/app';
import { simulatorConfig } from '../../server/src/simulator/config';
import { type SimJobView, SimulatorEngine } from '../../server/src/simulator/engine';
import { renderPicture } from '../../server/src/simulator/picture';
import { CLIP_FPS, clipSize, renderClip } from '../../server/src/simulator/video';

const SCALE = 0.25;

/** The parts of a WebM these tests read, found by walking its EBML elements. */
interface WebmParts {
  docType: string;
  codec: string;
  width: number;
  height: number;
  /** Milliseconds (the TimecodeScale is 1 ms). */
  duration: number;
  timecodeScale: number;
  frames: { time: number; key: boolean; data: Buffer }[];
}

const MASTERS = new Set([0x1a45dfa3, 0x18538067, 0x1549a966, 0x1654ae6b, 0xae, 0xe0, 0x1f43b675]);

function vint(bytes: Buffer, at: number): { value: number; length: number } {
  const first = bytes[at] ?? 0;
  let length = 1;
  while (length < 8 && !(first & (0x80 >> (length - 1)))) length++;
  let value = first & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + (bytes[at + i] ?? 0);
  return { value, length };
}

function readWebm(bytes: Buffer): WebmParts {
  const parts: WebmParts = {
    docType: '',
    codec: '',
    width: 0,
    height: 0,
    duration: 0,
    timecodeScale: 0,
    frames: [],
  };
  let clusterTime = 0;
  const walk = (start: number, end: number) => {
    for (let at = start; at < end; ) {
      const idLength = vint(bytes, at).length;
      const id = bytes.readUIntBE(at, idLength);
      const size = vint(bytes, at + idLength);
      const body = at + idLength + size.length;
      const payload = bytes.subarray(body, body + size.value);
      const uint = () => payload.readUIntBE(0, payload.length);
      if (MASTERS.has(id)) walk(body, body + size.value);
      else if (id === 0x4282) parts.docType = payload.toString();
      else if (id === 0x86) parts.codec = payload.toString();
      else if (id === 0xb0) parts.width = uint();
      else if (id === 0xba) parts.height = uint();
      else if (id === 0x4489) parts.duration = payload.readDoubleBE(0);
      else if (id === 0x2ad7b1) parts.timecodeScale = uint();
      else if (id === 0xe7) clusterTime = uint();
      else if (id === 0xa3) {
        parts.frames.push({
          time: clusterTime + payload.readInt16BE(1),
          key: ((payload[3] ?? 0) & 0x80) !== 0,
          data: payload.subarray(4),
        });
      }
      at = body + size.value;
    }
  };
  walk(0, bytes.length);
  return parts;
}

/** A VP8 frame back in a WebP container, for sharp to decode. */
async function decodeFrame(vp8: Buffer): Promise<{ width: number; height: number; data: Buffer }> {
  const pad = vp8.length % 2;
  const head = Buffer.alloc(20);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(12 + vp8.length + pad, 4);
  head.write('WEBPVP8 ', 8, 'latin1');
  head.writeUInt32LE(vp8.length, 16);
  const { data, info } = await sharp(Buffer.concat([head, vp8, Buffer.alloc(pad)]))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

function difference(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}

/** The mean difference between frames a second apart, over the whole clip. */
async function changePerSecond(webm: Buffer): Promise<number> {
  const frames = await Promise.all(readWebm(webm).frames.map((frame) => decodeFrame(frame.data)));
  const steps = frames.slice(CLIP_FPS).map((frame, i) => difference(frames[i]?.data ?? Buffer.alloc(0), frame.data));
  return steps.reduce((sum, step) => sum + step, 0) / steps.length;
}

function studio() {
  const jobs = new Map<string, SimJobView>();
  const add = (fields: Partial<SimJobView> & { id: string }): SimJobView => {
    const job: SimJobView = {
      status: 'complete',
      progress: 100,
      prompt: 'a quiet lake under the mountains',
      aspectRatio: '16:9',
      quality: 'standard',
      kind: 'UPSCALE',
      grid: false,
      seed: `seed-${fields.id}`,
      startsAt: 0,
      endsAt: 1,
      ...fields,
    };
    jobs.set(job.id, job);
    return job;
  };
  const lookup = (id: string) => jobs.get(id);
  const image = add({ id: 'image' });
  const clip = (id: string, motion: 'low' | 'high', seconds: number, parentId = image.id) =>
    add({ id, kind: 'VIDEO', parentId, edit: { op: 'animate', motion, seconds } });
  return { lookup, image, clip };
}

test('a clip is a WebM with one VP8 track of the frame size and the duration of its frames', async () => {
  const { lookup, clip } = studio();
  const video = clip('video', 'low', 2);

  const bytes = await renderClip(video, lookup, SCALE);

  expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
  const webm = readWebm(bytes);
  expect(webm).toMatchObject({ docType: 'webm', codec: 'V_VP8', timecodeScale: 1_000_000 });
  expect([webm.width, webm.height]).toEqual([120, 68]);
  expect(clipSize('16:9', SCALE)).toEqual({ width: 120, height: 68 });
  expect(webm.frames).toHaveLength(2 * CLIP_FPS);
  expect(webm.duration).toBeCloseTo(2000, 0);
});

test('every frame is a VP8 key frame of the track size, twelve a second', async () => {
  const { lookup, clip } = studio();
  const video = clip('video', 'high', 3);

  const webm = readWebm(await renderClip(video, lookup, SCALE));

  expect(webm.frames).toHaveLength(36);
  webm.frames.forEach((frame, i) => {
    expect(frame.key).toBe(true);
    expect((frame.data[0] ?? 1) & 1).toBe(0);
    expect(frame.data.subarray(3, 6)).toEqual(Buffer.from([0x9d, 0x01, 0x2a]));
    expect(frame.data.readUInt16LE(6) & 0x3fff).toBe(webm.width);
    expect(frame.data.readUInt16LE(8) & 0x3fff).toBe(webm.height);
    expect(frame.time).toBe(Math.round((i * 1000) / CLIP_FPS));
  });
});

test('the first frame is the picture the clip animates', async () => {
  const { lookup, image, clip } = studio();
  const video = clip('video', 'high', 2);
  // Larger frames than elsewhere, so that VP8's losses stay small beside the picture.
  const { width, height } = clipSize('16:9', 0.5);
  const source = await sharp(renderPicture(image, lookup, 1))
    .resize(width, height, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();

  const { frames } = readWebm(await renderClip(video, lookup, 0.5));

  const [first, last] = await Promise.all([
    decodeFrame(frames[0]?.data ?? Buffer.alloc(0)),
    decodeFrame(frames.at(-1)?.data ?? Buffer.alloc(0)),
  ]);
  expect([first.width, first.height]).toEqual([width, height]);
  expect(difference(first.data, source)).toBeLessThan(5);
  expect(difference(last.data, source)).toBeGreaterThan(difference(first.data, source) * 2);
});

test('high motion changes the picture more over a second than low motion does', async () => {
  const { lookup, clip } = studio();
  const [low, high] = await Promise.all([
    renderClip(clip('low', 'low', 4), lookup, SCALE),
    renderClip(clip('high', 'high', 4), lookup, SCALE),
  ]);

  const [slow, fast] = await Promise.all([changePerSecond(low), changePerSecond(high)]);

  expect(slow).toBeGreaterThan(1);
  expect(fast).toBeGreaterThan(slow * 1.5);
});

test("an extension begins with its parent clip's frames, byte for byte, and runs on", async () => {
  const { lookup, clip } = studio();
  const parent = clip('first', 'high', 2);
  const extension = clip('longer', 'low', 4, parent.id);

  const [before, after] = await Promise.all([renderClip(parent, lookup, SCALE), renderClip(extension, lookup, SCALE)]);

  const [short, long] = [readWebm(before), readWebm(after)];
  expect(long.frames).toHaveLength(4 * CLIP_FPS);
  short.frames.forEach((frame, i) => {
    expect(long.frames[i]?.data.equals(frame.data)).toBe(true);
  });
  expect(long.duration).toBeCloseTo(4000, 0);
});

function simulator() {
  const clock = { now: 7_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: 'k', queueMs: 100, renderMs: 400, failureRate: 0, imageScale: SCALE }),
    { now: () => clock.now, random: () => 0.5 },
  );
  const image = engine.submit('sunset over the sea', '1:1', 'standard', { kind: 'UPSCALE' });
  const video = engine.submit('sunset over the sea', '1:1', 'standard', {
    kind: 'VIDEO',
    parentId: image.id,
    edit: { op: 'animate', motion: 'low', seconds: 1 },
  });
  clock.now += 10_000;
  return { app: createSimulatorApp(engine), image, video };
}

test('GET /v1/videos/:id.webm answers the whole clip as video/webm, saying it takes ranges', async () => {
  const { app, video } = simulator();

  const response = await request(app).get(`/v1/videos/${video.id}.webm`).buffer(true);

  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^video\/webm/);
  expect(response.headers['accept-ranges']).toBe('bytes');
  const body = Buffer.from(response.body);
  expect(readWebm(body).frames).toHaveLength(CLIP_FPS);
  expect(Number(response.headers['content-length'])).toBe(body.length);
});

test('GET /v1/videos/:id.webm answers 206 for a byte range, from the start, from the end and open-ended', async () => {
  const { app, video } = simulator();
  const path = `/v1/videos/${video.id}.webm`;
  const whole = Buffer.from((await request(app).get(path).buffer(true)).body);
  const size = whole.length;

  const [head, tail, rest] = await Promise.all([
    request(app).get(path).set('Range', 'bytes=0-99').buffer(true),
    request(app).get(path).set('Range', 'bytes=-50').buffer(true),
    request(app)
      .get(path)
      .set('Range', `bytes=${size - 10}-`)
      .buffer(true),
  ]);

  expect(head.status).toBe(206);
  expect(head.headers['content-range']).toBe(`bytes 0-99/${size}`);
  expect(Buffer.from(head.body).equals(whole.subarray(0, 100))).toBe(true);
  expect(tail.headers['content-range']).toBe(`bytes ${size - 50}-${size - 1}/${size}`);
  expect(Buffer.from(tail.body).equals(whole.subarray(size - 50))).toBe(true);
  expect(rest.status).toBe(206);
  expect(Buffer.from(rest.body)).toHaveLength(10);
});

test('GET /v1/videos/:id.webm answers 416 for a range past the end, and 404 for a job that is not a clip', async () => {
  const { app, image, video } = simulator();

  const [beyond, notClip, unknown] = await Promise.all([
    request(app).get(`/v1/videos/${video.id}.webm`).set('Range', 'bytes=99999999-'),
    request(app).get(`/v1/videos/${image.id}.webm`),
    request(app).get('/v1/videos/nothing-here.webm'),
  ]);

  expect(beyond.status).toBe(416);
  expect(beyond.headers['content-range']).toMatch(/^bytes \*\/\d+$/);
  expect(notClip.status).toBe(404);
  expect(unknown.status).toBe(404);
});

test("GET /v1/images/:id.png of a clip is its poster, a PNG of the clip's picture", async () => {
  const { app, image, video } = simulator();

  const [poster, picture] = await Promise.all([
    request(app).get(`/v1/images/${video.id}.png`).buffer(true),
    request(app).get(`/v1/images/${image.id}.png`).buffer(true),
  ]);

  expect(poster.status).toBe(200);
  expect(PNG.sync.read(Buffer.from(poster.body)).data.equals(PNG.sync.read(Buffer.from(picture.body)).data)).toBe(true);
});
