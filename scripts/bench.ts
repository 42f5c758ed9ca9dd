// npm run bench: the production server (dist/server/index.js, composed by createServer) in its
// own process with 10,000 jobs for one owner (and 10,000 for others): list, search and status
// latency, its RSS, and the status poll against Express's hello-world route under autocannon.
// Prints figures; asserts nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { SqliteJobStore } from '../server/src/store/sqlite-job-store';

const JOBS = 10_000;
const OTHER_OWNERS_JOBS = 10_000;
const REQUESTS = 2_000;
const CONCURRENCY = 8;
const CANNON_CONNECTIONS = 50;
const CANNON_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROOT = path.resolve(import.meta.dirname, '..');
/**
 * Seeded prompts are four words of these (and a few fixed ones): any one word is in about one
 * prompt in eight, a realistic share for a gallery search to find.
 */
const VOCABULARY = [
  'lighthouse',
  'forest',
  'portrait',
  'neon',
  'river',
  'mountain',
  'dragon',
  'castle',
  'ocean',
  'desert',
  'robot',
  'garden',
  'winter',
  'sunset',
  'village',
  'samurai',
  'galaxy',
  'library',
  'market',
  'bridge',
  'storm',
  'flower',
  'train',
  'owl',
  'fox',
  'harbor',
  'temple',
  'café',
  'glacier',
  'orchard',
];
const FAVOURITE_EVERY = 20;

/**
 * Starts a command and answers its port and pid, read from its "listening" line (the server's
 * log lines carry the pid of the node process itself, whatever npm and sh ran before it).
 */
async function startChild(command: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)));
    // Keep reading after the port is known, so that a full pipe never blocks the server.
    createInterface({ input: child.stdout ?? process.stdin }).on('line', (line) => {
      const match = /listening (?:on http:\/\/[^:]+:)?(\d+)/.exec(line);
      const pidMatch = /"pid":(\d+)/.exec(line);
      if (match) resolve({ port: Number(match[1]), pid: pidMatch ? Number(pidMatch[1]) : (child.pid ?? 0) });
    });
  });
  return { child, pid, base: `http://127.0.0.1:${port}` };
}

const rssMiB = (pid: number | undefined) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
};

const dataDir = mkdtempSync(path.join(tmpdir(), 'mj-bench-'));
// Exactly as production runs it (npm start: its node flags, logging at info); the upstream is
// never called. BENCH_NODE_ARGS (e.g. "--heap-prof"; Node 20 refuses "--cpu-prof" there) go to
// the server's node as NODE_OPTIONS.
const studio = await startChild('npm', ['start', '--silent'], {
  ...(process.env.BENCH_NODE_ARGS ? { NODE_OPTIONS: process.env.BENCH_NODE_ARGS } : {}),
  DATA_DIR: dataDir,
  PORT: '0',
  HOST: '127.0.0.1',
  UPSTREAM: 'v7',
  MIDJOURNEY_API_KEY: 'bench-key-never-sent',
  MIDJOURNEY_API_BASE: 'http://127.0.0.1:9/v1',
  LOG_LEVEL: 'info',
});
const base = studio.base;
const rssIdle = rssMiB(studio.pid);

