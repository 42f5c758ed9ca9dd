// Several real server processes (the compiled file npm start runs) behind one round-robin
// reverse proxy, sharing a fresh PostgreSQL database, a Redis key prefix of their own, one
// DATA_DIR and one simulator that counts every call it receives, by key and by prompt.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type SimulatorConfig, simulatorConfig } from '../../server/src/simulator/config';
import { type RunningSimulator, startSimulator } from '../../server/src/simulator/server';
import { PG_URL, sql } from './pg';
import { type ServerProcess, startServerProcess } from './server-process';

export const REDIS_TEST_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Instance extends ServerProcess {
  name: string;
  alive: boolean;
}

export interface Cluster {
  /** The reverse proxy's address: what browsers, scripts and the simulator's webhooks use. */
  url: string;
  instances: Instance[];
  simulator: RunningSimulator;
  apiKey: string;
  /** When each call reached the simulator (refused ones too). */
  calls: number[];
  /** Calls the simulator refused with a 429 (over the account's limit). */
  refused(): number;
  /** How many times each prompt was submitted to the simulator. */
  submissions: Map<string, number>;
  redisPrefix: string;
  databaseUrl: string;
  dataDir: string;
  /** The instance holding the scheduler's lease now, if any. */
  leader(): Promise<Instance | undefined>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  instances: number;
  /** Extra environment for every instance. */
  env?: Record<string, string>;
  simulator?: Partial<Omit<SimulatorConfig, 'apiKey'>>;
  /** The simulator's signed v7 webhooks, to the proxy (so to any instance). */
  push?: boolean;
  /** false: one instance as `npm start` runs by default (SQLite in DATA_DIR, budget in memory). */
  shared?: boolean;
  /** The instances speak the relay protocol to the simulator (grids and actions) instead of v7. */
  relay?: boolean;
}

/** Runs SQL on the tests' database (a fresh database per cluster; dropped at the end). */
const admin = (statement: string): void => void sql(statement);

/** A round-robin proxy over the live instances; a refused connection moves a request on. */
function startProxy(backends: () => Instance[]): Promise<http.Server> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryBackend = (attempt: number) => {
        const live = backends().filter((instance) => instance.alive);
        if (live.length === 0 || attempt >= live.length + 1) {
          res.writeHead(502).end('no instance answered');
          return;
        }
        const target = live[next++ % live.length];
        if (!target) return;
        const url = new URL(req.url ?? '/', target.baseUrl);
        const outgoing = http.request(
          url,
          { method: req.method, headers: { ...req.headers, host: url.host, 'x-forwarded-for': '127.0.0.1' } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        outgoing.on('error', (error: NodeJS.ErrnoException) => {
          // Refused before anything was sent: safe to try another instance, whatever the method.
          if (error.code === 'ECONNREFUSED' && !res.headersSent) tryBackend(attempt + 1);
          else if (!res.headersSent) res.writeHead(502).end('the instance went away');
          else res.destroy();
        });
        outgoing.end(body);
      };
      tryBackend(0);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const shared = options.shared ?? true;
  const database = `mj_test_${randomBytes(6).toString('hex')}`;
  if (shared) admin(`CREATE DATABASE ${database}`);
  const databaseUrl = PG_URL.replace(/\/[^/]*$/, `/${database}`);
  const redisPrefix = `mj-test-${randomBytes(6).toString('hex')}:`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mj-cluster-'));
  const apiKey = randomBytes(18).toString('base64url');
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const instances: Instance[] = [];

  const proxy = await startProxy(() => instances);
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const simulator = await startSimulator(
    simulatorConfig({ apiKey, failureRate: 0, imageScale: 0.25, ...options.simulator }),
    options.push
      ? {
          notify: {
            v7: { url: `${url}/hooks/v7`, secret: webhookSecret },
            lateShare: 0.1,
            duplicateShare: 0.1,
            lateByMs: 1_000,
          },
        }
      : {},
  );
  const calls: number[] = [];
  let refused = 0;
  const takeRateToken = simulator.engine.takeRateToken.bind(simulator.engine);
  simulator.engine.takeRateToken = (key) => {
    calls.push(Date.now());
    const answer = takeRateToken(key);
    if (!answer.ok) refused += 1;
    return answer;
  };
  const submissions = new Map<string, number>();
  const submit = simulator.engine.submit.bind(simulator.engine);
  simulator.engine.submit = (prompt, ...rest) => {
    submissions.set(prompt, (submissions.get(prompt) ?? 0) + 1);
    return submit(prompt, ...rest);
  };

  const env = {
    ...(options.relay
      ? { UPSTREAM: 'mj-proxy', MJ_PROXY_BASE: simulator.baseUrl.replace(/\/v1$/, '/mj'), MJ_PROXY_SECRET: apiKey }
      : { UPSTREAM: 'v7', MIDJOURNEY_API_KEY: apiKey, MIDJOURNEY_API_BASE: simulator.baseUrl }),
    ...(options.push ? { WEBHOOK_SECRET: webhookSecret } : {}),
    ...(shared ? { DATABASE_URL: databaseUrl, REDIS_URL: REDIS_TEST_URL, REDIS_PREFIX: redisPrefix } : {}),
    DATA_DIR: dataDir,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    TRUST_PROXY: 'loopback',
    SUBMITS_PER_MINUTE_PER_CLIENT: '100000',
    SUBMITS_PER_MINUTE_PER_ADDRESS: '100000',
    NEW_OWNERS_PER_HOUR_PER_ADDRESS: '100000',
    RUNNING_JOBS_PER_CLIENT: '100000',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  // All at once: their migrations race, as in a rolling start. Should one fail to start,
  // everything made so far goes before the error does.
  const starting = Array.from({ length: options.instances }, (_, index) =>
    startServerProcess(env).then((process) => ({ process, index })),
  );
  const outcomes = await Promise.allSettled(starting);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) {
    for (const outcome of outcomes) if (outcome.status === 'fulfilled') await outcome.value.process.stop();
    await simulator.close();
    await new Promise((resolve) => proxy.close(resolve));
    if (shared) admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
    throw failure.reason;
  }
  const started = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  for (const { process, index } of started.sort((a, b) => a.index - b.index)) {
    const instance: Instance = Object.assign(process, { name: `instance-${index + 1}`, alive: true });
    const kill = process.kill.bind(process);
    instance.kill = async () => {
      instance.alive = false;
      await kill();
    };
    instances.push(instance);
  }
  const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true });
  await redis.connect();

  return {
    url,
    instances,
    simulator,
    apiKey,
    calls,
    refused: () => refused,
    submissions,
    redisPrefix,
    databaseUrl,
    dataDir,
    async leader() {
      const holder = await redis.get(`${redisPrefix}lease:scheduler`);
      if (!holder) return undefined;
      return instances.find((instance) => instance.alive && instance.logs.some((line) => line.includes(holder)));
    },
    async close() {
      await Promise.all(
        instances.map(async (instance) => {
          if (instance.alive) await instance.stop();
          instance.alive = false;
        }),
      );
      await simulator.close();
      await new Promise((resolve) => proxy.close(resolve));
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      if (shared) admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
