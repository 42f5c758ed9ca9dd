// npm run bench: list and status latency with 10,000 jobs in the store, and the server's RSS.
// Seeds a temporary SQLite store, serves the real app on loopback, and measures over HTTP
// with keep-alive. Prints figures; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp } from '../server/src/app';
import { KeyBudget } from '../server/src/budget/key-budget';
import { JobService } from '../server/src/jobs/job-service';
import { UpstreamScheduler } from '../server/src/jobs/upstream-scheduler';
import { createLogger } from '../server/src/logger';
import { ImageFiles } from '../server/src/store/image-files';
import { SqliteJobStore } from '../server/src/store/sqlite-job-store';
import type { UpstreamAdapter } from '../server/src/upstream/adapter';

const JOBS = 10_000;
const OTHER_OWNERS_JOBS = 10_000;
const REQUESTS = 2_000;
const CONCURRENCY = 8;

const dataDir = mkdtempSync(path.join(tmpdir(), 'mj-bench-'));
const logger = createLogger({ level: 'silent' });
const store = new SqliteJobStore(path.join(dataDir, 'jobs.sqlite'));
const images = new ImageFiles(path.join(dataDir, 'images'));
const offline: UpstreamAdapter = {
  name: 'none',
  submit: () => Promise.reject(new Error('the benchmark makes no upstream calls')),
  getJob: () => Promise.reject(new Error('the benchmark makes no upstream calls')),
};
const jobs = new JobService({
  store,
  images,
  upstream: offline,
  fetcher: { fetch: () => Promise.reject(new Error('the benchmark downloads no images')) },
  logger,
  deadlineMs: 600_000,
});
const budget = new KeyBudget({ limit: 60, windowMs: 60_000, burst: 2 });
const scheduler = new UpstreamScheduler(jobs, store, budget, logger, {
  minGapMs: 1_000,
  maxGapMs: 60_000,
  expectedDurationMs: 30_000,
  queueMax: 50,
  finishMarginMs: 250,
});
const app = createApp({
  store,
  jobs,
  scheduler,
  budget,
  images,
  logger,
  cookieSecret: 'bench-secret-0123456789abcdef0123456789',
});
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// Become an owner, then give that owner 10,000 jobs (and other owners as many again).
const first = await fetch(`${base}/api/jobs`);
const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
const owner = /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(cookie.split('=')[1] ?? ''))?.[1] ?? '';
const seedStart = performance.now();
const ids: string[] = [];
const now = Date.now();
for (let i = 0; i < JOBS + OTHER_OWNERS_JOBS; i++) {
  const mine = i % 2 === 0 && ids.length < JOBS;
  const id = `job${String(i).padStart(8, '0')}`;
  store.insert({
    id,
    ownerId: mine ? owner : `other-${i % 50}`,
    prompt: `benchmark prompt number ${i}, a lighthouse at dusk`,
    aspectRatio: '16:9',
    quality: 'standard',
    createdAt: now - (JOBS + OTHER_OWNERS_JOBS - i) * 1000,
  });
  const done = i % 10 !== 0;
  store.updateActive(
    id,
    done
      ? { status: 'complete', progress: 100, imageFile: `${id}.png`, upstreamId: `up${i}`, finishedAt: now }
      : { status: 'failed', error: 'GPU fault', finishedAt: now },
    now,
  );
  if (mine) ids.push(id);
}
const seedMs = performance.now() - seedStart;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(label: string, pathFor: (i: number) => string, concurrency: number, total = REQUESTS) {
  const timings: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        const response = await fetch(`${base}${pathFor(i)}`, { headers: { cookie } });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${label}: HTTP ${response.status}`);
        timings.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  timings.sort((a, b) => a - b);
  return {
    label,
    concurrency,
    requests: total,
    p50: percentile(timings, 50),
    p95: percentile(timings, 95),
    p99: percentile(timings, 99),
    rps: total / seconds,
  };
}

// Cursors for every page of 24 through the whole history, to read deep pages too.
const cursors: (string | null)[] = [null];
for (;;) {
  const last = cursors.at(-1);
  const page = (await (
    await fetch(`${base}/api/jobs?limit=24${last ? `&cursor=${last}` : ''}`, { headers: { cookie } })
  ).json()) as { jobs: unknown[]; next_cursor: string | null };
  if (!page.next_cursor) break;
  cursors.push(page.next_cursor);
}

const scenarios: [string, (i: number) => string, number][] = [
  ['GET /api/jobs?limit=24 (first page)', () => '/api/jobs?limit=24', REQUESTS],
  [
    `GET /api/jobs?limit=24 (any of ${cursors.length} pages)`,
    (i) => {
      const cursor = cursors[(i * 31) % cursors.length];
      return `/api/jobs?limit=24${cursor ? `&cursor=${cursor}` : ''}`;
    },
    REQUESTS,
  ],
  ['GET /api/jobs?limit=100', () => '/api/jobs?limit=100', REQUESTS],
  ['GET /api/jobs/:id (random job)', (i) => `/api/jobs/${ids[(i * 7919) % ids.length]}`, REQUESTS * 2],
];
// Warm up the JIT and SQLite's page cache before anything is timed.
for (const [label, pathFor] of scenarios) await measure(label, pathFor, CONCURRENCY, 300);
const rssBefore = process.memoryUsage().rss;
const results = [];
for (const concurrency of [1, CONCURRENCY]) {
  for (const [label, pathFor, total] of scenarios) results.push(await measure(label, pathFor, concurrency, total));
}
const rssAfter = process.memoryUsage().rss;

console.log(
  `\nmj-studio bench: ${JOBS} jobs for this owner, ${OTHER_OWNERS_JOBS} for 50 others (seeded in ${Math.round(seedMs)} ms)`,
);
console.log(
  'keep-alive HTTP on loopback; the load generator shares the server process (so figures include its cost)\n',
);
console.log('| request | in flight | n | p50 ms | p95 ms | p99 ms | req/s |');
console.log('| --- | --: | --: | --: | --: | --: | --: |');
for (const r of results) {
  console.log(
    `| ${r.label} | ${r.concurrency} | ${r.requests} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.rps)} |`,
  );
}
console.log(
  `\nRSS: ${(rssBefore / 2 ** 20).toFixed(1)} MiB before the load, ${(rssAfter / 2 ** 20).toFixed(1)} MiB after it`,
);
console.log(`heap used: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);

server.close();
store.close();
rmSync(dataDir, { recursive: true, force: true });
