import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterEach } from 'vitest';
import { createServer, type ServerConfig, type ServerOverrides } from '../../server/src/compose';
import { parseEnv } from '../../server/src/env';
import { createLogger } from '../../server/src/logger';
import type { ImageFiles } from '../../server/src/store/image-files';
import type { JobStore } from '../../server/src/store/job-store';
import { mockHttpForEachTest } from '../mocks/node';
import { UPSTREAM_BASE, UPSTREAM_KEY } from '../mocks/upstream';

/** The shared msw server (tests/mocks/node.ts) for this test file: the upstream's happy path, nothing unmocked. */
export function mockUpstreamForEachTest(): void {
  mockHttpForEachTest();
}

export const tempDir = (prefix = 'mj-test-') => mkdtempSync(path.join(tmpdir(), prefix));

export interface TestAppOptions {
  timeoutMs?: number;
  imageMaxBytes?: number;
  uploadMaxBytes?: number;
  clientDist?: string;
  deadlineMs?: number;
  now?: () => number;
  budgetPerMinute?: number;
  /** How many upstream calls may go at once before the budget spaces them (default 2, as in production). */
  budgetBurst?: number;
  queueMax?: number;
  expectedDurationMs?: number;
  minGapMs?: number;
  security?: {
    accessToken?: string;
    allowedOrigins?: string[];
    trustProxy?: string;
    submitsPerMinute?: number;
    submitsPerMinutePerAddress?: number;
    newOwnersPerHourPerAddress?: number;
    runningJobs?: number;
    signInAttempts?: number;
    allowedHosts?: string;
  };
  /** The v7 upstream's webhook secret (enables POST /hooks/v7). */
  webhookSecret?: string;
  /** A midjourney-proxy relay at this base URL (its /mj path included) instead of the mocked v7 API. */
  relay?: { baseUrl: string; secret: string; publicUrl?: string };
  /** The configured upstream adapter wrapped or replaced (each account's, with a pool). */
  upstream?: ServerOverrides['upstream'];
  /** A pool of accounts, as ACCOUNTS_FILE would list them, instead of the one upstream. */
  accounts?: ServerConfig['accounts'];
  /** PUBLIC_URL, where upstreams send their notices (with `relay`, its own publicUrl). */
  publicUrl?: string;
  images?: ImageFiles;
  /** An existing data directory (a restart over the same store); a fresh one otherwise. */
  dataDir?: string;
  /**
   * One of several instances: this store (shared with the others) and Redis under this prefix
   * (REDIS_URL set, so budgets, limits and the scheduler's lease are shared).
   */
  shared?: { store: JobStore; redisUrl: string; redisPrefix: string; databaseUrl: string };
}

/**
 * The server as production composes it (compose.ts), on a fresh data directory, with the
 * mocked v7 upstream (or a relay) and a logger whose lines the test can read. Status checks
 * are planned a minute out, so no test sees a status call it did not make itself.
 */
export async function buildTestApp(options: TestAppOptions = {}) {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const dataDir = options.dataDir ?? tempDir();
  const security = options.security ?? {};
  const config: ServerConfig = {
    ...parseEnv({
      DATA_DIR: dataDir,
      SESSION_SECRET: 'test-cookie-secret-0123456789abcdef',
      ...(options.relay
        ? {
            UPSTREAM: 'mj-proxy',
            MJ_PROXY_BASE: options.relay.baseUrl,
            MJ_PROXY_SECRET: options.relay.secret,
            PUBLIC_URL: options.relay.publicUrl,
          }
        : { UPSTREAM: 'v7', MIDJOURNEY_API_KEY: UPSTREAM_KEY, MIDJOURNEY_API_BASE: UPSTREAM_BASE }),
      WEBHOOK_SECRET: options.webhookSecret,
      ACCESS_TOKEN: security.accessToken,
      CORS_ORIGINS: security.allowedOrigins?.join(','),
      TRUST_PROXY: security.trustProxy,
      ALLOWED_HOSTS: security.allowedHosts,
      ...(options.shared
        ? {
            DATABASE_URL: options.shared.databaseUrl,
            REDIS_URL: options.shared.redisUrl,
            REDIS_PREFIX: options.shared.redisPrefix,
          }
        : {}),
    }),
    // Set directly: some tests go beyond the bounds the environment allows (a 50 ms time-out).
    UPSTREAM_TIMEOUT_MS: options.timeoutMs ?? 2_000,
    IMAGE_MAX_BYTES: options.imageMaxBytes ?? 1024 * 1024,
    UPLOAD_MAX_BYTES: options.uploadMaxBytes ?? 2 * 1024 * 1024,
    CLIENT_DIST: options.clientDist,
    JOB_DEADLINE_MS: options.deadlineMs ?? 10 * 60_000,
    BUDGET_PER_MINUTE: options.budgetPerMinute ?? 1_000,
    ...(options.budgetBurst ? { BUDGET_BURST: options.budgetBurst } : {}),
    SUBMIT_QUEUE_MAX: options.queueMax ?? 50,
    EXPECTED_JOB_MS: options.expectedDurationMs ?? 120_000,
    MIN_CHECK_GAP_MS: options.minGapMs ?? 1_000,
    SUBMITS_PER_MINUTE_PER_CLIENT: security.submitsPerMinute ?? 1_000,
    SUBMITS_PER_MINUTE_PER_ADDRESS: security.submitsPerMinutePerAddress ?? 100_000,
    NEW_OWNERS_PER_HOUR_PER_ADDRESS: security.newOwnersPerHourPerAddress ?? 1_000_000,
    RUNNING_JOBS_PER_CLIENT: security.runningJobs ?? 1_000,
    SIGN_IN_ATTEMPTS: security.signInAttempts ?? 10,
    accounts: options.accounts,
    ...(options.publicUrl ? { PUBLIC_URL: options.publicUrl } : {}),
  };
  const server = await createServer(config, {
    logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.upstream ? { upstream: options.upstream } : {}),
    ...(options.images ? { images: options.images } : {}),
    ...(options.shared ? { store: options.shared.store } : {}),
  });
  return { ...server, logs, dataDir, agent: request.agent(server.app) };
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>;

/**
 * For a test file: builds apps as buildTestApp does (over these defaults) and closes each one
 * after the test that built it.
 */
export function appsClosedAfterEach(defaults: TestAppOptions = {}): (options?: TestAppOptions) => Promise<TestApp> {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const setup of apps.splice(0)) await setup.close();
  });
  return async (options = {}) => {
    const setup = await buildTestApp({ ...defaults, ...options });
    apps.push(setup);
    return setup;
  };
}

/** `name=value` of the cookie an answer sets (as a Cookie header sends it back); empty when it sets none. */
export const cookieOf = (response: request.Response, name: string): string =>
  ([] as string[])
    .concat(response.headers['set-cookie'] ?? [])
    .map((cookie) => cookie.split(';')[0] ?? '')
    .find((cookie) => cookie.startsWith(`${name}=`)) ?? '';

/** Submits a prompt as this agent's owner and answers the new job's id. */
export async function submitJob(agent: request.Agent, prompt = 'a fox in the snow'): Promise<string> {
  const response = await agent.post('/api/imagine').send({ prompt });
  if (response.status !== 202) throw new Error(`submit failed: ${response.status} ${response.text}`);
  return String(response.body.job_id);
}
