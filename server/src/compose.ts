// The one composition root: production (index.ts), the tests and both benchmarks build the
// server with createServer(config, overrides). Every rule about how the parts fit together
// (which accounts and upstreams, the simulator and its push, webhook secrets, fallback timing)
// lives here.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { ApiKeyService } from './access/api-key-service';
import { SessionService } from './access/session-service';
import { AccountHealth } from './accounts/account-health';
import { type Account, AccountPool } from './accounts/account-pool';
import { type AccountSpec, singleAccount } from './accounts/accounts-file';
import { createApp } from './app';
import { KeyBudget } from './budget/key-budget';
import type { Coordination } from './cluster/coordination';
import { RedisModalBook } from './cluster/redis-modal-book';
import { type Env, EnvError, upstreamKind } from './env';
import { ClientLimits } from './jobs/client-limits';
import { JobService } from './jobs/job-service';
import type { Scheduling } from './jobs/scheduling';
import { SharedScheduler } from './jobs/shared-scheduler';
import { UploadService } from './jobs/upload-service';
import { UpstreamScheduler } from './jobs/upstream-scheduler';
import { WebhookIntake } from './jobs/webhook-intake';
import { createLogger } from './logger';
import { MediaLinks } from './media/media-links';
import { DEFAULT_UPLOAD_LIMITS } from './media/upload-image';
import type { SimulatorConfig } from './simulator/config';
import type { RunningSimulator } from './simulator/server';
import { ImageFiles } from './store/image-files';
import type { JobStore } from './store/job-store';
import { SqliteJobStore } from './store/sqlite-job-store';
import type { UpstreamAdapter } from './upstream/adapter';
import { createApiframeAdapter } from './upstream/apiframe-adapter';
import { UpstreamHttpClient } from './upstream/http-client';
import { createImageFetcher } from './upstream/image-fetcher';
import { createLegnextAdapter } from './upstream/legnext-adapter';
import { createMjProxyAdapter } from './upstream/mj-proxy-adapter';
import { type HostResolver, parseFetchAllow } from './upstream/safe-fetch';
import { createUseapiAdapter } from './upstream/useapi-adapter';
import { createV7Adapter } from './upstream/v7-adapter';
import { NotifyHooks } from './webhooks/notify-hooks';

/**
 * The parsed environment (DATA_DIR and CLIENT_DIST already resolved to absolute paths), and
 * the accounts of ACCOUNTS_FILE when it names some: otherwise the environment's one upstream.
 */
export type ServerConfig = Env & { accounts?: readonly AccountSpec[] | undefined };

/** What tests and benchmarks may replace; production replaces nothing. */
export interface ServerOverrides {
  now?: () => number;
  logger?: Logger;
  store?: JobStore;
  /** Where images are kept (a test on a fake clock keeps them in memory, off the disk). */
  images?: ImageFiles;
  /** Where uploads are kept. */
  uploadFiles?: ImageFiles;
  /**
   * The upstream as the configuration builds it, wrapped or replaced (a test counts its
   * calls, a benchmark plays an offline one).
   */
  upstream?: (configured: UpstreamAdapter, http: UpstreamHttpClient, account: AccountSpec) => UpstreamAdapter;
  /** The built-in simulator's behaviour beyond what the environment sets (job durations, image size). */
  simulator?: Partial<Omit<SimulatorConfig, 'apiKey'>>;
  /** How imperfect the simulator's push is (late and repeated notices). */
  simulatorPush?: { lateShare: number; duplicateShare: number; lateByMs: number };
  /** How host names in the upstream's image links resolve (a test answers without DNS). */
  resolveHost?: HostResolver;
}

