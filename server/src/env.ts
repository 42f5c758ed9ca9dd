// The server's whole configuration: process.env parsed once at start-up by one zod schema,
// so a wrong value stops the server with a message naming the variable.
import { z } from 'zod';
import { unreadableHosts } from './http/host-allow-list';
import { fetchAllowProblem } from './upstream/safe-fetch';

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

/** A comma-separated allow-list of host names, IPs or CIDR ranges, each checked. */
const allowList = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = fetchAllowProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
);
const int = (fallback: number, min: number, max: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const num = (fallback: number, min: number, max: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().min(min).max(max).default(fallback));

export const envSchema = z.object({
  PORT: int(3000, 0, 65535),
  HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** Which upstream: the built-in simulator, the v7 REST contract, or a midjourney-proxy relay. */
  UPSTREAM: z.preprocess(emptyAsUndefined, z.enum(['simulator', 'v7', 'mj-proxy']).optional()),
  MIDJOURNEY_API_KEY: optionalString,
  /** A JSON file listing several upstream accounts (a pool); replaces the single-account settings. */
  ACCOUNTS_FILE: optionalString,
  MJ_PROXY_BASE: z.preprocess(
    emptyAsUndefined,
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ),
  MJ_PROXY_SECRET: optionalString,
  /** The v7 upstream's Standard Webhooks secret (whsec_…): enables POST /hooks/v7. */
  WEBHOOK_SECRET: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^(whsec_)?[A-Za-z0-9+/]{16,}={0,2}$/, 'must be a base64 secret, optionally after whsec_')
      .optional(),
  ),
  /** Where the upstream can reach this server, for the midjourney-proxy notifyHook. */
  PUBLIC_URL: z.preprocess(
    emptyAsUndefined,
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ),
  /** The protocol the built-in simulator is spoken to with. */
  // The relay face by default: grids of four and every V7 action, out of the box.
  SIM_PROTOCOL: z.preprocess(
    emptyAsUndefined,
    z.enum(['v7', 'mj-proxy', 'useapi', 'legnext', 'apiframe']).default('mj-proxy'),
  ),
  MIDJOURNEY_API_BASE: z.preprocess(
    emptyAsUndefined,
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.midjourney.com/v1'),
  ),
  UPSTREAM_TIMEOUT_MS: int(15_000, 100, 15_000),
  IMAGE_MAX_BYTES: int(20 * 1024 * 1024, 1024, 200 * 1024 * 1024),
  /** The largest video clip kept from an upstream (Midjourney's 5-21 s clips are a few MB). */
  VIDEO_MAX_BYTES: int(64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  /** The largest image a user may upload as input (its pixels are bounded too). */
  UPLOAD_MAX_BYTES: int(10 * 1024 * 1024, 1024, 50 * 1024 * 1024),
  /** Host names, IPs or CIDR ranges the upstream's image links may point at although not public. */
  UPSTREAM_FETCH_ALLOW: allowList,
  /**
   * Host names, IPs or CIDR ranges a relay client's notifyHook may reach although not public
   * (apart from UPSTREAM_FETCH_ALLOW: hooks come from clients, image links from the upstream).
   */
  NOTIFY_HOOK_ALLOW: allowList,
  CLIENT_DIST: optionalString,
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./data')),
  ACCESS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  ALLOW_OPEN_ACCESS: z.preprocess(emptyAsUndefined, z.enum(['true', 'false']).default('false')),
  CORS_ORIGINS: optionalString,
  TRUST_PROXY: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine(
        (value) => value.trim() !== 'true',
        "true trusts every hop, so any client could forge its address in X-Forwarded-For; use a hop count (1), loopback, or the proxy's addresses",
      )
      .optional(),
  ),
  SUBMITS_PER_MINUTE_PER_CLIENT: int(20, 1, 100_000),
  /** Submissions a minute from one client address, whatever owner cookies it sends. */
  SUBMITS_PER_MINUTE_PER_ADDRESS: int(20, 1, 100_000),
  /** New owners (requests without an owner cookie) one address may start in an hour. */
  NEW_OWNERS_PER_HOUR_PER_ADDRESS: int(60, 1, 1_000_000),
  /** Host names answered besides loopback names, PUBLIC_URL's and HOST's: comma-separated, or `*`. */
  ALLOWED_HOSTS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .optional()
      .superRefine((value, context) => {
        const bad = unreadableHosts(
          (value ?? '')
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean),
        );
        if (bad.length > 0)
          context.addIssue({
            code: 'custom',
            message: `cannot read ${bad.map((entry) => `"${entry}"`).join(', ')} as a host name`,
          });
      }),
  ),
  RUNNING_JOBS_PER_CLIENT: int(10, 1, 100_000),
  /** Sign-in attempts allowed per client address in 15 minutes. */
  SIGN_IN_ATTEMPTS: int(10, 1, 10_000),
  SESSION_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  JOB_DEADLINE_MS: int(10 * 60_000, 1_000, 24 * 60 * 60_000),
  BUDGET_PER_MINUTE: int(60, 2, 100_000),
  BUDGET_BURST: int(2, 1, 1_000),
  BUDGET_WINDOW_MS: int(60_000, 100, 60 * 60_000),
  SUBMIT_QUEUE_MAX: int(50, 0, 10_000),
  EXPECTED_JOB_MS: int(30_000, 100, 10 * 60_000),
  MIN_CHECK_GAP_MS: int(1_000, 50, 60_000),
  MAX_CHECK_GAP_MS: int(60_000, 1_000, 60 * 60_000),
  SIM_PORT: int(0, 0, 65535),
  SIM_TIME_FACTOR: num(1, 0.001, 100),
  SIM_FAILURE_RATE: num(0.08, 0, 1),
  SIM_RATE_LIMIT: int(60, 1, 100_000),
  SIM_BLOCKED_WORDS: optionalString,
  SIM_PUSH: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('on')),
  /** The job store in PostgreSQL instead of SQLite in DATA_DIR (several instances share it). */
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .optional(),
  ),
  /** Budgets, limits and the scheduler's work shared in Redis: several instances behind one address. */
  REDIS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
  ),
  /** Prefix of every Redis key (two studios on one Redis keep apart). */
  REDIS_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, colons, dashes and underscores, at most 64')
      .default('mj-studio:'),
  ),
});
export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {}

