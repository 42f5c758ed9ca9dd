// The scheduler with several accounts, on a fake clock: each account an in-memory upstream
// (tests/support/fake-upstream.ts) whose calls are recorded with their times.
import { imagineRequestSchema } from '@shared/schemas/imagine';
import { afterEach, expect, test, vi } from 'vitest';
import type { AccountSpec } from '../../server/src/accounts/accounts-file';
import { UpstreamError } from '../../server/src/errors';
import { fakeUpstream } from '../support/fake-upstream';
import { busiestWindow } from '../support/windows';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();
afterEach(() => vi.useRealTimers());

const account = (name: string, extra: Partial<AccountSpec> = {}): AccountSpec => ({
  name,
  kind: 'v7',
  baseUrl: `https://${name}.test/v1`,
  secret: `secret-of-${name}-0123456789`,
  perMinute: 60,
  maxRunning: 10,
  weight: 1,
  modes: ['fast', 'relax', 'turbo'],
  enabled: true,
  channel: undefined,
  ...extra,
});

async function setUp(
  specs: AccountSpec[],
  options: { durationMs?: number; queueMax?: number; durationOf?: (n: number) => number; deadlineMs?: number } = {},
) {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const fakes = new Map(
    specs.map((spec) => [
      spec.name,
      fakeUpstream(options.durationOf ?? (() => options.durationMs ?? 20_000), spec.name),
    ]),
  );
  const app = await buildTestApp({
    accounts: specs,
    upstream: (_configured, _http, spec) => {
      const fake = fakes.get(spec.name);
      if (!fake) throw new Error(`no fake for ${spec.name}`);
      return fake.adapter;
    },
    queueMax: options.queueMax ?? 50,
    expectedDurationMs: options.durationMs ?? 20_000,
    deadlineMs: options.deadlineMs ?? 60 * 60_000,
    images: Object.assign(Object.create(null), {
      dir: '',
      save: async (id: string, _bytes: Uint8Array, ext: string) => `${id}.${ext}`,
      pathOf: (name: string) => name,
      remove: async () => undefined,
    }),
  });
  const submit = (prompt = 'a fox', owner = 'owner') =>
    app.scheduler.admit(app.jobs.record(owner, imagineRequestSchema.parse({ prompt })));
  const fake = (name: string) => {
    const found = fakes.get(name);
    if (!found) throw new Error(`no fake for ${name}`);
    return found;
  };
  const stateOf = (name: string) => app.scheduler.accounts().find((entry) => entry.name === name);
  return { ...app, submit, fake, stateOf };
}

test('a new job goes to the account with the most room; with equal room, the heavier account takes it', async () => {
  const { submit, fake } = await setUp([account('light'), account('heavy', { weight: 3 })]);

  const first = await submit('one');
  const second = await submit('two');

  expect(first.account).toBe('heavy');
  expect(second.account).toBe('light');
  expect(fake('heavy').calls.map((call) => call.kind)).toEqual(['submit']);
  expect(fake('light').calls.map((call) => call.kind)).toEqual(['submit']);
});

test('an account runs no more jobs at once than its max_running; the rest wait for room and then go', async () => {
  const { submit, fake, store } = await setUp([account('small', { maxRunning: 2 })]);

  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await submit(`job ${i}`));
  await vi.advanceTimersByTimeAsync(5_000);
  const runningEarly = store.listActive().filter((job) => job.status !== 'queued').length;
  await vi.advanceTimersByTimeAsync(5 * 60_000);

  expect(answers.map((job) => job.status)).toEqual(['pending', 'pending', 'queued', 'queued', 'queued']);
  expect(runningEarly).toBe(2);
  expect(fake('small').calls.filter((call) => call.kind === 'submit')).toHaveLength(5);
  expect(store.listActive()).toEqual([]);
});

