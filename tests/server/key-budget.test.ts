import { afterEach, expect, test, vi } from 'vitest';
import { KeyBudget } from '../../server/src/budget/key-budget';
import { busiestWindow } from '../support/windows';

afterEach(() => vi.useRealTimers());

async function drainGreedily(budget: KeyBudget, durationMs: number): Promise<number[]> {
  const taken: number[] = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const result = await budget.tryTake();
    if (result.ok) taken.push(Date.now());
    else await vi.advanceTimersByTimeAsync(result.waitMs);
  }
  return taken;
}

test.each([
  [60, 1],
  [60, 2],
  [60, 3],
  [60, 5],
  [30, 2],
  [7, 2],
])('a greedy caller never gets more than %i calls into any sliding minute (burst %i)', async (limit, burst) => {
  vi.useFakeTimers({ now: 0 });
  const budget = new KeyBudget({ limit, windowMs: 60_000, burst });

  const taken = await drainGreedily(budget, 10 * 60_000);

  expect(busiestWindow(taken, 60_000)).toBeLessThanOrEqual(limit);
  // ...and nearly the whole limit is used: never more than the burst is held back.
  expect(taken.length / 10).toBeGreaterThanOrEqual(limit - 2 * burst);
});

test('callers that wake at the worst moments still stay within the limit', async () => {
  vi.useFakeTimers({ now: 0 });
  const budget = new KeyBudget({ limit: 60, windowMs: 60_000, burst: 2 });
  const taken: number[] = [];

  for (let i = 0; i < 2_000; i++) {
    // Irregular gaps, some long enough to let the short windows expire unused.
    await vi.advanceTimersByTimeAsync(((i * 7919) % 3_001) + (i % 17 === 0 ? 20_000 : 0));
    for (let burst = 0; burst < 4; burst++) if ((await budget.tryTake()).ok) taken.push(Date.now());
  }

  expect(taken.length).toBeGreaterThan(500);
  expect(busiestWindow(taken, 60_000)).toBeLessThanOrEqual(60);
});

test('a pause after an upstream 429 blocks every call until it has passed', async () => {
  vi.useFakeTimers({ now: 0 });
  const budget = new KeyBudget({ limit: 60, windowMs: 60_000, burst: 2 });

  budget.pause(20_000);
  const during = await budget.tryTake();
  await vi.advanceTimersByTimeAsync(20_000);
  const after = await budget.tryTake();

  expect(during).toEqual({ ok: false, waitMs: 20_000 });
  expect(after).toEqual({ ok: true });
});

test('the budget reports the calls taken in the last window', async () => {
  vi.useFakeTimers({ now: 0 });
  const budget = new KeyBudget({ limit: 60, windowMs: 60_000, burst: 2 });

  await budget.tryTake();
  await budget.tryTake();
  await vi.advanceTimersByTimeAsync(59_000);
  const before = budget.usedInWindow();
  await vi.advanceTimersByTimeAsync(1_001);

  expect(before).toBe(2);
  expect(budget.usedInWindow()).toBe(0);
});
