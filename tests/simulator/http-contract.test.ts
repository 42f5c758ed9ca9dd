import { PNG } from 'pngjs';
import request from 'supertest';
import { expect, test } from 'vitest';
import { createSimulatorApp } from '../../server/src/simulator/app';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';

const KEY = 'sim-key-1';

function simulator(overrides: Partial<Parameters<typeof simulatorConfig>[0]> = {}) {
  const clock = { now: 5_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: KEY, queueMs: 1_000, renderMs: 4_000, failureRate: 0, ...overrides }),
    { now: () => clock.now, random: () => 0.5 },
  );
  return { app: createSimulatorApp(engine), clock };
}

const auth = { authorization: `Bearer ${KEY}` };

test('POST /v1/imagine answers a job id and pending status', async () => {
  const { app } = simulator();

  const response = await request(app)
    .post('/v1/imagine')
    .set(auth)
    .send({ prompt: 'a fox', aspect_ratio: '16:9', model: 'v7', quality: 'standard' });

  expect(response.status).toBe(200);
  expect(response.body).toEqual({ job_id: expect.stringMatching(/^[A-Za-z0-9_-]+$/), status: 'pending' });
});

test('GET /v1/jobs/:id walks pending, processing with progress, complete with an image link', async () => {
  const { app, clock } = simulator();
  const { body } = await request(app).post('/v1/imagine').set(auth).send({ prompt: 'a fox', aspect_ratio: '16:9' });

  const pending = await request(app).get(`/v1/jobs/${body.job_id}`).set(auth);
  clock.now += 3_000;
  const processing = await request(app).get(`/v1/jobs/${body.job_id}`).set(auth);
  clock.now += 3_000;
  const complete = await request(app).get(`/v1/jobs/${body.job_id}`).set(auth);

  expect(pending.body).toMatchObject({ status: 'pending', progress: 0 });
  expect(processing.body.status).toBe('processing');
  expect(processing.body.progress).toBeGreaterThan(0);
  expect(processing.body.progress).toBeLessThan(100);
  expect(complete.body).toMatchObject({ status: 'complete', progress: 100 });
  expect(complete.body.image_url).toMatch(new RegExp(`/v1/images/${body.job_id}\\.png$`));
});

test('the image is a real PNG in the requested aspect ratio', async () => {
  const { app, clock } = simulator();
  const { body } = await request(app)
    .post('/v1/imagine')
    .set(auth)
    .send({ prompt: 'night over the sea', aspect_ratio: '9:16' });
  clock.now += 10_000;

  const image = await request(app).get(`/v1/images/${body.job_id}.png`).buffer(true);

  expect(image.status).toBe(200);
  expect(image.headers['content-type']).toBe('image/png');
  const png = PNG.sync.read(image.body as Buffer);
  expect(png.width / png.height).toBeCloseTo(9 / 16, 2);
  const distinctColours = new Set<number>();
  for (let offset = 0; offset < png.data.length; offset += 4 * 97) distinctColours.add(png.data.readUInt32BE(offset));
  expect(distinctColours.size).toBeGreaterThan(100);
});

test('the image of an unfinished job is a 404', async () => {
  const { app } = simulator();
  const { body } = await request(app).post('/v1/imagine').set(auth).send({ prompt: 'a fox' });

  const image = await request(app).get(`/v1/images/${body.job_id}.png`);

  expect(image.status).toBe(404);
});

test.each([undefined, 'Bearer wrong', `bearer ${KEY}`, KEY])(
  'a request with authorization %s gets 401',
  async (header) => {
    const { app } = simulator();
    const attempt = request(app).post('/v1/imagine').send({ prompt: 'a fox' });

    const response = await (header ? attempt.set('authorization', header) : attempt);

    expect(response.status).toBe(401);
  },
);

test('a prompt with a blocked word is refused with 422 naming the word', async () => {
  const { app } = simulator();

  const response = await request(app).post('/v1/imagine').set(auth).send({ prompt: 'A Gore scene' });

  expect(response.status).toBe(422);
  expect(response.body.error).toMatch(/"gore"/);
});

test.each([
  [{ prompt: 'a fox', aspect_ratio: 'wide' }, 'aspect_ratio must be W:H'],
  [{ prompt: 'a fox --repeat 4' }, '--repeat is not a supported parameter'],
  [{ prompt: 'a fox --s 5000' }, '--s (stylize)'],
])('an invalid submission %j gets 400 saying why', async (body, message) => {
  const { app } = simulator();

  const response = await request(app).post('/v1/imagine').set(auth).send(body);

  expect(response.status).toBe(400);
  expect(response.body.error).toContain(message);
});

test('an unknown job is a 404', async () => {
  const { app } = simulator();

  const response = await request(app).get('/v1/jobs/nope').set(auth);

  expect(response.status).toBe(404);
});

test('past the per-key limit the simulator answers 429 with Retry-After, and recovers after the window', async () => {
  const { app, clock } = simulator({ rateLimit: 5, rateWindowMs: 60_000 });
  const statuses: number[] = [];

  for (let i = 0; i < 5; i++) statuses.push((await request(app).get('/v1/jobs/x').set(auth)).status);
  const limited = await request(app).post('/v1/imagine').set(auth).send({ prompt: 'a fox' });
  clock.now += 60_001;
  const after = await request(app).get('/v1/jobs/x').set(auth);

  expect(statuses).toEqual([404, 404, 404, 404, 404]);
  expect(limited.status).toBe(429);
  expect(limited.headers['retry-after']).toBe('60');
  expect(after.status).toBe(404);
});

test('a running job can be cancelled', async () => {
  const { app, clock } = simulator();
  const { body } = await request(app).post('/v1/imagine').set(auth).send({ prompt: 'a fox' });
  clock.now += 2_000;

  const response = await request(app).post(`/v1/jobs/${body.job_id}/cancel`).set(auth);

  expect(response.body.status).toBe('cancelled');
});
