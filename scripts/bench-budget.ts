// npm run bench:budget: how well one 60-per-minute key is spent, our design against the
// tutorial's (every client poll forwarded upstream every 3 s), side by side in one run, at
// saturation and at light load, and how a pool of such keys scales; against the built-in
// simulator over real HTTP with time compressed. Prints; asserts nothing.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jobSchema } from '@shared/schemas/job';
import { SPEEDS } from '@shared/schemas/params-values';
import type { AccountSpec } from '../server/src/accounts/accounts-file';
import { createServer } from '../server/src/compose';
import { parseEnv } from '../server/src/env';
import { UpstreamError } from '../server/src/errors';
import { createLogger } from '../server/src/logger';
import { simulatorConfig } from '../server/src/simulator/config';
import { type RunningSimulator, startSimulator } from '../server/src/simulator/server';
import type { UpstreamAdapter } from '../server/src/upstream/adapter';
import { UpstreamHttpClient } from '../server/src/upstream/http-client';
import { createV7Adapter } from '../server/src/upstream/v7-adapter';
import { startCluster } from '../tests/support/instances';

/** Real milliseconds per simulated millisecond. */
const F = Number(process.env.BENCH_TIME_FACTOR ?? 0.2);
const SIM_MINUTES = Number(process.env.BENCH_MINUTES ?? 5);
const USERS = Number(process.env.BENCH_USERS ?? 16);
const IDLE_TABS = 10;
/** Light load: one submission about every 6 simulated seconds (±30%), a sixth of the key's budget. */
const LIGHT_GAP_MS = Number(process.env.BENCH_LIGHT_GAP_MS ?? 6_000);
/** The pool mode's sizes, each a 60-per-minute simulator account, with this many users each. */
const POOL_SIZES = (process.env.BENCH_POOL_ACCOUNTS ?? '1,2,4').split(',').map(Number);
const POOL_USERS_PER_ACCOUNT = Number(process.env.BENCH_POOL_USERS ?? 20);
/** The instances mode: one account of 60 a minute served by 1 process alone, then by this many sharing it. */
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 3);
const INSTANCES_USERS = Number(process.env.BENCH_INSTANCES_USERS ?? 20);
const PER_MINUTE = 60;
const QUEUE_MS = 4_000;
const RENDER_MS = 20_000;
const sim = (ms: number) => ms * F;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One account's share of a run: its calls in the measured window and its busiest minute. */
interface AccountResult {
  name: string;
  totalCalls: number;
  upstream429: number;
  /** The most calls that reached the simulator in any sliding minute (refused ones too). */
  busiestMinute: number;
}

interface ModeResult {
  mode: string;
  users: number;
  /** Calls per minute all the run's keys together allow. */
  limitPerMinute: number;
  completed: number;
  callsPerJob: number[];
  userVisible429: number;
  upstream429: number;
  noticeDelays: number[];
  totalCalls: number;
  accounts: AccountResult[];
}

const emptyResult = (mode: string, users: number, limitPerMinute = PER_MINUTE): ModeResult => ({
  mode,
  users,
  limitPerMinute,
  completed: 0,
  callsPerJob: [],
  userVisible429: 0,
  upstream429: 0,
  noticeDelays: [],
  totalCalls: 0,
  accounts: [],
});

/** A built-in simulator account of 60 requests a minute, as an accounts file would list it. */
const simulatorAccount = (index: number): AccountSpec => ({
  name: `sim-${index}`,
  kind: 'simulator',
  baseUrl: undefined,
  secret: undefined,
  perMinute: PER_MINUTE,
  maxRunning: 10_000,
  weight: 1,
  modes: [...SPEEDS],
  enabled: true,
  channel: undefined,
});

/** The most of these times that fall in one sliding window (at > t - windowMs, up to t), as the simulator counts. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  let from = 0;
  sorted.forEach((at, to) => {
    while ((sorted[from] ?? at) <= at - windowMs) from += 1;
    busiest = Math.max(busiest, to - from + 1);
  });
  return busiest;
}

/**
 * Wraps an adapter to count upstream calls per upstream job id (into `calls`, which a pool's
 * accounts share: job ids are the one simulator's).
 */