/** The upstream in use: UPSTREAM when set, else v7 with a key, else the simulator. */
export function upstreamKind(env: Pick<Env, 'UPSTREAM' | 'MIDJOURNEY_API_KEY'>): 'simulator' | 'v7' | 'mj-proxy' {
  return env.UPSTREAM ?? (env.MIDJOURNEY_API_KEY ? 'v7' : 'simulator');
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) {
    const kind = upstreamKind(result.data);
    if (kind === 'v7' && !result.data.MIDJOURNEY_API_KEY) {
      throw new EnvError('Invalid environment configuration:\n  MIDJOURNEY_API_KEY: required when UPSTREAM=v7');
    }
    if (kind === 'mj-proxy' && !result.data.MJ_PROXY_BASE) {
      throw new EnvError('Invalid environment configuration:\n  MJ_PROXY_BASE: required when UPSTREAM=mj-proxy');
    }
    if (result.data.REDIS_URL && !result.data.DATABASE_URL) {
      throw new EnvError(
        'Invalid environment configuration:\n  REDIS_URL: several instances share one history: set DATABASE_URL too',
      );
    }
    return result.data;
  }
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new EnvError(`Invalid environment configuration:\n${lines.join('\n')}`);
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * A server holding a paid key must not become an open relay by accident: listening beyond
 * loopback needs an ACCESS_TOKEN, or an explicit ALLOW_OPEN_ACCESS=true. Answers the refusal.
 */
export function exposureProblem(env: Pick<Env, 'HOST' | 'ACCESS_TOKEN' | 'ALLOW_OPEN_ACCESS'>): string | undefined {
  if (LOOPBACK.test(env.HOST) || env.ACCESS_TOKEN || env.ALLOW_OPEN_ACCESS === 'true') return undefined;
  return [
    `HOST=${env.HOST} makes mj-studio reachable from other machines, and no ACCESS_TOKEN is set:`,
    'anyone who finds it could spend your Midjourney key. Either',
    '  set ACCESS_TOKEN to a long random secret (for example: openssl rand -base64 32), or',
    '  set ALLOW_OPEN_ACCESS=true if something in front of it (a VPN, an authenticating proxy) already guards it.',
  ].join('\n');
}