export interface ComposedServer {
  app: Express;
  config: ServerConfig;
  logger: Logger;
  jobs: JobService;
  uploads: UploadService;
  /** API keys made in the studio; the /mj routes authenticate with it. */
  apiKeys: ApiKeyService;
  scheduler: Scheduling;
  /** With REDIS_URL: what this instance shares with the others (Redis). */
  coordination: Coordination | undefined;
  /** The upstream accounts: one unless ACCOUNTS_FILE lists several. */
  accounts: AccountPool;
  /** The first account's budget (the only one, without a pool). */
  budget: KeyBudget;
  store: JobStore;
  images: ImageFiles;
  /** `simulator`, `v7` or `mj-proxy`: the upstream the configuration names; `pool` with ACCOUNTS_FILE. */
  upstreamKind: ReturnType<typeof upstreamKind> | 'pool';
  /** The secret path segment of POST /hooks/mj-proxy/<token> (the single relay's). */
  relayToken: string;
  /** The built-in simulator's key for each simulator account, by account name (tests make one fail). */
  simulatorKeys: ReadonlyMap<string, string>;
  simulator: RunningSimulator | undefined;
  /**
   * Tells the parts that must reach this server over loopback (the simulator's push) where
   * it listens. `listen` calls it; call it directly when something else listens.
   */
  bindOrigin(origin: string): void;
  /** Listens on port and host, then binds the origin. */
  listen(port: number, host: string): Promise<Server>;
  /** Stops the scheduler and the simulator and closes the store (not the HTTP server). */
  close(): Promise<void>;
}

/** Planned status checks come this many times later when the upstream pushes its news. */
const PUSHED_FALLBACK_FACTOR = 3;
/** Several instances: the jobs of relay clients' hooks are read again this often, in case a message was lost. */
const HOOKS_RESYNC_MS = 10_000;
/** The most upstream calls one submission makes (a relay action: change, fetch, action, modal), and one spare. */
const SUBMISSION_CALLS_MAX = 5;
/** How far the instances' clocks may disagree (a claim's time is the claimer's). */
const CLOCK_MARGIN_MS = 5_000;
/** How long a signed link to one of our images works: a queued job is sent well within it. */
const MEDIA_LINK_TTL_MS = 24 * 60 * 60 * 1000;

