// The simulator's render pool: worker threads paint exactly what the main thread would, keep the
// event loop free meanwhile, survive a crashing worker, fall back to the main thread when no
// worker can start, and leave no thread behind once closed; the image routes render through it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import request from 'supertest';
import { afterEach, expect, test, vi } from 'vitest';
import { createSimulatorApp } from '../../server/src/simulator/app';
import { simulatorConfig } from '../../server/src/simulator/config';
import { type SimJobView, SimulatorEngine } from '../../server/src/simulator/engine';
import { renderPicture } from '../../server/src/simulator/picture';
import { RenderPool, sharedRenderPool, workerEntry } from '../../server/src/simulator/render-pool';
import { renderClip } from '../../server/src/simulator/video';

let pool: RenderPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

/** Finished jobs and the lookup the renderer walks parents through, as the engine answers it. */
function studio() {
  const jobs = new Map<string, SimJobView>();
  const add = (fields: Partial<SimJobView>): SimJobView => {
    const id = `job${jobs.size + 1}`;
    const job: SimJobView = {
      id,
      status: 'complete',
      progress: 100,
      prompt: 'alpine lake at dawn',
      aspectRatio: '1:1',
      quality: 'standard',
      kind: 'IMAGINE',
      grid: false,
      seed: `seed-${id}`,
      startsAt: 0,
      endsAt: 1,
      ...fields,
    };
    jobs.set(id, job);
    return job;
  };
  const lookup = (id: string) => jobs.get(id);
  const grid = add({ grid: true });
  const single = add({ kind: 'UPSCALE', parentId: grid.id, sourceTile: 2, seed: `${grid.seed}#2` });
  const creative = add({ kind: 'UPSCALE', parentId: single.id, edit: { op: 'upscale', mode: 'creative' } });
  return { add, lookup, grid, single, creative };
}

/** Runs `body` while a 20 ms interval ticks, and answers the longest gap between its ticks. */
async function longestStall(body: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 20);
  try {
    await body();
    longest = Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(ticker);
  }
  return longest;
}

test('a picture rendered in the pool is byte for byte the one renderPicture paints inline', async () => {
  const { add, lookup, grid, creative } = studio();
  // Deeper than the renderer reads (12 parents): the pool must carry every ancestor it needs.
  let zoomed = creative;
  for (let i = 0; i < 14; i++) {
    zoomed = add({ kind: 'ZOOM', grid: true, parentId: zoomed.id, sourceTile: 1, edit: { op: 'zoom', factor: 1.5 } });
  }
  pool = new RenderPool({ size: 1 });

  const [fromGrid, fromChain] = await Promise.all([
    pool.renderPicture(grid, lookup, 0.3),
    pool.renderPicture(zoomed, lookup, 0.1),
  ]);

  expect(fromGrid.equals(renderPicture(grid, lookup, 0.3))).toBe(true);
  expect(fromChain.equals(renderPicture(zoomed, lookup, 0.1))).toBe(true);
});

test('a clip rendered in the pool is byte for byte the one renderClip makes inline', async () => {
  const { add, lookup, single } = studio();
  const clip = add({ kind: 'VIDEO', parentId: single.id, edit: { op: 'animate', motion: 'low', seconds: 1 } });
  const extension = add({ kind: 'VIDEO', parentId: clip.id, edit: { op: 'animate', motion: 'high', seconds: 2 } });
  pool = new RenderPool({ size: 1 });

  const pooled = await pool.renderClip(extension, lookup, 0.3);

  expect(pooled.equals(await renderClip(extension, lookup, 0.3))).toBe(true);
});