function counting(inner: UpstreamAdapter, windowEnd: () => number, calls = new Map<string, number>()) {
  // Calls made after the measured window (jobs still finishing) are not counted per minute.
  let total = 0;
  let refused = 0;
  const bump = (id: string) => calls.set(id, (calls.get(id) ?? 0) + 1);
  const adapter: UpstreamAdapter = {
    ...inner,
    async submit(input) {
      if (Date.now() <= windowEnd()) total += 1;
      try {
        const answer = await inner.submit(input);
        bump(answer.id);
        return answer;
      } catch (error) {
        if (error instanceof UpstreamError && error.kind === 'rate_limited') refused += 1;
        throw error;
      }
    },
    async getJob(id) {
      if (Date.now() <= windowEnd()) total += 1;
      bump(id);
      try {
        return await inner.getJob(id);
      } catch (error) {
        if (error instanceof UpstreamError && error.kind === 'rate_limited') refused += 1;
        throw error;
      }
    },
  };
  return { adapter, calls, stats: () => ({ total, refused }) };
}

/** The tutorial's design has no server of its own: its clients speak to the simulator directly. */
async function startUpstream(): Promise<{ simulator: RunningSimulator; http: UpstreamHttpClient; apiKey: string }> {
  const apiKey = randomBytes(12).toString('hex');
  const simulator = await startSimulator(
    simulatorConfig({
      apiKey,
      timeFactor: F,
      queueMs: QUEUE_MS,
      renderMs: RENDER_MS,
      failureRate: 0,
      imageScale: 0.25,
    }),
  );
  return { simulator, http: new UpstreamHttpClient({ timeoutMs: 15_000 }), apiKey };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

type Push = 'none' | 'v7-webhooks' | 'relay-hooks';

interface OursOptions {
  push: Push;
  /** Back-to-back users; with `load: 'light'`, ignored (each arrival is a user of its own). */
  users: number;
  /**
   * `relay`: the users are relay-protocol clients (a chat UI, a bot) on our /mj face,
   * submitting there and polling `fetch` every 2 s, instead of browsers on /api.
   */
  via?: 'browser' | 'relay';
  /** `light`: submissions arrive about every LIGHT_GAP_MS instead of back to back. */
  load?: 'saturated' | 'light';
  /** A pool of this many simulator accounts (config.accounts) instead of the environment's one key. */
  pool?: number;
  label?: string;
}

async function runOurs({
  push,
  users,
  via = 'browser',
  load = 'saturated',
  pool,
  label,
}: OursOptions): Promise<ModeResult> {
  let end = Number.POSITIVE_INFINITY;
  const calls = new Map<string, number>();
  const counters = new Map<string, ReturnType<typeof counting>>();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mj-bench-budget-'));
  // The production composition, on the simulator: keys of 60 calls a minute, time compressed.
  const composed = await createServer(
    {
      ...parseEnv({
        DATA_DIR: dataDir,
        UPSTREAM: 'simulator',
        SIM_PROTOCOL: push === 'relay-hooks' ? 'mj-proxy' : 'v7',
        SIM_PUSH: push === 'none' ? 'off' : 'on',
        SIM_FAILURE_RATE: '0',
        SIM_RATE_LIMIT: '60',
        SESSION_SECRET: randomBytes(24).toString('hex'),
      }),
      SIM_TIME_FACTOR: F,
      BUDGET_PER_MINUTE: 60,
      BUDGET_WINDOW_MS: sim(60_000),
      MIN_CHECK_GAP_MS: sim(Number(process.env.BENCH_MIN_GAP_MS ?? 1_000)),
      MAX_CHECK_GAP_MS: sim(60_000),
      JOB_DEADLINE_MS: sim(10 * 60_000),
      IMAGE_MAX_BYTES: 5 * 1024 * 1024,
      // The simulated users are separate browsers, all on loopback here: no per-client limits.
      SUBMITS_PER_MINUTE_PER_CLIENT: 1_000,
      SUBMITS_PER_MINUTE_PER_ADDRESS: 100_000,
      NEW_OWNERS_PER_HOUR_PER_ADDRESS: 100_000,
      RUNNING_JOBS_PER_CLIENT: 1_000,
      ...(pool === undefined
        ? {}
        : { accounts: Array.from({ length: pool }, (_, index) => simulatorAccount(index + 1)) }),
    },
    {
      logger: createLogger({ level: 'silent' }),
      simulator: { queueMs: QUEUE_MS, renderMs: RENDER_MS, imageScale: 0.25 },
      // Like real senders, sometimes late (out of order) or twice.
      simulatorPush: { lateShare: 0.1, duplicateShare: 0.1, lateByMs: 3_000 },
      upstream: (configured, _http, account) => {
        const counter = counting(configured, () => end, calls);
        counters.set(account.name, counter);
        return counter.adapter;
      },
    },
  );
  const { store, simulator } = composed;
  if (!simulator || counters.size !== composed.accounts.size) {
    throw new Error('the benchmark needs the built-in simulator');
  }
  // Every call that reaches the simulator, by key, refused ones too: for each account's busiest minute.
  const reached = new Map<string, number[]>();
  const takeRateToken = simulator.engine.takeRateToken.bind(simulator.engine);
  simulator.engine.takeRateToken = (key) => {
    const times = reached.get(key) ?? [];
    times.push(Date.now());
    reached.set(key, times);
    return takeRateToken(key);
  };
  const server = await composed.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const labels: Record<Push, string> = {
    none: 'mj-studio, polling',
    'v7-webhooks': 'mj-studio, v7 signed webhooks',
    'relay-hooks': 'mj-studio, relay notifyHook',
  };
  const result = emptyResult(
    label ?? (via === 'relay' ? `${labels[push]}, clients on /mj` : labels[push]),
    load === 'light' ? 0 : users,
    PER_MINUTE * composed.accounts.size,
  );
  end = Date.now() + sim(SIM_MINUTES * 60_000);
  const cookieFor = async () => String((await fetch(`${base}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';

  const relayClient = async (n: number) => {
    const headers = { 'content-type': 'application/json' };
    while (Date.now() < end) {
      const submitted = await fetch(`${base}/mj/submit/imagine`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ prompt: `client ${n} job at ${Date.now()}`, state: `{"user":${n}}` }),
      });
      const answer = (await submitted.json()) as { code: number; result: string | null };
      if (answer.code !== 1 || !answer.result) {
        result.userVisible429 += 1;
        await sleep(sim(5_000));
        continue;
      }
      for (;;) {
        await sleep(sim(2_000));
        const task = (await (await fetch(`${base}/mj/task/${answer.result}/fetch`, { headers })).json()) as {
          status: string;
        };
        if (task.status === 'SUCCESS' || task.status === 'FAILURE') {
          const id = composed.jobs.jobIdOfTaskNumber(Number(answer.result)) ?? '';
          const upstreamId = store.get(id)?.upstreamId ?? '';
          const finished = simulator.engine.endOf(upstreamId);
          if (task.status === 'SUCCESS' && Date.now() <= end) {
            result.completed += 1;
            result.callsPerJob.push(calls.get(upstreamId) ?? 0);
            if (finished !== undefined) result.noticeDelays.push((Date.now() - finished) / F / 1000);
          }
          break;
        }
      }
    }
  };

  /** A browser's one job: submitted, then polled every second until it ends. False: refused (429). */
  const browserJob = async (n: number, headers: Record<string, string>): Promise<boolean> => {
    const submitted = await fetch(`${base}/api/imagine`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ prompt: `user ${n} job at ${Date.now()}`, quality: 'standard' }),
    });
    if (submitted.status === 429) {
      result.userVisible429 += 1;
      await sleep(sim(Number(submitted.headers.get('retry-after') ?? 5) * 1000));
      return false;
    }
    const { job_id: id } = jobSchema.parse(await submitted.json());
    for (;;) {
      await sleep(sim(1_000));
      const response = await fetch(`${base}/api/jobs/${id}`, { headers });
      if (response.status === 429) {
        result.userVisible429 += 1;
        continue;
      }
      const job = jobSchema.parse(await response.json());
      if (job.status === 'complete' || job.status === 'failed' || job.status === 'cancelled') {
        const record = store.get(id);
        const upstreamId = record?.upstreamId ?? '';
        const finished = simulator.engine.endOf(upstreamId);
        if (job.status === 'complete' && Date.now() <= end) {
          result.completed += 1;
          result.callsPerJob.push(calls.get(upstreamId) ?? 0);
          if (finished !== undefined) result.noticeDelays.push((Date.now() - finished) / F / 1000);
        }
        return true;
      }
    }
  };
  const browserHeaders = async () => ({ cookie: await cookieFor(), 'content-type': 'application/json' });

  const user = async (n: number) => {
    if (via === 'relay') return relayClient(n);
    const headers = await browserHeaders();
    while (Date.now() < end) await browserJob(n, headers);
  };
  /** Light load: a browser of its own for every arrival, which leaves once its job has ended. */
  const lightLoad = async () => {
    const visitors: Promise<void>[] = [];
    while (Date.now() < end) {
      const n = visitors.length;
      visitors.push(
        (async () => {
          const headers = await browserHeaders();
          // A refused submission (429) is tried again after its Retry-After, as a person would.
          for (let ended = false; !ended && Date.now() < end; ) ended = await browserJob(n, headers);
        })(),
      );
      await sleep(sim(LIGHT_GAP_MS * (0.7 + 0.6 * Math.random())));
    }
    result.users = visitors.length;
    await Promise.all(visitors);
  };
  const idleTab = async () => {
    const cookie = await cookieFor();
    while (Date.now() < end) {
      await fetch(`${base}/api/jobs?limit=24`, { headers: { cookie } }).then((r) => r.arrayBuffer());
      await fetch(`${base}/api/budget`, { headers: { cookie } }).then((r) => r.arrayBuffer());
      await sleep(sim(2_000));
    }
  };
  await Promise.all([
    ...(load === 'light' ? [lightLoad()] : Array.from({ length: users }, (_, n) => user(n))),
    ...Array.from({ length: IDLE_TABS }, idleTab),
  ]);
  for (const [name, counter] of counters) {
    const { total, refused } = counter.stats();
    const key = composed.simulatorKeys.get(name) ?? '';
    result.accounts.push({
      name,
      totalCalls: total,
      upstream429: refused,
      busiestMinute: busiestWindow(reached.get(key) ?? [], sim(60_000)),
    });
    result.totalCalls += total;
    result.upstream429 += refused;
  }
  server.closeAllConnections();
  server.close();
  await composed.close();
  rmSync(dataDir, { recursive: true, force: true });
  return result;
}

/**
 * One account served by real server processes (the compiled `npm start`) behind a round-robin
 * proxy: one instance as it runs by default (SQLite, budget in memory), or `instances` sharing
 * PostgreSQL and Redis. The simulator runs in this process and counts every call it receives.
 */
async function runInstances(instances: number): Promise<ModeResult & { instances: number; busiest: number }> {
  const shared = instances > 1;
  const cluster = await startCluster({
    instances,
    shared,
    simulator: { timeFactor: F, queueMs: QUEUE_MS, renderMs: RENDER_MS, rateLimit: PER_MINUTE },
    env: {
      BUDGET_PER_MINUTE: String(PER_MINUTE),
      BUDGET_WINDOW_MS: String(sim(60_000)),
      MIN_CHECK_GAP_MS: String(sim(1_000)),
      MAX_CHECK_GAP_MS: String(sim(60_000)),
      EXPECTED_JOB_MS: String(sim(QUEUE_MS + RENDER_MS)),
      JOB_DEADLINE_MS: String(sim(10 * 60_000)),
    },
  });
  const label = shared ? `${instances} instances, PostgreSQL + Redis` : '1 instance, SQLite + memory (default)';
  const result = { ...emptyResult(label, INSTANCES_USERS), instances, busiest: 0 };
  try {
    const { url } = cluster;
    const end = Date.now() + sim(SIM_MINUTES * 60_000);
    const measuredFrom = cluster.calls.length;
    const user = async (n: number) => {
      const cookie = String((await fetch(`${url}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';
      const headers = { cookie, 'content-type': 'application/json' };
      while (Date.now() < end) {
        const submitted = await fetch(`${url}/api/imagine`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ prompt: `user ${n} job at ${Date.now()} ${randomBytes(3).toString('hex')}` }),
        });
        if (submitted.status === 429) {
          result.userVisible429 += 1;
          await sleep(sim(Number(submitted.headers.get('retry-after') ?? 5) * 1000));
          continue;
        }
        const { job_id: id } = jobSchema.parse(await submitted.json());
        for (;;) {
          await sleep(sim(1_000));
          const response = await fetch(`${url}/api/jobs/${id}`, { headers });
          if (response.status === 429) {
            result.userVisible429 += 1;
            continue;
          }
          const job = jobSchema.parse(await response.json());
          if (job.status === 'complete' || job.status === 'failed' || job.status === 'cancelled') {
            if (job.status === 'complete' && Date.now() <= end) result.completed += 1;
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: INSTANCES_USERS }, (_, n) => user(n)));
    const calls = cluster.calls.slice(measuredFrom).filter((at) => at <= end);
    result.totalCalls = calls.length;
    result.callsPerJob = [calls.length / Math.max(1, result.completed)];
    result.busiest = busiestWindow(cluster.calls, sim(60_000));
    result.upstream429 = cluster.refused();
  } finally {
    await cluster.close();
  }
  return result;
}