test('every action on a grid goes to the account that made the grid', async () => {
  const { submit, fake, jobs, scheduler } = await setUp([account('a'), account('b')]);
  const grids = [];
  for (let i = 0; i < 4; i++) grids.push(await submit(`grid ${i}`));
  await vi.advanceTimersByTimeAsync(2 * 60_000);

  for (const grid of grids) {
    const plan = jobs.planAction('owner', grid.id, { action: 'upscale', index: 2 });
    await scheduler.admit(await jobs.recordAction('owner', plan, { action: 'upscale', index: 2 }, undefined));
  }
  await vi.advanceTimersByTimeAsync(2 * 60_000);

  expect(new Set(grids.map((grid) => grid.account))).toEqual(new Set(['a', 'b']));
  for (const grid of grids) {
    const maker = grid.account ?? '';
    const other = maker === 'a' ? 'b' : 'a';
    const upstreamId = jobs.find(grid.id)?.upstreamId;
    expect(fake(maker).calls.filter((call) => call.kind === 'act' && call.gridId === upstreamId)).toHaveLength(1);
    expect(fake(other).calls.some((call) => call.gridId === upstreamId)).toBe(false);
  }
});

test("one account's 429 pauses that account only: the other keeps sending, and the queue moves to it", async () => {
  const { submit, fake, store, stateOf } = await setUp([
    account('a', { perMinute: 10 }),
    account('b', { perMinute: 10 }),
  ]);
  fake('a').refusals.push({ retryAfterS: 120 });

  for (let i = 0; i < 16; i++) await submit(`job ${i}`);
  await vi.advanceTimersByTimeAsync(30_000);
  const pausedState = stateOf('a');
  const refusedAt = fake('a').calls[0]?.at ?? 0;
  await vi.advanceTimersByTimeAsync(10 * 60_000);

  expect(pausedState?.state).toBe('paused');
  const aCalls = fake('a').calls;
  expect(aCalls.slice(1).every((call) => call.at >= refusedAt + 120_000)).toBe(true);
  // b sent what a could not: more than half of the jobs, and every job ended.
  const bSubmits = fake('b').calls.filter((call) => call.kind === 'submit').length;
  expect(bSubmits).toBeGreaterThan(8);
  expect(store.listActive()).toEqual([]);
  expect(
    store
      .listByOwner('owner', { limit: 50, cursor: undefined, filter: {} })
      .jobs.every((job) => job.status === 'complete'),
  ).toBe(true);
  for (const name of ['a', 'b']) {
    expect(
      busiestWindow(
        fake(name).calls.map((call) => call.at),
        60_000,
      ),
    ).toBeLessThanOrEqual(10);
  }
});

test('an account whose key is refused leaves rotation with the reason shown; its running jobs are followed, new and queued ones go elsewhere, and a probe brings it back', async () => {
  const { submit, fake, store, stateOf, agent } = await setUp([account('a'), account('b')], { durationMs: 30_000 });
  const before = [await submit('one'), await submit('two')];
  expect(new Set(before.map((job) => job.account))).toEqual(new Set(['a', 'b']));

  fake('a').fault.current = new UpstreamError('auth', 'The upstream rejected the key');
  await vi.advanceTimersByTimeAsync(40_000);
  const down = stateOf('a');
  const shown = (await agent.get('/api/accounts')).body;
  const later = [];
  for (let i = 0; i < 4; i++) later.push(await submit(`later ${i}`));
  const stillRunningOnA = store.get(before.find((job) => job.account === 'a')?.id ?? '');
  fake('a').fault.current = undefined;
  await vi.advanceTimersByTimeAsync(5 * 60_000);

  expect(down).toMatchObject({ state: 'down', reason: expect.stringContaining('credentials refused') });
  expect(shown.accounts.find((entry: { name: string }) => entry.name === 'a')).toMatchObject({ state: 'down' });
  expect(JSON.stringify(shown)).not.toContain('secret-of-');
  expect(JSON.stringify(shown)).not.toContain('a.test');
  expect(later.every((job) => job.account === 'b' || job.status === 'queued')).toBe(true);
  // Still followed while its account was down: neither failed nor given up.
  expect(['pending', 'processing']).toContain(stillRunningOnA?.status);
  expect(stateOf('a')?.state).toBe('ready');
  expect(store.listActive()).toEqual([]);
  const ended = store.listByOwner('owner', { limit: 50, cursor: undefined, filter: {} }).jobs;
  expect(ended).toHaveLength(6);
  expect(ended.every((job) => job.status === 'complete')).toBe(true);
});

