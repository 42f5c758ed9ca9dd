// The process entry point: reads the environment, opens the store, picks the upstream (the
// real v7 API when a key is configured, otherwise the built-in simulator), resumes unfinished
// jobs, listens, and shuts down gracefully.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app';
import { KeyBudget } from './budget/key-budget';
import { EnvError, exposureProblem, parseEnv, upstreamKind } from './env';
import { JobService } from './jobs/job-service';
import { UpstreamScheduler } from './jobs/upstream-scheduler';
import { createLogger } from './logger';
import { DEFAULT_BLOCKED_WORDS, simulatorConfig } from './simulator/config';
import { startSimulator } from './simulator/server';
import { sqliteSimPersistence } from './simulator/sim-store';
import { ImageFiles } from './store/image-files';
import { SqliteJobStore } from './store/sqlite-job-store';
import type { UpstreamAdapter } from './upstream/adapter';
import { UpstreamHttpClient } from './upstream/http-client';
import { createImageFetcher } from './upstream/image-fetcher';
import { createMjProxyAdapter } from './upstream/mj-proxy-adapter';
import { createV7Adapter } from './upstream/v7-adapter';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const envFile = path.join(root, '.env');
if (existsSync(envFile)) process.loadEnvFile(envFile);

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env);
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const exposure = exposureProblem(env);
if (exposure) {
  process.stderr.write(`Refusing to start.\n${exposure}\n`);
  process.exit(1);
}

const logger = createLogger({ level: env.LOG_LEVEL });
const dataDir = path.resolve(root, env.DATA_DIR);
mkdirSync(dataDir, { recursive: true });