/** The tutorial's design: a thin proxy, every client poll (every 3 s) forwarded upstream. */
async function runTutorial(): Promise<ModeResult> {
  const { simulator, http, apiKey } = await startUpstream();
  const end = Date.now() + sim(SIM_MINUTES * 60_000);
  const upstream = counting(
    createV7Adapter({ baseUrl: simulator.baseUrl, apiKey, http, name: 'simulator' }),
    () => end,
  );
  const result = emptyResult('tutorial (3 s proxy polling)', USERS);
  const retryWait = (error: unknown) =>
    sim((error instanceof UpstreamError && error.retryAfterS ? error.retryAfterS : 5) * 1000);

  const user = async (n: number) => {
    while (Date.now() < end) {
      let id: string;
      try {
        id = (
          await upstream.adapter.submit({
            text: `user ${n} job at ${Date.now()}`,
            params: {},
            imageUrls: [],
            images: [],
          })
        ).id;
      } catch (error) {
        result.userVisible429 += 1;
        await sleep(retryWait(error));
        continue;
      }
      for (;;) {
        await sleep(sim(3_000));
        let status: string;
        try {
          status = (await upstream.adapter.getJob(id)).status;
        } catch {
          // The tutorial's hook treats a failed poll as a failed job; we let it go on polling.
          result.userVisible429 += 1;
          continue;
        }
        if (status === 'complete' || status === 'failed' || status === 'cancelled') {
          const finished = simulator.engine.endOf(id);
          if (status === 'complete' && Date.now() <= end) {
            result.completed += 1;
            result.callsPerJob.push(upstream.calls.get(id) ?? 0);
            if (finished !== undefined) result.noticeDelays.push((Date.now() - finished) / F / 1000);
          }
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: USERS }, (_, n) => user(n)));
  const { total, refused } = upstream.stats();
  result.totalCalls = total;
  result.upstream429 = refused;
  await simulator.close();
  return result;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const meanOf = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

console.log(
  `\nmj-studio bench:budget — one key, ${PER_MINUTE} upstream requests per minute; ${USERS} users submitting back to back and polling every second, ${IDLE_TABS} idle tabs;`,
);
console.log(
  `light load: one submission every ${LIGHT_GAP_MS / 1000} s ±30%, each by its own browser; pool: ${POOL_SIZES.join(', ')} accounts of ${PER_MINUTE} a minute, ${POOL_USERS_PER_ACCOUNT} users each;`,
);
console.log(
  `simulated jobs take ${(QUEUE_MS + RENDER_MS) / 1000} s ±30% (no failures); ${SIM_MINUTES} simulated minutes per mode at ${F}x real time.\n`,
);
// Webhooks lift the ceiling: twice the users, so that demand exceeds what polling allows.
const modes = (process.env.BENCH_MODES ?? 'polling,light,tutorial,webhooks,relay,relay-clients,pool,instances').split(
  ',',
);
const results: ModeResult[] = [];
if (modes.includes('polling')) results.push(await runOurs({ push: 'none', users: USERS }));
if (modes.includes('light')) {
  const label = `mj-studio, polling, light load (~${fmt(60_000 / LIGHT_GAP_MS, 0)} jobs/min arriving)`;
  results.push(await runOurs({ push: 'none', users: 0, load: 'light', label }));
}
if (modes.includes('tutorial')) results.push(await runTutorial());
if (modes.includes('webhooks')) results.push(await runOurs({ push: 'v7-webhooks', users: USERS * 2 }));
if (modes.includes('relay')) results.push(await runOurs({ push: 'relay-hooks', users: USERS * 2 }));
// The same load through the relay protocol: clients polling /mj's fetch every 2 s.
if (modes.includes('relay-clients')) {
  results.push(await runOurs({ push: 'relay-hooks', users: USERS * 2, via: 'relay' }));
}
// Saturated pools of simulator accounts, polled (the simulator signs webhooks for one account only).
const pools: ModeResult[] = [];
if (modes.includes('pool')) {
  for (const size of POOL_SIZES) {
    const label = `pool of ${size}`;
    pools.push(await runOurs({ push: 'none', users: POOL_USERS_PER_ACCOUNT * size, pool: size, label }));
  }
}
// One account served by one process, then by several sharing PostgreSQL and Redis.
const clusters: Awaited<ReturnType<typeof runInstances>>[] = [];
if (modes.includes('instances')) {
  const built = spawnSync('npm', ['run', 'build:server', '--silent'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the server build failed');
  clusters.push(await runInstances(1));
  clusters.push(await runInstances(INSTANCES));
}

if (results.length > 0) {
  console.log(
    '| mode | users | upstream calls/min | unused calls/min | jobs/min | upstream calls/job (mean) | (p95) | user-visible 429s | upstream 429s | notice delay p50 s | p95 s |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
  for (const r of results) {
    const perMinute = r.totalCalls / SIM_MINUTES;
    console.log(
      `| ${r.mode} | ${r.users} | ${fmt(perMinute)} | ${fmt(r.limitPerMinute - perMinute)} | ${fmt(r.completed / SIM_MINUTES)} | ${fmt(meanOf(r.callsPerJob), 2)} | ${fmt(percentile(r.callsPerJob, 95), 0)} | ${r.userVisible429} | ${r.upstream429} | ${fmt(percentile(r.noticeDelays, 50))} | ${fmt(percentile(r.noticeDelays, 95))} |`,
    );
  }
  console.log(
    '\nTargets for one 60-per-minute key: >= 25 jobs/min, 0 user-visible 429s, <= 2.5 calls/job, p95 notice delay <= 2 s;',
  );
  console.log(
    'at light load, p95 notice delay <= 3 s, while saturated polling stays at about 30 jobs/min and 2.0 calls/job;',
  );
  console.log(
    'with v7 signed webhooks, >= 50 jobs/min. (A relay hook is unsigned, only a hint: each job still costs a fetch.)',
  );
}

if (pools.length > 0) {
  const single = pools.find((r) => r.accounts.length === 1);
  const perAccount = (r: ModeResult, value: (account: AccountResult) => number) =>
    r.accounts.map((account) => `${account.name} ${value(account)}`).join(', ');
  console.log(
    `\n| accounts | users | jobs/min | jobs/min per account | ratio to 1 account (target >= 0.95 x N) | upstream calls/job (mean) | user-visible 429s | upstream 429s per account | busiest sliding minute per account (limit ${PER_MINUTE}) |`,
  );
  console.log('| --: | --: | --: | --: | --: | --: | --: | --- | --- |');
  for (const r of pools) {
    const size = r.accounts.length;
    const jobsPerMinute = r.completed / SIM_MINUTES;
    const ratio = single && single.completed > 0 ? r.completed / single.completed : Number.NaN;
    console.log(
      `| ${size} | ${r.users} | ${fmt(jobsPerMinute)} | ${fmt(jobsPerMinute / size)} | ${fmt(ratio, 2)} (>= ${fmt(0.95 * size, 2)}) | ${fmt(meanOf(r.callsPerJob), 2)} | ${r.userVisible429} | ${perAccount(r, (a) => a.upstream429)} | ${perAccount(r, (a) => a.busiestMinute)} |`,
    );
  }
  const busiest = Math.max(...pools.flatMap((r) => r.accounts.map((account) => account.busiestMinute)));
  console.log(
    `\nBusiest sliding minute at the simulator, any account, any pool: ${busiest} calls (limit ${PER_MINUTE}${busiest > PER_MINUTE ? ': EXCEEDED' : ''}).`,
  );
}

if (clusters.length > 0) {
  const [alone] = clusters;
  console.log(
    `\n| one account of ${PER_MINUTE}/min served by | users | jobs/min | ratio to 1 instance (target >= 0.95) | upstream calls/job | user-visible 429s | upstream 429s | busiest sliding minute at the simulator (limit ${PER_MINUTE}) |`,
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: |');
  for (const r of clusters) {
    const ratio = alone && alone.completed > 0 ? r.completed / alone.completed : Number.NaN;
    console.log(
      `| ${r.mode} | ${r.users} | ${fmt(r.completed / SIM_MINUTES)} | ${fmt(ratio, 2)} | ${fmt(meanOf(r.callsPerJob), 2)} | ${r.userVisible429} | ${r.upstream429} | ${r.busiest}${r.busiest > PER_MINUTE ? ' EXCEEDED' : ''} |`,
    );
  }
}
