import { imagineRequestSchema } from '@shared/schemas/imagine';
// The scheduler with fake timers and an in-memory upstream whose jobs finish on the (fake)
// clock: every call it receives is recorded with its time.
import { afterEach, expect, test, vi } from 'vitest';
import { fakeUpstream } from '../support/fake-upstream';
import { busiestWindow } from '../support/windows';
import { buildTestApp, mockUpstreamForEachTest } from './helpers';

mockUpstreamForEachTest();
afterEach(() => vi.useRealTimers());

async function setUp(options: { limit?: number; queueMax?: number; durationMs?: (n: number) => number } = {}) {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const upstream = fakeUpstream(options.durationMs ?? (() => 30_000));
  const { store, jobs, scheduler, budget } = await buildTestApp({
    upstream: () => upstream.adapter,
    budgetPerMinute: options.limit ?? 60,
    queueMax: options.queueMax ?? 50,
    expectedDurationMs: 30_000,
    deadlineMs: 60 * 60_000,
    // Kept in memory: a file write is real I/O, which a fake clock cannot wait for.
    images: Object.assign(Object.create(null), {
      dir: '',
      save: async (id: string, _bytes: Uint8Array, ext: string) => `${id}.${ext}`,
      pathOf: (name: string) => name,
      remove: async () => undefined,
    }),
  });
  const submit = (prompt = 'a fox') => scheduler.admit(jobs.record('owner', imagineRequestSchema.parse({ prompt })));
  return { ...upstream, store, service: jobs, scheduler, budget, submit };
}

test('under heavy demand the upstream never sees more than the limit in any sliding minute', async () => {
  const { calls, submit, store } = await setUp({ durationMs: (n) => 20_000 + ((n * 7919) % 20_000) });

  for (let minute = 0; minute < 10; minute++) {
    for (let i = 0; i < 40; i++) await submit(`job ${minute}-${i}`).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(60_000);
  }
  await vi.advanceTimersByTimeAsync(30 * 60_000);

  const times = calls.map((call) => call.at);
  expect(calls.length).toBeGreaterThan(300);
  expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(60);
  expect(store.listActive()).toEqual([]);
});

test('queued submissions are sent before any status check', async () => {
  const { calls, submit } = await setUp({ durationMs: () => 5_000 });
  for (let i = 0; i < 4; i++) await submit(`early ${i}`);
  await vi.advanceTimersByTimeAsync(40_000);
  calls.length = 0;

  // Four running jobs are due for checks; six submissions arrive at once.
  for (let i = 0; i < 6; i++) await submit(`late ${i}`);
  await vi.advanceTimersByTimeAsync(30_000);

  const kinds = calls.map((call) => call.kind);
  const lastSubmit = kinds.lastIndexOf('submit');
  expect(kinds.filter((kind) => kind === 'submit')).toHaveLength(6);
  expect(kinds.slice(0, lastSubmit + 1).every((kind) => kind === 'submit')).toBe(true);
});

test('a submission that finds no budget is queued with its position, and a full queue answers 429', async () => {
  const { submit, scheduler } = await setUp({ queueMax: 3 });

  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await submit(`p${i}`));
  const overflow = await submit('one too many').catch((error: unknown) => error);

  expect(answers.map((job) => job.status)).toEqual(['pending', 'pending', 'queued', 'queued', 'queued']);
  expect(answers.slice(2).map((job) => scheduler.queuePosition(job.id))).toEqual([1, 2, 3]);
  expect(overflow).toMatchObject({ kind: 'queue_full' });
  expect((overflow as { retryAfterS: number }).retryAfterS).toBeGreaterThan(0);
});

test('an upstream 429 pauses the whole budget for its Retry-After', async () => {
  const { calls, submit, refusals } = await setUp({ durationMs: () => 10_000 });
  await submit('a');
  await submit('b');
  refusals.push({ retryAfterS: 20 });

  await vi.advanceTimersByTimeAsync(60_000);

  // The third call (the first status check) was refused; the one launched with it was
  // already in flight. Nothing else may reach the upstream for 20 s.
  const refusedAt = calls[2]?.at ?? 0;
  const next = calls.slice(3).find((call) => call.at > refusedAt);
  expect(calls.slice(0, 4).map((call) => call.kind)).toEqual(['submit', 'submit', 'status', 'status']);
  expect(next).toBeDefined();
  expect((next?.at ?? 0) - refusedAt).toBeGreaterThanOrEqual(20_000);
});

