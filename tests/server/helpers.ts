import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp, type SecurityOptions } from '../../server/src/app';
import { KeyBudget } from '../../server/src/budget/key-budget';
import { JobService } from '../../server/src/jobs/job-service';
import { UpstreamScheduler } from '../../server/src/jobs/upstream-scheduler';
import { createLogger } from '../../server/src/logger';
import { ImageFiles } from '../../server/src/store/image-files';
import { SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import type { UpstreamAdapter } from '../../server/src/upstream/adapter';
import { UpstreamHttpClient } from '../../server/src/upstream/http-client';
import { createImageFetcher } from '../../server/src/upstream/image-fetcher';
import { createV7Adapter } from '../../server/src/upstream/v7-adapter';
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
  clientDist?: string;
  deadlineMs?: number;
  now?: () => number;
  budgetPerMinute?: number;
  queueMax?: number;
  expectedDurationMs?: number;
  minGapMs?: number;
  security?: SecurityOptions;
  webhooks?: { v7Secret?: string; relayToken?: string };
  /** Another upstream than the mocked v7 one, built on the test's HTTP client. */
  upstream?: (http: UpstreamHttpClient) => UpstreamAdapter;
}

export function buildTestApp(options: TestAppOptions = {}) {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const http = new UpstreamHttpClient({ timeoutMs: options.timeoutMs ?? 2_000 });
  const dataDir = tempDir();
  const store = new SqliteJobStore(path.join(dataDir, 'jobs.sqlite'));
  const images = new ImageFiles(path.join(dataDir, 'images'));
  const jobs = new JobService({
    store,
    images,
    upstream: options.upstream?.(http) ?? createV7Adapter({ baseUrl: UPSTREAM_BASE, apiKey: UPSTREAM_KEY, http }),
    fetcher: createImageFetcher(http, options.imageMaxBytes ?? 1024 * 1024),
    logger,
    deadlineMs: options.deadlineMs ?? 10 * 60_000,
    ...(options.now ? { now: options.now } : {}),
  });
  const budget = new KeyBudget({ limit: options.budgetPerMinute ?? 1_000, windowMs: 60_000, burst: 2 });
  // Checks are planned a minute out, so no test sees a status call it did not make itself.
  const scheduler = new UpstreamScheduler(jobs, store, budget, logger, {
    minGapMs: options.minGapMs ?? 1_000,
    maxGapMs: 60_000,
    expectedDurationMs: options.expectedDurationMs ?? 120_000,
    queueMax: options.queueMax ?? 50,
    finishMarginMs: 250,
    // As in production: with webhooks, planned looks are a slower fallback.
    fallbackFactor: options.webhooks ? 3 : 1,
  });
  const app = createApp({
    jobs,
    scheduler,
    budget,
    store,
    security: { submitsPerMinute: 1_000, runningJobs: 1_000, ...options.security },
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    images,
    logger,
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    ...(options.clientDist ? { clientDist: options.clientDist } : {}),
  });
  return { app, logs, jobs, scheduler, budget, store, images, dataDir, agent: request.agent(app) };
}

/** Submits a prompt as this agent's owner and answers the new job's id. */
export async function submitJob(agent: request.Agent, prompt = 'a fox in the snow'): Promise<string> {
  const response = await agent.post('/api/imagine').send({ prompt });
  if (response.status !== 202) throw new Error(`submit failed: ${response.status} ${response.text}`);
  return String(response.body.job_id);
}
