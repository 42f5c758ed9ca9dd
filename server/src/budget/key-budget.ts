// One upstream key's request budget, shared by submissions and status checks.
//
// rate-limiter-flexible counts in fixed windows, and a fixed window of L per minute lets 2L
// through around its edge. So the budget is cut into short windows of `burst` calls each,
// sized so that ANY sliding window (not just aligned ones) stays within the key's limit: a
// sliding window of length W meets at most W/D + 1 short windows of length D, so with
// D = W * burst / E and E = limit - burst (rounded down to a multiple of burst), no sliding
// window sees more than E + burst <= limit calls, while E calls per window get through.
// With `shared` (several instances), the short windows are counted in Redis by the same
// limiter, so the proof holds for the calls of every instance together; a 429's pause and the
// log of recent calls are kept there too, so an instance taking over the scheduling knows
// what the others already spent. The proof then counts grants on Redis's clock, and needs
// Redis to keep the window keys while they live (no eviction of them: `noeviction`, or a
// Redis of the studio's own); a restarted Redis forgets at most the windows then open.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRes } from '../rate-limiter';

export interface BudgetOptions {
  /** Calls the upstream allows per window (60 per minute for the v7 contract). */
  limit: number;
  windowMs: number;
  /** Calls allowed back to back; also the safety margin kept below the limit. */
  burst: number;
  now?: () => number;
  /** One key's budget for several instances: counted in Redis under `key` (a prefix of its own). */
  shared?: { redis: Redis; key: string };
}

export type TakeResult = { ok: true } | { ok: false; waitMs: number };

const KEY = 'upstream-key';
/** How long to wait for a call when the shared count cannot be read. */
const SHARED_RETRY_MS = 1_000;

/**
 * One call in one round trip, to the millisecond: refused while a 429's pause (KEYS[2]) lives,
 * or while the short window (KEYS[1]: the same fixed window as the memory limiter, opened at
 * its first call) is full, without counting; otherwise counted, and logged in the window's
 * calls (KEYS[3]) that a new holder reads back. (rate-limiter-flexible's Redis store counts
 * whole seconds: it rounds a 2.07 s window down to 2 s, which breaks the proof above, and keeps
 * a window under 1 s for ever.) Answers {1: counted, 0: full, 2: paused; ms to wait}.
 * ARGV: short window ms, burst, the call's time, a unique member, the whole window ms.
 */
const SHORT_WINDOW_SCRIPT = `local paused = redis.call('pttl', KEYS[2])
if paused > 0 then
  return {2, paused}
end
local calls = tonumber(redis.call('get', KEYS[1]) or '0')
if calls >= tonumber(ARGV[2]) then
  return {0, redis.call('pttl', KEYS[1])}
end
if redis.call('incr', KEYS[1]) == 1 then
  redis.call('pexpire', KEYS[1], ARGV[1])
end
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
redis.call('zremrangebyscore', KEYS[3], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[5]))
redis.call('pexpire', KEYS[3], ARGV[5])
return {1, redis.call('pttl', KEYS[1])}`;

export class KeyBudget {
  readonly limit: number;
  readonly windowMs: number;
  /** Calls per window this budget actually lets through. */
  readonly effective: number;
  readonly #limiter: RateLimiterMemory;
  readonly #burst: number;
  readonly #shortWindowMs: number;
  readonly #now: () => number;
  readonly #recent: number[] = [];
  readonly #shared: BudgetOptions['shared'];
  #pausedUntil = 0;

  constructor(options: BudgetOptions) {
    const burst = Math.max(1, Math.min(options.burst, Math.floor(options.limit / 2)));
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.effective = Math.floor((options.limit - burst) / burst) * burst;
    if (this.effective < 1) throw new Error('The budget limit is too small for its burst');
    const shortWindowMs = (options.windowMs * burst) / this.effective;
    this.#shared = options.shared;
    this.#burst = burst;
    this.#shortWindowMs = shortWindowMs;
    this.#limiter = new RateLimiterMemory({ points: burst, duration: shortWindowMs / 1000 });
    this.#now = options.now ?? Date.now;
  }

