import { expect, test } from 'vitest';
import { simulatorConfig } from '../../server/src/simulator/config';
import { SimulatorEngine } from '../../server/src/simulator/engine';

function engineAt(overrides: Parameters<typeof simulatorConfig>[0] extends infer T ? Partial<T> : never = {}) {
  const clock = { now: 1_000_000 };
  // random() = 0.5 means no jitter, and with failureRate 0 no failures.
  const engine = new SimulatorEngine(
    simulatorConfig({ apiKey: 'k', queueMs: 1_000, renderMs: 10_000, failureRate: 0, ...overrides }),
    { now: () => clock.now, random: () => 0.5 },
  );
  return { engine, clock };
}

test('a job goes pending, then processing with rising progress, then complete', () => {
  const { engine, clock } = engineAt();
  const job = engine.submit('a fox', '1:1', 'standard');
  const seen: [string, number][] = [];

  for (let t = 0; t <= 12_000; t += 1_500) {
    clock.now = 1_000_000 + t;
    const view = engine.get(job.id);
    if (view) seen.push([view.status, view.progress]);
  }

  expect(seen[0]).toEqual(['pending', 0]);
  expect(seen.at(-1)).toEqual(['complete', 100]);
  const processing = seen.filter(([status]) => status === 'processing').map(([, progress]) => progress);
  expect(processing.length).toBeGreaterThanOrEqual(4);
  expect(processing).toEqual([...processing].sort((a, b) => a - b));
  expect(new Set(processing).size).toBe(processing.length);
});

test('high quality renders take longer than standard ones', () => {
  const { engine, clock } = engineAt();
  const standard = engine.submit('a fox', '1:1', 'standard');
  const high = engine.submit('a fox', '1:1', 'high');

  clock.now += 11_500;

  expect(engine.get(standard.id)?.status).toBe('complete');
  expect(engine.get(high.id)?.status).toBe('processing');
});

test('the time factor scales every duration', () => {
  const { engine, clock } = engineAt({ timeFactor: 0.01 });
  const job = engine.submit('a fox', '16:9', 'standard');

  clock.now += 111;

  expect(engine.get(job.id)?.status).toBe('complete');
});

test('a job chosen to fail fails part-way with a reason', () => {
  const { engine, clock } = engineAt({ failureRate: 1 });
  const job = engine.submit('a fox', '1:1', 'standard');

  clock.now += 11_000;
  const view = engine.get(job.id);

  expect(view?.status).toBe('failed');
  expect(view?.error).toMatch(/\w+/);
  expect(view?.progress).toBeGreaterThan(0);
  expect(view?.progress).toBeLessThan(100);
});

test('a cancelled job stays cancelled at the progress it had', () => {
  const { engine, clock } = engineAt();
  const job = engine.submit('a fox', '1:1', 'standard');
  clock.now += 6_000;

  const cancelled = engine.cancel(job.id);
  clock.now += 60_000;

  expect(cancelled?.status).toBe('cancelled');
  expect(engine.get(job.id)).toMatchObject({ status: 'cancelled', progress: cancelled?.progress });
});

test('the rate limit allows the configured number of calls per sliding window, then says how long to wait', () => {
  const { engine, clock } = engineAt({ rateLimit: 3, rateWindowMs: 60_000 });

  const first = [engine.takeRateToken('k'), engine.takeRateToken('k')];
  clock.now += 30_000;
  const third = engine.takeRateToken('k');
  const fourth = engine.takeRateToken('k');
  clock.now += 29_999;
  const justBeforeTheWindowSlides = engine.takeRateToken('k');
  clock.now += 2;
  const afterTheFirstTwoExpired = [engine.takeRateToken('k'), engine.takeRateToken('k'), engine.takeRateToken('k')];

  expect(first).toEqual([{ ok: true }, { ok: true }]);
  expect(third).toEqual({ ok: true });
  expect(fourth).toEqual({ ok: false, retryAfterS: 30 });
  expect(justBeforeTheWindowSlides).toEqual({ ok: false, retryAfterS: 1 });
  expect(afterTheFirstTwoExpired).toEqual([{ ok: true }, { ok: true }, { ok: false, retryAfterS: 30 }]);
});

test('blocked words are matched as whole words, case-insensitively', () => {
  const { engine } = engineAt();

  expect(engine.blockedWordIn('A GORE scene')).toBe('gore');
  expect(engine.blockedWordIn('gorey details from Al Gore-ish')).toBe('gore');
  expect(engine.blockedWordIn('a gorgeous valley')).toBeUndefined();
});

test('the oldest jobs are forgotten beyond the configured maximum', () => {
  const { engine } = engineAt({ maxJobs: 2 });
  const [a, b, c] = [
    engine.submit('a', '1:1', 'standard'),
    engine.submit('b', '1:1', 'standard'),
    engine.submit('c', '1:1', 'standard'),
  ];

  expect(engine.get(a.id)).toBeUndefined();
  expect(engine.get(b.id)).toBeDefined();
  expect(engine.get(c.id)).toBeDefined();
});