test('a submission refused for its account goes to another account instead of failing', async () => {
  const { submit, fake, stateOf } = await setUp([account('a', { weight: 2 }), account('b')]);
  fake('a').fault.current = new UpstreamError('account', 'The account needs attention: a CAPTCHA is waiting');

  const job = await submit('captcha day');
  await vi.advanceTimersByTimeAsync(10_000);

  // One submission, then only probes (status checks of a job nobody has).
  expect(fake('a').calls.filter((call) => call.kind === 'submit')).toHaveLength(1);
  expect(stateOf('a')).toMatchObject({ state: 'down', reason: expect.stringContaining('CAPTCHA') });
  expect(job.status).toBe('queued');
  expect(fake('b').calls.filter((call) => call.kind === 'submit')).toHaveLength(1);
});

test('an account that keeps timing out leaves rotation after three failures in a row', async () => {
  const { submit, fake, stateOf } = await setUp([account('slow'), account('fine')], { durationMs: 60_000 });
  for (let i = 0; i < 4; i++) await submit(`job ${i}`);
  fake('slow').fault.current = new UpstreamError('timeout', 'The upstream did not answer within 15000 ms');

  await vi.advanceTimersByTimeAsync(3 * 60_000);

  expect(stateOf('slow')).toMatchObject({ state: 'down', reason: expect.stringMatching(/^3 calls in a row failed/) });
  expect(stateOf('fine')?.state).toBe('ready');
});

test('a relax job goes only to an account offering relax, and with none offering it the submission is a 409', async () => {
  const { submit, jobs, scheduler } = await setUp([
    account('fast-only', { modes: ['fast'] }),
    account('relaxed', { modes: ['relax'] }),
  ]);

  const relaxed = await scheduler.admit(
    jobs.record('owner', imagineRequestSchema.parse({ prompt: 'slow fox --relax' })),
  );
  const turbo = await scheduler
    .admit(jobs.record('owner', imagineRequestSchema.parse({ prompt: 'fast fox --turbo' })))
    .catch((error: unknown) => error);
  const plain = await submit('plain fox');

  expect(relaxed.account).toBe('relaxed');
  expect(turbo).toMatchObject({ kind: 'conflict', message: 'No account in use offers turbo mode' });
  expect(plain.account).toBe('fast-only');
});

test('under saturation two equal accounts share the queue evenly, neither running more jobs than its budget can follow', async () => {
  const { submit, fake, store } = await setUp([account('a', { perMinute: 12 }), account('b', { perMinute: 12 })], {
    durationMs: 30_000,
    durationOf: (n) => 15_000 + ((n * 7919) % 30_000),
    queueMax: 100,
  });

  let widest = 0;
  for (let step = 0; step < 90; step++) {
    // Users come back as their jobs end: a few new submissions every 10 s.
    if (step < 40) for (let i = 0; i < 2; i++) await submit(`job ${step}-${i}`);
    await vi.advanceTimersByTimeAsync(10_000);
    const running = new Map<string, number>();
    for (const job of store.listActive()) {
      if (job.account) running.set(job.account, (running.get(job.account) ?? 0) + 1);
    }
    widest = Math.max(widest, Math.abs((running.get('a') ?? 0) - (running.get('b') ?? 0)));
  }

  const [toA, toB] = ['a', 'b'].map((name) => fake(name).calls.filter((call) => call.kind === 'submit').length);
  expect(store.listActive()).toEqual([]);
  expect((toA ?? 0) + (toB ?? 0)).toBe(80);
  expect(Math.abs((toA ?? 0) - (toB ?? 0))).toBeLessThanOrEqual(8);
  expect(widest).toBeLessThanOrEqual(3);
});