test('with budget to spare, a steady job is seen done within two seconds of its finish for a few checks, and never asked about after', async () => {
  const { calls, submit, store, finishOf } = await setUp({ durationMs: () => 30_000 });

  for (let i = 0; i < 10; i++) {
    await submit(`steady ${i}`);
    await vi.advanceTimersByTimeAsync(40_000);
  }
  await vi.advanceTimersByTimeAsync(10 * 60_000);

  const statusCalls = calls.filter((call) => call.kind === 'status');
  expect(store.listActive()).toEqual([]);
  expect(statusCalls.length / 10).toBeLessThanOrEqual(4);
  const lastCheck = new Map(statusCalls.map((call) => [call.id, call.at]));
  for (const [id, at] of lastCheck) {
    const job = finishOf(id);
    expect(at - ((job?.start ?? 0) + (job?.duration ?? 0))).toBeLessThan(2_000);
  }
  expect(Math.max(...lastCheck.values())).toBeLessThan(1_000_000 + 10 * 40_000);
});

test('when submissions wait for budget, no call goes to early checks: a steady job costs about two calls', async () => {
  const { calls, submit, store } = await setUp({ limit: 6, durationMs: () => 30_000 });

  for (let i = 0; i < 12; i++) await submit(`busy ${i}`);
  await vi.advanceTimersByTimeAsync(20 * 60_000);

  const statusCalls = calls.filter((call) => call.kind === 'status');
  expect(store.listActive()).toEqual([]);
  expect(calls.filter((call) => call.kind === 'submit')).toHaveLength(12);
  expect(statusCalls.length / 12).toBeLessThanOrEqual(2.5);
});

test('a check is planned from progress: a job seen half done is next asked about when it should be done', async () => {
  const { calls, submit, finishOf } = await setUp({ durationMs: () => 40_000 });

  await submit('slow');
  await vi.advanceTimersByTimeAsync(200_000);

  const checks = calls.filter((call) => call.kind === 'status');
  const job = finishOf('up_1');
  const finish = (job?.start ?? 0) + (job?.duration ?? 0);
  expect(checks.length).toBeLessThanOrEqual(3);
  expect((checks.at(-1)?.at ?? 0) - finish).toBeGreaterThanOrEqual(0);
  expect((checks.at(-1)?.at ?? 0) - finish).toBeLessThan(2_000);
});

test('a relay progress hint buys a look only while no submission waits; a final hint always does', async () => {
  // Two calls per minute: the budget runs dry at once.
  const { calls, submit, scheduler } = await setUp({ limit: 4, durationMs: () => 200_000 });
  const running = await submit('running');
  await vi.advanceTimersByTimeAsync(1_000);

  scheduler.nudge(running.id, 'progress');
  await vi.advanceTimersByTimeAsync(1_000);
  const withSpareBudget = calls.map((call) => call.kind);
  const second = await submit('waits for budget');
  const planned = scheduler.nextUpdateAt(running.id);
  scheduler.nudge(running.id, 'progress');
  const afterProgressHint = scheduler.nextUpdateAt(running.id);
  scheduler.nudge(running.id, 'finish');
  const afterFinalHint = scheduler.nextUpdateAt(running.id);
  await vi.advanceTimersByTimeAsync(60_000);

  expect(withSpareBudget).toEqual(['submit', 'status']);
  expect(second.status).toBe('queued');
  expect(planned).toBeGreaterThan(Date.now() - 60_000);
  // With a submission waiting, a progress hint leaves the planned look where it was.
  expect(afterProgressHint).toBe(planned);
  expect(afterFinalHint).toBe(Date.now() - 60_000);
  // When budget returns, the final hint's look goes before even the waiting submission.
  expect(calls.slice(2, 4).map((call) => [call.kind, call.id])).toEqual([
    ['status', 'up_1'],
    ['submit', 'up_2'],
  ]);
});
