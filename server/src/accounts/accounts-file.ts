// The upstream accounts as configuration: ACCOUNTS_FILE's JSON read by one zod schema at
// start-up (a wrong entry stops the server naming the entry and the field, never a secret's
// value), or the single-account settings of the environment read as a pool of one.
import { readFileSync } from 'node:fs';
import { SPEEDS, type Speed } from '@shared/schemas/params-values';
import { z } from 'zod';
import { type Env, EnvError, upstreamKind } from '../env';

export const ACCOUNT_KINDS = ['simulator', 'v7', 'mj-proxy', 'useapi', 'legnext', 'apiframe'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** The paid APIs' own addresses: their base_url may be left out. */
export const PAID_API_BASES: Partial<Record<AccountKind, string>> = {
  useapi: 'https://api.useapi.net',
  legnext: 'https://api.legnext.ai',
  apiframe: 'https://api.apiframe.ai',
};

/** One account, resolved: its secret read (from the environment where it said `env:NAME`). */
export interface AccountSpec {
  name: string;
  kind: AccountKind;
  /** The upstream's base URL; absent for the built-in simulator. */
  baseUrl: string | undefined;
  /** Never logged, never answered. Absent for the built-in simulator (it makes its own keys). */
  secret: string | undefined;
  /** The account's own request budget: calls per minute, submissions and checks together. */
  perMinute: number;
  /** Jobs it may run at once (Midjourney's own concurrency limit for the plan). */
  maxRunning: number;
  /** Breaks ties between accounts with equal room: the heavier gets the job. */
  weight: number;
  /** The speed modes the account offers; a job asking for another goes elsewhere. */
  modes: readonly Speed[];
  enabled: boolean;
  /** useapi.net only: the Discord channel its jobs go to, where the account has several. */
  channel: string | undefined;
}

const ENV_SECRET = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

const entrySchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be 1-40 letters, digits, ".", "_" or "-", starting alnum'),
    kind: z.enum(ACCOUNT_KINDS),
    base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    secret: z.string().min(1, 'must not be empty').optional(),
    per_minute: z.number().int().min(2).max(100_000).default(60),
    max_running: z.number().int().min(1).max(10_000).default(10),
    weight: z.number().positive().max(1_000).default(1),
    modes: z
      .array(z.enum(SPEEDS))
      .min(1)
      .default([...SPEEDS]),
    enabled: z.boolean().default(true),
    channel: z.string().min(1).max(100).optional(),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if (entry.kind === 'simulator') return;
    if (!entry.secret) ctx.addIssue({ code: 'custom', path: ['secret'], message: `required for kind ${entry.kind}` });
    if (!entry.base_url && !PAID_API_BASES[entry.kind]) {
      ctx.addIssue({ code: 'custom', path: ['base_url'], message: `required for kind ${entry.kind}` });
    }
  });

export const accountsFileSchema = z
  .object({ accounts: z.array(entrySchema).min(1, 'must list at least one account') })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.accounts.forEach((entry, index) => {
      if (seen.has(entry.name)) {
        ctx.addIssue({ code: 'custom', path: ['accounts', index, 'name'], message: `"${entry.name}" is used twice` });
      }
      seen.add(entry.name);
    });
    if (!file.accounts.some((entry) => entry.enabled)) {
      ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'at least one account must be enabled' });
    }
  });

/** An issue's path read as a person would: `accounts[1] ("relay-b").per_minute`. */
function where(raw: unknown, path: readonly PropertyKey[]): string {
  const [top, index, ...rest] = path;
  if (top !== 'accounts' || typeof index !== 'number') return path.map(String).join('.') || '(the file)';
  const entries =
    typeof raw === 'object' && raw && 'accounts' in raw && Array.isArray(raw.accounts) ? raw.accounts : [];
  const entry: unknown = entries[index];
  const name =
    typeof entry === 'object' && entry && 'name' in entry && typeof entry.name === 'string' ? entry.name : '';
  return `accounts[${index}]${name ? ` ("${name.slice(0, 40)}")` : ''}${rest.length ? `.${rest.map(String).join('.')}` : ''}`;
}

/**
 * Reads an accounts file's text. `environment` supplies the `env:NAME` secrets. Throws an
 * EnvError naming the file, the entry and the field of every problem.
 */
export function parseAccountsFile(
  text: string,
  environment: Record<string, string | undefined>,
  file = 'ACCOUNTS_FILE',
): AccountSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // Not the parser's whole message: it quotes the text around the fault, a secret perhaps.
    const what = (error instanceof Error ? error.message : '').split(/,\s*\.\.\.|"/)[0]?.trim();
    throw new EnvError(`${file} is not valid JSON${what ? ` (${what})` : ''}`);
  }
  const result = accountsFileSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${where(raw, issue.path)}: ${issue.message}`);
    throw new EnvError(`Invalid accounts in ${file}:\n${lines.join('\n')}`);
  }
  const problems: string[] = [];
  const specs = result.data.accounts.map((entry, index): AccountSpec => {
    let secret = entry.secret;
    const reference = secret ? ENV_SECRET.exec(secret) : null;
    if (reference?.[1]) {
      secret = environment[reference[1]] || undefined;
      if (!secret) problems.push(`  accounts[${index}] ("${entry.name}").secret: ${reference[1]} is not set`);
    }
    return {
      name: entry.name,
      kind: entry.kind,
      baseUrl: entry.kind === 'simulator' ? undefined : (entry.base_url ?? PAID_API_BASES[entry.kind]),
      secret: entry.kind === 'simulator' ? undefined : secret,
      perMinute: entry.per_minute,
      maxRunning: entry.max_running,
      weight: entry.weight,
      modes: entry.modes,
      enabled: entry.enabled,
      channel: entry.channel,
    };
  });
  if (problems.length > 0) throw new EnvError(`Invalid accounts in ${file}:\n${problems.join('\n')}`);
  return specs;
}

/** Reads ACCOUNTS_FILE from disk (index.ts; the environment is the process's). */
export function loadAccountsFile(file: string, environment: Record<string, string | undefined>): AccountSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error && 'code' in error ? String(error.code) : 'unreadable';
    throw new EnvError(`ACCOUNTS_FILE ${file} cannot be read (${code})`);
  }
  return parseAccountsFile(text, environment, `ACCOUNTS_FILE ${file}`);
}

/** Runs at once: no limit on a single account's running jobs beyond the budget's own. */
const UNBOUNDED_RUNNING = 10_000;

/** Today's single-account settings (UPSTREAM, MIDJOURNEY_API_KEY, MJ_PROXY_*) as a pool of one. */
export function singleAccount(env: Env): AccountSpec {
  const kind = upstreamKind(env);
  return {
    name: kind,
    kind,
    baseUrl: kind === 'v7' ? env.MIDJOURNEY_API_BASE : kind === 'mj-proxy' ? env.MJ_PROXY_BASE : undefined,
    secret: kind === 'v7' ? env.MIDJOURNEY_API_KEY : kind === 'mj-proxy' ? env.MJ_PROXY_SECRET : undefined,
    perMinute: env.BUDGET_PER_MINUTE,
    maxRunning: UNBOUNDED_RUNNING,
    weight: 1,
    modes: [...SPEEDS],
    enabled: true,
    channel: undefined,
  };
}