// Become an owner, then give that owner 10,000 jobs (and other owners as many again), written
// straight into the server's database file.
const first = await fetch(`${base}/api/jobs`);
const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
const owner = /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(cookie.split('=')[1] ?? ''))?.[1] ?? '';
const store = new SqliteJobStore(path.join(dataDir, 'jobs.sqlite'));
const seedStart = performance.now();
const ids: string[] = [];
const now = Date.now();
// A fixed linear congruential sequence (its high bits: the low ones repeat), so that every
// run seeds the same prompts and runs compare.
let state = 12_345;
const nextWord = () => {
  state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
  return VOCABULARY[Math.floor((state / 2 ** 32) * VOCABULARY.length)] ?? '';
};
for (let i = 0; i < JOBS + OTHER_OWNERS_JOBS; i++) {
  const mine = i % 2 === 0 && ids.length < JOBS;
  const id = `job${String(i).padStart(8, '0')}`;
  store.insert({
    id,
    ownerId: mine ? owner : `other-${i % 50}`,
    kind: 'imagine',
    output: i % 8 === 0 ? 'image' : 'grid',
    prompt: `a ${nextWord()} and a ${nextWord()}, ${nextWord()} at dusk, ${nextWord()} number ${i}`,
    params: { aspect_ratio: '16:9', stylize: 250 },
    aspectRatio: '16:9',
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
  if (i % FAVOURITE_EVERY === 0) store.setFavourite(id, true, now);
  if (mine) ids.push(id);
}
store.close();
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
const SEARCHES = [
  `GET /api/jobs?limit=24&q=<one of ${VOCABULARY.length} words>`,
  'GET /api/jobs?limit=24&q=<word>&output=grid&favourite=1',
];
const word = (i: number) => encodeURIComponent(VOCABULARY[i % VOCABULARY.length] ?? '');
scenarios.push(
  [SEARCHES[0] ?? '', (i) => `/api/jobs?limit=24&q=${word(i)}`, REQUESTS],
  [SEARCHES[1] ?? '', (i) => `/api/jobs?limit=24&q=${word(i)}&output=grid&favourite=1`, REQUESTS],
);
// What share of this owner's jobs one word finds, and that the filters reach the store at all.
const shares = await Promise.all(
  VOCABULARY.map(async (_, i) => {
    let found = 0;
    let cursor: string | null = null;
    do {
      const page = (await (
        await fetch(`${base}/api/jobs?limit=100&q=${word(i)}${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: { cookie },
        })
      ).json()) as { jobs: unknown[]; next_cursor: string | null };
      found += page.jobs.length;
      cursor = page.next_cursor;
    } while (cursor);
    return found / JOBS;
  }),
);
const shareRange = `${(Math.min(...shares) * 100).toFixed(1)}-${(Math.max(...shares) * 100).toFixed(1)} %`;
// Warm up the JIT and SQLite's page cache before anything is timed.
for (const [label, pathFor] of scenarios) await measure(label, pathFor, CONCURRENCY, 300);
const rssBefore = rssMiB(studio.pid);
const results: Awaited<ReturnType<typeof measure>>[] = [];
for (const concurrency of [1, CONCURRENCY]) {
  for (const [label, pathFor, total] of scenarios) results.push(await measure(label, pathFor, concurrency, total));
}
const rssAfter = rssMiB(studio.pid);

// The status poll as a browser sends it (its cookie, its fetch metadata) against hello-world,
// each server alone in its own process, the load generator in this one. Each is run twice,
// alternating, and the better run of each counts, so one unlucky second decides nothing.
const hello = await startChild(process.execPath, ['scripts/bench-hello.mjs'], {});
const finished = ids[1] ?? '';
const browserHeaders = {
  cookie,
  accept: 'application/json',
  'accept-encoding': 'gzip, deflate, br',
  'accept-language': 'en-GB,en;q=0.9',
  'sec-fetch-site': 'same-origin',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
  referer: `${base}/`,
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
};
const cannon = async (url: string, headers: Record<string, string>) => {
  const result = await autocannon({ url, connections: CANNON_CONNECTIONS, duration: CANNON_SECONDS, headers });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
};
const polls = [];
const hellos = [];
for (let round = 0; round < 2; round++) {
  hellos.push(await cannon(`${hello.base}/hello`, { 'user-agent': browserHeaders['user-agent'] }));
  polls.push(await cannon(`${base}/api/jobs/${finished}`, browserHeaders));
}
const rssLoaded = rssMiB(studio.pid);
const best = (runs: { rps: number; p99: number }[]) => ({
  rps: Math.max(...runs.map((run) => run.rps)),
  p99: Math.min(...runs.map((run) => run.p99)),
});
const poll = best(polls);
const baseline = best(hellos);

console.log(
  `\nmj-studio bench: ${JOBS} jobs for this owner, ${OTHER_OWNERS_JOBS} for 50 others (seeded in ${Math.round(seedMs)} ms)`,
);
console.log('the server as npm start runs it, in its own process, logging at info; keep-alive HTTP on loopback\n');
console.log('| request | in flight | n | p50 ms | p95 ms | p99 ms | req/s |');
console.log('| --- | --: | --: | --: | --: | --: | --: |');
for (const r of results) {
  console.log(
    `| ${r.label} | ${r.concurrency} | ${r.requests} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.rps)} |`,
  );
}
console.log(`\nsearch: one word finds ${shareRange} of the owner's jobs`);
for (const concurrency of [1, CONCURRENCY]) {
  const p95 = (label: string | undefined) =>
    results.find((r) => r.concurrency === concurrency && r.label === label)?.p95.toFixed(2);
  console.log(
    `search p95 at ${concurrency} in flight: q ${p95(SEARCHES[0])} ms, q + output + favourite ${p95(SEARCHES[1])} ms (target: search p95 < 20 ms)`,
  );
}
console.log(
  `\nServer RSS: ${rssIdle.toFixed(1)} MiB at start, ${rssBefore.toFixed(1)} MiB with the history read, ${rssAfter.toFixed(1)} MiB after the latency runs, ${rssLoaded.toFixed(1)} MiB after autocannon (target: at most 150 MB)`,
);
console.log(
  `\nautocannon, ${CANNON_CONNECTIONS} connections, ${CANNON_SECONDS} s per run, best of 2 alternating runs each:`,
);
console.log('| route | req/s | p99 ms |');
console.log('| --- | --: | --: |');
console.log(`| Express hello-world JSON | ${Math.round(baseline.rps)} | ${baseline.p99} |`);
console.log(`| GET /api/jobs/:id (finished job, browser headers) | ${Math.round(poll.rps)} | ${poll.p99} |`);
console.log(
  `\nstatus poll vs hello-world: throughput ${(poll.rps / baseline.rps).toFixed(2)}x (target >= 0.8x), p99 ${(poll.p99 / baseline.p99).toFixed(2)}x (target <= 1.3x)`,
);

process.kill(studio.pid, 'SIGTERM');
hello.child.kill('SIGTERM');
await new Promise((resolve) => setTimeout(resolve, 300));
rmSync(dataDir, { recursive: true, force: true });