test('the event loop keeps ticking while the pool paints a 2x creative upscale', async () => {
  const { lookup, creative } = studio();
  pool = new RenderPool({ size: 1 });
  // Started and warm, so that the stall measured is the render's, not tsx's start-up.
  await pool.renderPicture(creative, lookup, 0.05);
  const startedAt = performance.now();
  const inlineStall = await longestStall(async () => renderPicture(creative, lookup, 1));
  const inlineMs = performance.now() - startedAt;

  const pooledStall = await longestStall(() => pool?.renderPicture(creative, lookup, 1) ?? Promise.resolve());

  // A behaviour check, not a benchmark: the bound is loose on purpose.
  expect(inlineStall).toBeGreaterThan(inlineMs * 0.8);
  expect(pooledStall).toBeLessThan(Math.min(inlineMs / 2, 300));
});

test('a worker that crashes fails only its own render; the next one renders on a fresh worker', async () => {
  const { add, lookup, grid } = studio();
  const crash = add({ prompt: 'crash' });
  // The real worker behind a listener that throws out of the message handler, as a bug would.
  const dir = mkdtempSync(path.join(tmpdir(), 'render-pool-'));
  const crashing = path.join(dir, 'crashing-worker.ts');
  writeFileSync(
    crashing,
    [
      "const { parentPort } = require('node:worker_threads');",
      "parentPort.on('message', (task) => { if (task.job.prompt === 'crash') throw new Error('a bug'); });",
      `require(${JSON.stringify(fileURLToPath(workerEntry()))});`,
    ].join('\n'),
  );
  pool = new RenderPool({ size: 1, entry: pathToFileURL(crashing) });

  const failed = pool.renderPicture(crash, lookup, 0.1);
  await expect(failed).rejects.toThrow(/The render worker stopped: a bug/);
  const next = await pool.renderPicture(grid, lookup, 0.1);

  expect(next.equals(renderPicture(grid, lookup, 0.1))).toBe(true);
});

test('when no worker can start, the pool renders on the main thread and warns once', async () => {
  const { lookup, grid, single } = studio();
  const warnings: unknown[] = [];
  const missing = pathToFileURL(path.join(tmpdir(), 'no-such-render-worker.js'));
  pool = new RenderPool({ size: 1, entry: missing, warn: (error) => warnings.push(error) });

  const first = await pool.renderPicture(grid, lookup, 0.1);
  const second = await pool.renderPicture(single, lookup, 0.1);

  expect(first.equals(renderPicture(grid, lookup, 0.1))).toBe(true);
  expect(second.equals(renderPicture(single, lookup, 0.1))).toBe(true);
  expect(warnings).toHaveLength(1);
  expect(pool.threads).toBe(0);
});

test('close() ends the workers, and a closed pool refuses new renders', async () => {
  const { lookup, grid } = studio();
  pool = new RenderPool({ size: 2 });
  await Promise.all([pool.renderPicture(grid, lookup, 0.1), pool.renderPicture(grid, lookup, 0.2)]);
  const before = pool.threads;

  await pool.close();

  expect(before).toBe(2);
  expect(pool.threads).toBe(0);
  await expect(pool.renderPicture(grid, lookup, 0.1)).rejects.toThrow(/closed/);
});

test('two requests for a picture that is still rendering share one render in the pool', async () => {
  const clock = { now: 7_000_000 };
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: 'k', queueMs: 100, renderMs: 400, failureRate: 0, imageScale: 0.2 }),
    { now: () => clock.now, random: () => 0.5 },
  );
  const job = engine.submit('harbour at dusk', '4:3', 'standard', { kind: 'UPSCALE' });
  clock.now += 10_000;
  const app = createSimulatorApp(engine);
  pool = sharedRenderPool();
  const renders = vi.spyOn(pool, 'renderPicture');

  const [first, second] = await Promise.all([
    request(app).get(`/v1/images/${job.id}.png`),
    request(app).get(`/v1/images/${job.id}.png`),
  ]);

  expect([first.status, second.status]).toEqual([200, 200]);
  expect(Buffer.compare(first.body, second.body)).toBe(0);
  expect(renders).toHaveBeenCalledTimes(1);
});
