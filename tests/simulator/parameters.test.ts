// The simulator honours what it can see of a prompt: the seed makes a job reproducible,
// stylize and chaos change the painting, the ratio its shape, --no removes an element,
// image prompts tint it; describe answers four prompts derived from the image; blend mixes.
import { PNG } from 'pngjs';
import sharp from 'sharp';
import request from 'supertest';
import { expect, test } from 'vitest';
import { createSimulatorApp } from '../../server/src/simulator/app';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';
import { parsePrompt } from '../../shared/schemas/prompt-params';

const KEY = 'relay-key-params';
const secret = { 'mj-api-secret': KEY };

function simulator() {
  const clock = { now: 9_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: KEY, queueMs: 100, renderMs: 400, failureRate: 0, imageScale: 0.25 }),
    { now: () => clock.now },
  );
  return { app: createSimulatorApp(engine), clock };
}

type Sim = ReturnType<typeof simulator>;

/** Submits on the relay face, lets it finish, and answers the finished grid's pixels. */
async function grid({ app, clock }: Sim, body: object): Promise<PNG> {
  const submitted = await request(app).post('/mj/submit/imagine').set(secret).send(body);
  expect(submitted.body.code).toBe(1);
  clock.now += 10_000;
  const image = await request(app).get(`/v1/images/${submitted.body.result}.png`).buffer(true);
  expect(image.status).toBe(200);
  return PNG.sync.read(Buffer.from(image.body));
}

/** Mean absolute difference per channel, 0..255. */
function difference(a: PNG, b: PNG): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) sum += Math.abs((a.data[i + c] ?? 0) - (b.data[i + c] ?? 0));
  }
  return sum / ((a.data.length / 4) * 3);
}

/** How colourful a picture is: the mean spread between its strongest and weakest channel. */
function saturation(png: PNG): number {
  let sum = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const rgb = [png.data[i] ?? 0, png.data[i + 1] ?? 0, png.data[i + 2] ?? 0];
    sum += Math.max(...rgb) - Math.min(...rgb);
  }
  return sum / (png.data.length / 4);
}

/** The brightest pixel's value in the upper half of one tile (where the sun sits). */
function brightestSky(png: PNG): number {
  let best = 0;
  for (let y = 0; y < png.height / 4; y++) {
    for (let x = 0; x < png.width / 2; x++) {
      const i = (y * png.width + x) * 4;
      best = Math.max(best, ((png.data[i] ?? 0) + (png.data[i + 1] ?? 0) + (png.data[i + 2] ?? 0)) / 3);
    }
  }
  return best;
}

const mean = (png: PNG, channel: 0 | 1 | 2) => {
  let sum = 0;
  for (let i = channel; i < png.data.length; i += 4) sum += png.data[i] ?? 0;
  return sum / (png.data.length / 4);
};

test('the same prompt and seed paint the same grid; without a seed, or with another, a new one', async () => {
  const sim = simulator();

  const first = await grid(sim, { prompt: 'alpine lake at dawn --seed 42' });
  const again = await grid(sim, { prompt: 'alpine lake at dawn --seed 42' });
  const other = await grid(sim, { prompt: 'alpine lake at dawn --seed 43' });
  const unseeded = await grid(sim, { prompt: 'alpine lake at dawn' });

  expect(difference(first, again)).toBe(0);
  expect(difference(first, other)).toBeGreaterThan(3);
  expect(difference(first, unseeded)).toBeGreaterThan(3);
});

test('stylize strengthens the colour, and chaos pulls the four images of a grid apart', async () => {
  const sim = simulator();

  const plain = await grid(sim, { prompt: 'desert canyon --seed 7 --s 0' });
  const styled = await grid(sim, { prompt: 'desert canyon --seed 7 --s 1000' });
  const calm = await grid(sim, { prompt: 'desert canyon --seed 7 --c 0' });
  const chaotic = await grid(sim, { prompt: 'desert canyon --seed 7 --c 100' });

  expect(saturation(styled)).toBeGreaterThan(saturation(plain) * 1.3);
  const tileSpread = (png: PNG) => {
    const half = (x0: number, y0: number) => {
      const tile = new PNG({ width: png.width / 2, height: png.height / 2 });
      PNG.bitblt(png, tile, x0, y0, png.width / 2, png.height / 2, 0, 0);
      return tile;
    };
    return difference(half(0, 0), half(png.width / 2, png.height / 2));
  };
  expect(tileSpread(chaotic)).toBeGreaterThan(tileSpread(calm));
});

