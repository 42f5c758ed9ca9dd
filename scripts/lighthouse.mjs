// `npm run lighthouse`: builds, starts the real server (npm start) in simulator mode on a free
// loopback port with an empty history, and runs Lighthouse's default mobile audit (simulated
// throttling) against / in Debian's Chromium. Prints the scores and the main metrics, and the
// performance audits that fell short; asserts nothing. The JSON report goes to test-results/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import lighthouse from 'lighthouse';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const REPORT = path.join(ROOT, 'test-results', 'lighthouse', 'report.json');

run('bash', ['scripts/ensure-chromium.sh']);
run('npm', ['run', 'build', '--silent']);

const scratch = mkdtempSync(path.join(tmpdir(), 'mj-lighthouse-'));
const server = await startChild(
  'npm',
  ['start', '--silent'],
  {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: path.join(scratch, 'data'),
    UPSTREAM: 'simulator',
    ACCESS_TOKEN: '',
    LOG_LEVEL: 'info',
  },
  'stdout',
  /listening on http:\/\/[^:]+:(\d+)/,
);
const browser = await startChild(
  CHROMIUM,
  [...CHROMIUM_FLAGS, '--remote-debugging-port=0', `--user-data-dir=${path.join(scratch, 'chromium')}`, 'about:blank'],
  {},
  'stderr',
  /DevTools listening on ws:\/\/[^:]+:(\d+)\//,
);

try {
  const url = `http://127.0.0.1:${server.port}/`;
  console.log(`Lighthouse (mobile, simulated throttling) on ${url}…`);
  const result = await lighthouse(url, { port: browser.port, output: 'json', logLevel: 'error' });
  if (!result) throw new Error('Lighthouse gave no result');
  const { lhr } = result;
  mkdirSync(path.dirname(REPORT), { recursive: true });
  writeFileSync(REPORT, JSON.stringify(lhr, null, 2));

  const score = (id) => lhr.categories[id]?.score?.toFixed(2) ?? 'n/a';
  const metric = (id) => lhr.audits[id]?.displayValue ?? 'n/a';
  console.log(
    `performance ${score('performance')}  accessibility ${score('accessibility')}  best-practices ${score('best-practices')}`,
  );
  console.log(
    `FCP ${metric('first-contentful-paint')}  LCP ${metric('largest-contentful-paint')}  ` +
      `CLS ${metric('cumulative-layout-shift')}  TBT ${metric('total-blocking-time')}  SI ${metric('speed-index')}`,
  );
  const flagged = ['performance', 'accessibility', 'best-practices'].flatMap((category) =>
    (lhr.categories[category]?.auditRefs ?? [])
      .map((ref) => lhr.audits[ref.id])
      .filter((audit) => audit && audit.score !== null && audit.score < 0.9 && audit.scoreDisplayMode !== 'informative')
      .map((audit) => `  ${category}: ${audit.title}${audit.displayValue ? ` (${audit.displayValue})` : ''}`),
  );
  if (flagged.length > 0) console.log(`Flagged:\n${flagged.join('\n')}`);
  if (lhr.runWarnings.length > 0) console.log(`Warnings:\n  ${lhr.runWarnings.join('\n  ')}`);
  console.log(`Full report: ${path.relative(ROOT, REPORT)}`);
} finally {
  await browser.stop();
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal})`);
}

/**
 * Starts a child in its own process group (npm start runs the server under npm and a shell) and
 * waits for the line that names its port. stop() ends that group and waits for the child.
 */
async function startChild(command, args, env, stream, portPattern) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const output = [];
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${output.join('\n')}`)), 60_000);
    void exited.then((code) => reject(new Error(`${command} exited with ${code}:\n${output.join('\n')}`)));
    createInterface({ input: child[stream] }).on('line', (line) => {
      output.push(line);
      const match = portPattern.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  // Keep reading, so that a chatty child never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}