export async function createServer(config: ServerConfig, overrides: ServerOverrides = {}): Promise<ComposedServer> {
  const logger = overrides.logger ?? createLogger({ level: config.LOG_LEVEL });
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = config.SESSION_SECRET ?? keptSecret(config.DATA_DIR);
  // The relay's notifyHook carries no signature: an unguessable path token stands in for one.
  const relayToken = createHmac('sha256', secret).update('mj-proxy-notify-hook').digest('base64url').slice(0, 32);
  const http = new UpstreamHttpClient({ timeoutMs: config.UPSTREAM_TIMEOUT_MS });
  const pooled = config.accounts !== undefined;
  const specs: readonly AccountSpec[] = config.accounts ?? [singleAccount(config)];
  const kind = pooled ? 'pool' : upstreamKind(config);
  const usesSimulator = specs.some((spec) => spec.kind === 'simulator');
  if (config.REDIS_URL && usesSimulator) {
    throw new EnvError(
      [
        'REDIS_URL (several instances) needs an upstream every instance reaches: the built-in simulator lives inside one process.',
        'Run it on its own (npm run simulator) and point each instance at it (UPSTREAM=v7, MIDJOURNEY_API_BASE, MIDJOURNEY_API_KEY),',
        'or name a real upstream.',
      ].join('\n'),
    );
  }
  // Several instances: budgets, limits and the scheduler's lease in Redis (loaded only then).
  const coordination = config.REDIS_URL
    ? await import('./cluster/coordination').then(({ Coordination }) =>
        Coordination.connect({ url: config.REDIS_URL ?? '', prefix: config.REDIS_PREFIX, logger }),
      )
    : undefined;
  // The protocol the built-in simulator is spoken to with; a single account's, for the rest.
  const single = pooled ? undefined : specs[0];
  const singleProtocol = single?.kind === 'simulator' ? config.SIM_PROTOCOL : single?.kind;

  // Where this server can be reached: PUBLIC_URL for a real upstream; for the simulator, this
  // server's loopback address, known once it listens (bindOrigin).
  let ownOrigin: string | undefined;
  const simPush = usesSimulator && config.SIM_PUSH === 'on';
  // The simulator signs v7 webhooks for one account only: a pool of them is followed by checks
  // (or by the relay protocol's per-task hooks).
  const simWebhookSecret =
    simPush && !pooled && singleProtocol === 'v7' ? `whsec_${randomBytes(32).toString('base64')}` : undefined;
  const simulatorKeys = new Map<string, string>();
  for (const spec of specs)
    if (spec.kind === 'simulator') simulatorKeys.set(spec.name, randomBytes(24).toString('base64url'));
  const simulator = usesSimulator
    ? await startBuiltInSimulator(config, overrides, simWebhookSecret, simPush, specs, simulatorKeys)
    : undefined;
  // Unsigned notices (a relay's notifyHook, a paid API's callback) come to a secret path per
  // account; the single relay keeps the path it always had.
  const hookTokenOf = (spec: AccountSpec) =>
    pooled
      ? createHmac('sha256', secret).update(`account-hook:${spec.name}`).digest('base64url').slice(0, 32)
      : relayToken;
  const hookUrlOf = (spec: AccountSpec): (() => string | undefined) | string | undefined => {
    const hookPath = pooled ? `/hooks/account/${hookTokenOf(spec)}` : `/hooks/mj-proxy/${relayToken}`;
    if (spec.kind === 'simulator') return () => (simPush && ownOrigin ? `${ownOrigin}${hookPath}` : undefined);
    return config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/+$/, '')}${hookPath}` : undefined;
  };
  const v7WebhookSecret = simulator ? simWebhookSecret : config.WEBHOOK_SECRET;

  const adapterOf = (spec: AccountSpec): UpstreamAdapter => {
    const secretOf = spec.kind === 'simulator' ? (simulatorKeys.get(spec.name) ?? '') : (spec.secret ?? '');
    const simulated = spec.kind === 'simulator' && simulator ? { name: 'simulator' } : {};
    const protocol = spec.kind === 'simulator' ? config.SIM_PROTOCOL : spec.kind;
    const notifyHook = hookUrlOf(spec);
    const simulatedBase = (face: string) => (simulator ? simulator.baseUrl.replace(/\/v1$/, face) : undefined);
    const baseUrl = (face: string) => (spec.kind === 'simulator' ? simulatedBase(face) : spec.baseUrl) ?? '';
    switch (protocol) {
      case 'mj-proxy':
        return createMjProxyAdapter({ baseUrl: baseUrl('/mj'), secret: secretOf, http, notifyHook, ...simulated });
      case 'useapi':
        return createUseapiAdapter({
          baseUrl: baseUrl('/useapi'),
          secret: secretOf,
          http,
          webhookUrl: notifyHook,
          ...(spec.channel ? { channel: spec.channel } : {}),
          ...simulated,
        });
      case 'legnext':
        return createLegnextAdapter({
          baseUrl: baseUrl('/legnext'),
          secret: secretOf,
          http,
          webhookUrl: notifyHook,
          ...simulated,
        });
      case 'apiframe':
        return createApiframeAdapter({
          baseUrl: baseUrl('/apiframe'),
          secret: secretOf,
          http,
          webhookUrl: notifyHook,
          ...simulated,
        });
      default:
        return createV7Adapter({
          baseUrl: spec.kind === 'simulator' ? baseUrl('/v1') : (spec.baseUrl ?? config.MIDJOURNEY_API_BASE),
          apiKey: secretOf,
          http,
          ...simulated,
        });
    }
  };

  const now = overrides.now ?? Date.now;
  const accounts = new AccountPool(
    specs.map((spec): Account => {
      const configured = adapterOf(spec);
      return {
        spec,
        baseUrl: overrides.upstream
          ? undefined
          : ((spec.kind === 'simulator' ? simulator?.baseUrl : spec.baseUrl) ?? config.MIDJOURNEY_API_BASE),
        adapter: overrides.upstream ? overrides.upstream(configured, http, spec) : configured,
        budget: new KeyBudget({
          limit: spec.perMinute,
          windowMs: config.BUDGET_WINDOW_MS,
          burst: config.BUDGET_BURST,
          ...(coordination
            ? { shared: { redis: coordination.redis, key: coordination.key(`budget:${spec.name}`) } }
            : {}),
        }),
        health: new AccountHealth(spec.enabled),
      };
    }),
    { pooled },
  );
  const first = accounts.first;
  // With webhooks, planned checks are only a fallback. A pool is pushed only when all of it is.
  const pushed = accounts
    .all()
    .every(({ spec, adapter }) =>
      (spec.kind === 'simulator' ? config.SIM_PROTOCOL : spec.kind) === 'v7'
        ? Boolean(v7WebhookSecret) && !pooled
        : spec.kind === 'simulator'
          ? simPush
          : Boolean(adapter.parseWebhook && hookUrlOf(spec)),
    );

  // A relay's imagine is a grid; the v7 contract's, one image.
  const storeOptions = { legacyImagineOutput: first.adapter.imagineOutput ?? 'image' } as const;
  const store: JobStore =
    overrides.store ??
    (config.DATABASE_URL
      ? new (await loadPgJobStore())(config.DATABASE_URL, storeOptions)
      : new SqliteJobStore(path.join(config.DATA_DIR, 'jobs.sqlite'), storeOptions));
  // With several instances DATA_DIR is one shared folder: another instance may be writing in it.
  const sharedFiles = { shared: coordination !== undefined };
  const images = overrides.images ?? new ImageFiles(path.join(config.DATA_DIR, 'images'), sharedFiles);
  const uploads = new UploadService({
    store,
    files: overrides.uploadFiles ?? new ImageFiles(path.join(config.DATA_DIR, 'uploads'), sharedFiles),
    images,
    // The built-in simulator fetches over loopback; a real upstream needs our public address.
    links: new MediaLinks({
      secret,
      origin: () => (simulator && specs.every((spec) => spec.kind === 'simulator') ? ownOrigin : config.PUBLIC_URL),
      ttlMs: MEDIA_LINK_TTL_MS,
      now,
    }),
    limits: { ...DEFAULT_UPLOAD_LIMITS, maxBytes: config.UPLOAD_MAX_BYTES },
    now,
  });
  const jobs = new JobService({
    store,
    images,
    uploads,
    accounts,
    fetcher: createImageFetcher(http, config.IMAGE_MAX_BYTES, {
      // Links on an upstream's own host are trusted wherever it runs (the simulator: loopback).
      upstreamBases: [
        ...(simulator ? [simulator.baseUrl] : []),
        ...specs.flatMap((spec) => (spec.kind !== 'simulator' && spec.baseUrl ? [spec.baseUrl] : [])),
      ],
      allow: parseFetchAllow(config.UPSTREAM_FETCH_ALLOW),
      logger,
      videoMaxBytes: config.VIDEO_MAX_BYTES,
      ...(overrides.resolveHost ? { resolve: overrides.resolveHost } : {}),
    }),
    logger,
    deadlineMs: config.JOB_DEADLINE_MS,
    now,
  });
  const schedulerOptions = {
    minGapMs: config.MIN_CHECK_GAP_MS,
    maxGapMs: config.MAX_CHECK_GAP_MS,
    // The simulator's own numbers are known; a real upstream's are learnt as jobs finish.
    expectedDurationMs: simulator
      ? (simulator.engine.config.queueMs + simulator.engine.config.renderMs) * simulator.engine.config.timeFactor
      : config.EXPECTED_JOB_MS,
    queueMax: config.SUBMIT_QUEUE_MAX,
    // Look a little after a predicted finish: a quarter of the shortest gap between checks.
    finishMarginMs: config.MIN_CHECK_GAP_MS / 4,
    fallbackFactor: pushed ? PUSHED_FALLBACK_FACTOR : 1,
    now,
  };
  const makeScheduler = () => new UpstreamScheduler(jobs, accounts.all(), logger, schedulerOptions);
  const scheduler: Scheduling = coordination
    ? new SharedScheduler({
        service: jobs,
        accounts: accounts.all(),
        coordinator: coordination,
        logger,
        makeScheduler,
        queueMax: config.SUBMIT_QUEUE_MAX,
        // Longer than a submission can take (a relay's action is up to four calls, each with
        // its time-out), and a margin for the hosts' clocks.
        abandonAfterMs: SUBMISSION_CALLS_MAX * config.UPSTREAM_TIMEOUT_MS + CLOCK_MARGIN_MS,
        now,
      })
    : makeScheduler();

  // Relay clients' notifyHooks, through the same address checks as upstream links, with an
  // allow-list of their own (hooks come from clients, not from the upstream).
  const notifyHooks = new NotifyHooks({
    logger,
    allow: parseFetchAllow(config.NOTIFY_HOOK_ALLOW),
    timeoutMs: Math.min(config.UPSTREAM_TIMEOUT_MS, 5_000),
    ...(overrides.resolveHost ? { resolve: overrides.resolveHost } : {}),
  });

  // Keyed with the cookies' secret: one server secret, and no key outlives it; nor does a key
  // outlive the access token its creator signed in with.
  const apiKeys = new ApiKeyService({ store, secret, token: config.ACCESS_TOKEN, now });

  if (scheduler instanceof UpstreamScheduler) {
    const interrupted = jobs.recoverInterrupted();
    const resumed = jobs.listActive().length;
    if (interrupted || resumed) logger.info({ interrupted, resumed }, 'recovered jobs from the previous run');
    scheduler.resume();
  }
  // Several instances: the one that takes the scheduler's lease recovers and resumes.
  scheduler.start();

  const app = createApp({
    ...(coordination
      ? { modals: new RedisModalBook(coordination.redis, config.REDIS_PREFIX), hooksResyncMs: HOOKS_RESYNC_MS }
      : {}),
    jobs,
    uploads,
    scheduler,
    logger,
    now,
    limits: new ClientLimits(jobs, {
      submitsPerMinute: config.SUBMITS_PER_MINUTE_PER_CLIENT,
      submitsPerMinutePerAddress: config.SUBMITS_PER_MINUTE_PER_ADDRESS,
      runningJobs: config.RUNNING_JOBS_PER_CLIENT,
      newOwnersPerHourPerAddress: config.NEW_OWNERS_PER_HOUR_PER_ADDRESS,
      ...(coordination ? { limiters: coordination.limiters } : {}),
    }),
    sessions: new SessionService({ store, token: config.ACCESS_TOKEN, secret, remember: !coordination, now }),
    apiKeys,
    notifyHooks,
    cookieSecret: secret,
    security: {
      accessToken: config.ACCESS_TOKEN,
      publicUrl: config.PUBLIC_URL,
      allowedOrigins: splitList(config.CORS_ORIGINS),
      trustProxy: config.TRUST_PROXY,
      signInAttempts: config.SIGN_IN_ATTEMPTS,
      ...(coordination ? { limiters: coordination.limiters } : {}),
      hosts: {
        allowedHosts: splitList(config.ALLOWED_HOSTS),
        publicUrl: config.PUBLIC_URL,
        listenHost: config.HOST,
      },
    },
    webhooks: {
      v7:
        !pooled && singleProtocol === 'v7' && v7WebhookSecret
          ? { intake: new WebhookIntake(jobs, scheduler, first), secret: v7WebhookSecret }
          : undefined,
      tokens: accounts
        .all()
        .filter(
          ({ spec, adapter }) =>
            adapter.parseWebhook && (spec.kind === 'simulator' ? config.SIM_PROTOCOL : spec.kind) !== 'v7',
        )
        .map((account) => ({ token: hookTokenOf(account.spec), intake: new WebhookIntake(jobs, scheduler, account) }))
        // Tasks a single relay was given before the pool still name its older hook path: the
        // pool's first account (which inherits those jobs) answers it.
        .concat(
          pooled && first.adapter.parseWebhook
            ? [{ token: relayToken, intake: new WebhookIntake(jobs, scheduler, first) }]
            : [],
        ),
    },
    ...(config.CLIENT_DIST ? { clientDist: config.CLIENT_DIST } : {}),
  });

  let bound = false;
  const bindOrigin = (origin: string) => {
    ownOrigin = origin;
    if (bound || !simulator?.notifier) return;
    bound = true;
    simulator.notifier.resume(simWebhookSecret ? { v7Url: `${origin}/hooks/v7` } : {});
  };

  return {
    app,
    config,
    logger,
    jobs,
    uploads,
    apiKeys,
    scheduler,
    coordination,
    accounts,
    budget: first.budget,
    store,
    images,
    upstreamKind: kind,
    relayToken,
    simulatorKeys,
    simulator,
    bindOrigin,
    async listen(port, host) {
      const server: Server = await new Promise((resolve, reject) => {
        const listening = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
      });
      bindOrigin(loopbackOrigin(server.address() as AddressInfo));
      return server;
    },
    async close() {
      scheduler.stop();
      await notifyHooks.close();
      await simulator?.close();
      await coordination?.close();
      store.close();
    },
  };
}

/**
 * The PostgreSQL store, loaded only with DATABASE_URL. Its client (pg-native, compiled against
 * libpq) is an optional dependency: a machine without libpq's headers still installs and runs
 * the default mode, and is told here what DATABASE_URL needs.
 */
async function loadPgJobStore() {
  try {
    return (await import('./store/pg-job-store')).PgJobStore;
  } catch (error) {
    const missing = error instanceof Error && /pg-native|libpq/.test(error.message);
    if (!missing) throw error;
    throw new EnvError(
      'DATABASE_URL needs the PostgreSQL client, which was not installed: install libpq and its headers (Debian: apt-get install libpq-dev), then run npm ci again',
    );
  }
}

/** A comma-separated setting as its trimmed, non-empty entries. */
const splitList = (value: string | undefined): string[] =>
  value
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean) ?? [];

/** How this machine reaches a listening socket, whatever address it listens on for others. */
function loopbackOrigin(address: AddressInfo): string {
  const unspecified = address.address === '0.0.0.0' || address.address === '::';
  const host = unspecified ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** The cookie-signing secret when SESSION_SECRET is not set: made once and kept in DATA_DIR. */
function keptSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  // Another instance may be writing it this very moment: an empty file is read again, briefly.
  const readWhole = (): string => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const text = readFileSync(file, 'utf8').trim();
      if (text) return text;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    throw new Error(`${file} is empty: remove it (or set SESSION_SECRET) and start again`);
  };
  if (existsSync(file)) return readWhole();
  // Written whole under a name of its own, then linked into place: another instance on the
  // same DATA_DIR either finds no file or the whole secret, and the first link wins.
  const secret = randomBytes(32).toString('base64url');
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, secret, { mode: 0o600, flag: 'wx' });
  const code = (error: unknown) => (error instanceof Error && 'code' in error ? error.code : undefined);
  try {
    linkSync(temporary, file);
    return secret;
  } catch (error) {
    if (code(error) === 'EEXIST') return readWhole();
    // A file system without hard links (FAT, some network mounts): an exclusive write instead.
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(String(code(error)))) throw error;
    try {
      writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
      return secret;
    } catch (again) {
      if (code(again) === 'EEXIST') return readWhole();
      throw again;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * The built-in upstream on its own loopback port, reached over real HTTP through the same
 * adapter as the real one. With push, it announces job changes like a real sender: signed
 * v7 webhooks, or the relay's notifyHook; a few late or repeated, as real senders do.
 */
async function startBuiltInSimulator(
  config: ServerConfig,
  overrides: ServerOverrides,
  v7Secret: string | undefined,
  push: boolean,
  specs: readonly AccountSpec[],
  keys: ReadonlyMap<string, string>,
): Promise<RunningSimulator> {
  // Loaded only when used: a server speaking to a real upstream never holds the simulator
  // (nor its PNG painter) in memory.
  const [{ DEFAULT_BLOCKED_WORDS, simulatorConfig }, { startSimulator }, { sqliteSimPersistence }] = await Promise.all([
    import('./simulator/config'),
    import('./simulator/server'),
    import('./simulator/sim-store'),
  ]);
  // One key per simulator account, each with its own rate limit: the account's, in a pool.
  const accounts = specs.flatMap((spec) => {
    const key = keys.get(spec.name);
    return key ? [{ key, rateLimit: config.accounts ? spec.perMinute : config.SIM_RATE_LIMIT }] : [];
  });
  return startSimulator(
    simulatorConfig({
      apiKey: accounts[0]?.key ?? randomBytes(24).toString('base64url'),
      keys: accounts,
      timeFactor: config.SIM_TIME_FACTOR,
      failureRate: config.SIM_FAILURE_RATE,
      rateLimit: config.SIM_RATE_LIMIT,
      blockedWords:
        config.SIM_BLOCKED_WORDS?.split(',')
          .map((word) => word.trim())
          .filter(Boolean) ?? DEFAULT_BLOCKED_WORDS,
      ...overrides.simulator,
    }),
    {
      port: config.SIM_PORT,
      deps: { persistence: sqliteSimPersistence(path.join(config.DATA_DIR, 'simulator.sqlite')) },
      ...(push
        ? {
            notify: {
              ...(v7Secret ? { v7: { url: '', secret: v7Secret } } : {}),
              // Imperfect on purpose, like real senders: a few notices late or repeated.
              ...(overrides.simulatorPush ?? { lateShare: 0.05, duplicateShare: 0.05, lateByMs: 2_000 }),
            },
          }
        : {}),
    },
  );
}