test('while one account waits out a 429, the other takes every queued job at once', async () => {
  const { submit, fake, store } = await setUp([account('a'), account('b')], { durationMs: 20_000 });
  fake('a').fault.current = new UpstreamError('rate_limited', 'slow down', { retryAfterS: 300 });

  for (let i = 0; i < 30; i++) await submit(`job ${i}`);
  await vi.advanceTimersByTimeAsync(2 * 60_000);

  expect(fake('a').calls.filter((call) => call.kind === 'submit')).toHaveLength(1);
  expect(fake('b').calls.filter((call) => call.kind === 'submit')).toHaveLength(30);
  expect(store.listActive()).toEqual([]);
});

test("a busy account (its queue of jobs full) takes no new job for a while, but its running jobs' checks go on", async () => {
  const { submit, fake, store } = await setUp([account('a', { weight: 2 }), account('b')], { durationMs: 20_000 });
  const first = await submit('first');
  fake('a').fault.submissions = new UpstreamError('busy', "The relay's queue is full", { retryAfterS: 120 });

  const later = [];
  for (let i = 0; i < 6; i++) later.push(await submit(`later ${i}`));
  await vi.advanceTimersByTimeAsync(60_000);

  expect(first.account).toBe('a');
  expect(store.get(first.id)?.status).toBe('complete');
  expect(fake('a').calls.filter((call) => call.kind === 'submit')).toHaveLength(2);
  expect(fake('a').calls.some((call) => call.kind === 'status')).toBe(true);
  expect(later.every((job) => store.get(job.id)?.status === 'complete')).toBe(true);
  expect(later.every((job) => store.get(job.id)?.account === 'b')).toBe(true);
});

test('an action whose account is down is refused at once, naming why; one queued while it was only paused fails at its deadline', async () => {
  const { submit, fake, jobs, scheduler, store } = await setUp([account('a'), account('b')], {
    durationMs: 10_000,
    deadlineMs: 5 * 60_000,
  });
  const grids = [await submit('one'), await submit('two')];
  await vi.advanceTimersByTimeAsync(30_000);
  const onA = grids.find((grid) => grid.account === 'a');
  const upscale = async () => {
    const plan = jobs.planAction('owner', onA?.id ?? '', { action: 'upscale', index: 1 });
    return scheduler.admit(await jobs.recordAction('owner', plan, { action: 'upscale', index: 1 }, undefined));
  };

  // Paused by a long 429: the action waits for it, then the account's key is refused too.
  fake('a').refusals.push({ retryAfterS: 600 });
  const first = await upscale().catch((error: unknown) => error);
  const queued = await upscale();
  fake('a').fault.current = new UpstreamError('auth', 'The upstream rejected the key');
  await vi.advanceTimersByTimeAsync(11 * 60_000);
  const meetsTheKey = await upscale().catch((error: unknown) => error);
  const whileDown = await upscale().catch((error: unknown) => error);

  expect(first).toMatchObject({ kind: 'rate_limited' });
  expect(meetsTheKey).toMatchObject({ kind: 'auth' });
  expect(store.get(queued.id)).toMatchObject({
    status: 'failed',
    error: expect.stringContaining('before its deadline'),
  });
  expect(whileDown).toMatchObject({ kind: 'account', message: expect.stringContaining('a: credentials refused') });
  expect(fake('b').calls.some((call) => call.kind === 'act')).toBe(false);
});

test('a job sent with the single-account settings records no account name, so a pool made later inherits it', async () => {
  const { agent, store } = await buildTestApp();

  const id = await submitJob(agent);

  expect(store.get(id)?.account).toBeNull();
});