/** The cookie-signing secret: from the environment, or made once and kept in DATA_DIR. */
function cookieSecret(): string {
  if (env.SESSION_SECRET) return env.SESSION_SECRET;
  const file = path.join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

const http = new UpstreamHttpClient({ timeoutMs: env.UPSTREAM_TIMEOUT_MS });
const secret = cookieSecret();
// The relay's notifyHook carries no signature: an unguessable path token stands in for one.
const relayToken = createHmac('sha256', secret).update('mj-proxy-notify-hook').digest('base64url').slice(0, 32);
const notifyHook = env.PUBLIC_URL ? `${env.PUBLIC_URL.replace(/\/+$/, '')}/hooks/mj-proxy/${relayToken}` : undefined;

const kind = upstreamKind(env);
// The simulator pushes like an upstream with webhooks: signed v7 webhooks (a secret made for
// this run) or the relay's notifyHook, to this server's own loopback address once it listens.
const simPush = kind === 'simulator' && env.SIM_PUSH === 'on';
const simWebhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
let ownOrigin: string | undefined;
const simNotify = simPush
  ? {
      ...(env.SIM_PROTOCOL === 'v7' ? { v7: { url: '', secret: simWebhookSecret } } : {}),
      // Imperfect on purpose, like real senders: a few notices late or repeated.
      lateShare: 0.05,
      duplicateShare: 0.05,
      lateByMs: 2_000,
    }
  : undefined;
const simulator =
  kind !== 'simulator'
    ? undefined
    : await startSimulator(
        simulatorConfig({
          apiKey: randomBytes(24).toString('base64url'),
          timeFactor: env.SIM_TIME_FACTOR,
          failureRate: env.SIM_FAILURE_RATE,
          rateLimit: env.SIM_RATE_LIMIT,
          blockedWords:
            env.SIM_BLOCKED_WORDS?.split(',')
              .map((word) => word.trim())
              .filter(Boolean) ?? DEFAULT_BLOCKED_WORDS,
        }),
        {
          port: env.SIM_PORT,
          deps: { persistence: sqliteSimPersistence(path.join(dataDir, 'simulator.sqlite')) },
          ...(simNotify ? { notify: simNotify } : {}),
        },
      );

function chooseUpstream(): UpstreamAdapter {
  if (simulator) {
    const apiKey = simulator.engine.config.apiKey;
    return env.SIM_PROTOCOL === 'mj-proxy'
      ? createMjProxyAdapter({
          baseUrl: simulator.baseUrl.replace(/\/v1$/, '/mj'),
          secret: apiKey,
          http,
          name: 'simulator',
          notifyHook: () => (simPush && ownOrigin ? `${ownOrigin}/hooks/mj-proxy/${relayToken}` : undefined),
        })
      : createV7Adapter({ baseUrl: simulator.baseUrl, apiKey, http, name: 'simulator' });
  }
  if (kind === 'mj-proxy') {
    return createMjProxyAdapter({
      baseUrl: env.MJ_PROXY_BASE ?? '',
      secret: env.MJ_PROXY_SECRET ?? '',
      http,
      notifyHook,
    });
  }
  return createV7Adapter({ baseUrl: env.MIDJOURNEY_API_BASE, apiKey: env.MIDJOURNEY_API_KEY ?? '', http });
}
const upstream = chooseUpstream();

if (simulator) {
  logger.warn(
    { simulator: simulator.baseUrl, protocol: env.SIM_PROTOCOL, time_factor: env.SIM_TIME_FACTOR },
    'No upstream configured (MIDJOURNEY_API_KEY or UPSTREAM): running against the built-in simulator, not the real Midjourney API',
  );
} else {
  logger.info(
    { upstream: kind, base: kind === 'mj-proxy' ? env.MJ_PROXY_BASE : env.MIDJOURNEY_API_BASE },
    `using the ${kind} upstream`,
  );
}

const store = new SqliteJobStore(path.join(dataDir, 'jobs.sqlite'));
const images = new ImageFiles(path.join(dataDir, 'images'));
const jobs = new JobService({
  store,
  images,
  upstream,
  fetcher: createImageFetcher(http, env.IMAGE_MAX_BYTES),
  logger,
  deadlineMs: env.JOB_DEADLINE_MS,
});
const interrupted = jobs.recoverInterrupted();
const resumed = store.listActive().length;
if (interrupted || resumed) logger.info({ interrupted, resumed }, 'recovered jobs from the previous run');
const budget = new KeyBudget({ limit: env.BUDGET_PER_MINUTE, windowMs: env.BUDGET_WINDOW_MS, burst: env.BUDGET_BURST });
const scheduler = new UpstreamScheduler(jobs, store, budget, logger, {
  minGapMs: env.MIN_CHECK_GAP_MS,
  maxGapMs: 60_000,
  // The simulator's own numbers are known; a real upstream's are learnt as jobs finish.
  expectedDurationMs: simulator
    ? (simulator.engine.config.queueMs + simulator.engine.config.renderMs) * simulator.engine.config.timeFactor
    : env.EXPECTED_JOB_MS,
  queueMax: env.SUBMIT_QUEUE_MAX,
  finishMarginMs: 250,
  // With webhooks, looks are a slower fallback.
  fallbackFactor: (kind === 'v7' && env.WEBHOOK_SECRET) || (kind === 'mj-proxy' && notifyHook) || simPush ? 3 : 1,
});
scheduler.resume();
scheduler.start();

const clientDist = path.resolve(root, env.CLIENT_DIST ?? 'dist/client');
const serveClient = existsSync(path.join(clientDist, 'index.html'));
if (!serveClient) logger.info({ clientDist }, 'no client build found: serving the API only');

const app = createApp({
  jobs,
  scheduler,
  budget,
  store,
  security: {
    accessToken: env.ACCESS_TOKEN,
    allowedOrigins:
      env.CORS_ORIGINS?.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean) ?? [],
    trustProxy: env.TRUST_PROXY,
    submitsPerMinute: env.SUBMITS_PER_MINUTE_PER_CLIENT,
    runningJobs: env.RUNNING_JOBS_PER_CLIENT,
  },
  images,
  logger,
  cookieSecret: secret,
  webhooks: {
    v7Secret: simPush && env.SIM_PROTOCOL === 'v7' ? simWebhookSecret : env.WEBHOOK_SECRET,
    relayToken,
  },
  ...(serveClient ? { clientDist } : {}),
});

const server = app.listen(env.PORT, env.HOST, (error?: Error) => {
  if (error) {
    logger.fatal({ err: error }, 'could not listen');
    process.exit(1);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;
  if (simulator?.notifier && typeof address === 'object' && address) {
    // The simulator reaches us over loopback, whatever address we listen on for others.
    const unspecified = address.address === '0.0.0.0' || address.address === '::';
    const host = unspecified ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    ownOrigin = `http://${host}:${port}`;
    if (simNotify?.v7) simNotify.v7.url = `${ownOrigin}/hooks/v7`;
    simulator.notifier.resume();
  }
  const shownHost = env.HOST === '0.0.0.0' || env.HOST === '127.0.0.1' ? 'localhost' : env.HOST;
  logger.info({ port, host: env.HOST, data_dir: dataDir }, `mj-studio listening on http://${shownHost}:${port}`);
});

let stopping = false;
function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  scheduler.stop();
  const force = setTimeout(() => {
    logger.warn('connections did not close in time; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  server.close(async () => {
    await simulator?.close();
    store.close();
    logger.info('stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