  /** Takes one call from the budget if it has one now; otherwise says how long to wait. */
  async tryTake(): Promise<TakeResult> {
    const pausedFor = this.#pausedUntil - this.#now();
    if (pausedFor > 0) return { ok: false, waitMs: pausedFor };
    const at = this.#now();
    try {
      if (this.#shared) {
        const waitMs = await this.#takeShared(this.#shared, at);
        if (waitMs !== undefined) return { ok: false, waitMs };
      } else {
        await this.#limiter.consume(KEY, 1);
      }
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { ok: false, waitMs: Math.max(1, rejection.msBeforeNext) };
      // Redis unreachable: no call is counted, so none is made (never over the limit).
      if (this.#shared) return { ok: false, waitMs: SHARED_RETRY_MS };
      throw rejection;
    }
    this.#recent.push(at);
    return { ok: true };
  }

  /** After an upstream 429 nobody may call until its Retry-After has passed. */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
    if (this.#shared && ms > 0) {
      const { redis, key } = this.#shared;
      // The pause is the key's time to live, so other hosts' clocks do not matter.
      void redis.set(`${key}:paused`, '1', 'PX', Math.ceil(this.#pausedUntil - this.#now())).catch(() => undefined);
    }
  }

  /**
   * Learns what the other instances spent in the last window (their calls' log), so that
   * one taking over the scheduling does not plan as if the window were empty.
   */
  async catchUp(): Promise<void> {
    if (!this.#shared) return;
    const { redis, key } = this.#shared;
    const since = this.#now() - this.windowMs;
    const scores = await redis.zrangebyscore(`${key}:calls`, since + 1, '+inf', 'WITHSCORES');
    const times = scores.filter((_, index) => index % 2 === 1).map(Number);
    // The log holds this instance's calls too (it may lag a write or two behind them).
    const mine = this.#recent.filter((at) => at > since);
    this.#recent.length = 0;
    this.#recent.push(...(times.length >= mine.length ? times.sort((a, b) => a - b) : mine));
    await this.#readSharedPause(this.#shared);
  }

  /**
   * Counts one call in the shared short window (and its log); answers how long to wait when
   * the window is full or another instance's 429 paused the key.
   */
  async #takeShared({ redis, key }: NonNullable<BudgetOptions['shared']>, at: number): Promise<number | undefined> {
    const answer: unknown = await redis.eval(
      SHORT_WINDOW_SCRIPT,
      3,
      `${key}:window`,
      `${key}:paused`,
      `${key}:calls`,
      String(Math.ceil(this.#shortWindowMs)),
      String(this.#burst),
      String(at),
      `${at}:${Math.random().toString(36).slice(2, 10)}`,
      String(this.windowMs),
    );
    if (!Array.isArray(answer) || typeof answer[0] !== 'number' || typeof answer[1] !== 'number') {
      throw new Error('Redis answered the budget script with something else');
    }
    const [outcome, waitMs] = answer;
    if (outcome === 1) return undefined;
    if (outcome === 2) this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + waitMs);
    return Math.max(1, waitMs);
  }

  async #readSharedPause({ redis, key }: NonNullable<BudgetOptions['shared']>): Promise<void> {
    const left = await redis.pttl(`${key}:paused`);
    if (left > 0) this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + left);
  }

  get pausedUntil(): number | undefined {
    return this.#pausedUntil > this.#now() ? this.#pausedUntil : undefined;
  }

  /** Calls taken in the last window, for the UI and the benchmark. */
  usedInWindow(): number {
    const since = this.#now() - this.windowMs;
    while (this.#recent.length > 0 && (this.#recent[0] ?? 0) <= since) this.#recent.shift();
    return this.#recent.length;
  }

  /** The average gap between calls when the budget is the bottleneck. */
  get intervalMs(): number {
    return this.windowMs / this.effective;
  }
}