test('the aspect ratio gives the shape, and --no sun takes the sun out of the sky', async () => {
  const sim = simulator();

  const wide = await grid(sim, { prompt: 'mountain sunset --seed 3 --ar 21:9' });
  const withSun = await grid(sim, { prompt: 'mountain sunset --seed 3' });
  const sunless = await grid(sim, { prompt: 'mountain sunset --seed 3 --no sun' });

  expect(wide.width / wide.height).toBeCloseTo(21 / 9, 1);
  expect(brightestSky(withSun)).toBeGreaterThan(brightestSky(sunless) + 10);
});

test('an image prompt sent as base64Array tints the grid with its colours', async () => {
  const sim = simulator();
  const green = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#10e010' } })
    .png()
    .toBuffer();

  const plain = await grid(sim, { prompt: 'night city --seed 5' });
  const tinted = await grid(sim, {
    prompt: 'night city --seed 5',
    base64Array: [`data:image/png;base64,${green.toString('base64')}`],
  });

  expect(mean(tinted, 1) - mean(plain, 1)).toBeGreaterThan(30);
});

test('describe answers four numbered prompts derived from the image, which our parser reads', async () => {
  const { app, clock } = simulator();
  const sunsetRed = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#e05020' } })
    .png()
    .toBuffer();

  const submitted = await request(app)
    .post('/mj/submit/describe')
    .set(secret)
    .send({ base64: `data:image/png;base64,${sunsetRed.toString('base64')}` });
  clock.now += 10_000;
  const task = await request(app).get(`/mj/task/${submitted.body.result}/fetch`).set(secret);

  expect(submitted.body.code).toBe(1);
  expect(task.body).toMatchObject({ action: 'DESCRIBE', status: 'SUCCESS', imageUrl: '' });
  const prompts = String(task.body.prompt)
    .split(/\s*[1-4]\uFE0F\u20E3\s*/)
    .filter(Boolean);
  expect(prompts).toHaveLength(4);
  for (const prompt of prompts) {
    const parsed = parsePrompt(prompt);
    expect(parsed.issues).toEqual([]);
    expect(parsed.params.aspect_ratio).toBe('3:2');
    expect(parsed.text).toMatch(/sunset/);
  }
});

test('blend makes a grid in the asked shape, coloured by its inputs; a bad image is refused with code 4', async () => {
  const { app, clock } = simulator();
  const red = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#f00000' } })
    .png()
    .toBuffer();
  const blue = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#0000f0' } })
    .png()
    .toBuffer();
  const encode = (buffer: Buffer) => `data:image/png;base64,${buffer.toString('base64')}`;

  const submitted = await request(app)
    .post('/mj/submit/blend')
    .set(secret)
    .send({ base64Array: [encode(red), encode(blue)], dimensions: 'PORTRAIT' });
  const refused = await request(app)
    .post('/mj/submit/blend')
    .set(secret)
    .send({ base64Array: [encode(red), 'data:image/png;base64,AAAA'] });
  clock.now += 10_000;
  const task = await request(app).get(`/mj/task/${submitted.body.result}/fetch`).set(secret);
  const image = PNG.sync.read(
    Buffer.from((await request(app).get(`/v1/images/${submitted.body.result}.png`).buffer(true)).body),
  );

  expect(task.body).toMatchObject({ action: 'BLEND', status: 'SUCCESS' });
  expect(task.body.buttons).toHaveLength(9);
  expect(image.height / image.width).toBeCloseTo(3 / 2, 1);
  expect(mean(image, 0) + mean(image, 2)).toBeGreaterThan(mean(image, 1) * 2);
  expect(refused.body.code).toBe(4);
});
