// One upstream key's request budget, shared by submissions and status checks.
//
// rate-limiter-flexible counts in fixed windows, and a fixed window of L per minute lets 2L
// through around its edge. So the budget is cut into short windows of `burst` calls each,
// sized so that ANY sliding window (not just aligned ones) stays within the key's limit: a
// sliding window of length W meets at most W/D + 1 short windows of length D, so with
// D = W * burst / E and E = limit - burst (rounded down to a multiple of burst), no sliding
// window sees more than E + burst <= limit calls, while E calls per window get through.
// The same limiter API has Redis and Postgres implementations, for several server
// instances sharing one key later.
import { RateLimiterMemory, RateLimiterRes } from '../rate-limiter';

export interface BudgetOptions {
  /** Calls the upstream allows per window (60 per minute for the v7 contract). */
  limit: number;
  windowMs: number;
  /** Calls allowed back to back; also the safety margin kept below the limit. */
  burst: number;
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; waitMs: number };

const KEY = 'upstream-key';

export class KeyBudget {
  readonly limit: number;
  readonly windowMs: number;
  /** Calls per window this budget actually lets through. */
  readonly effective: number;
  readonly #limiter: RateLimiterMemory;
  readonly #now: () => number;
  readonly #recent: number[] = [];
  #pausedUntil = 0;

  constructor(options: BudgetOptions) {
    const burst = Math.max(1, Math.min(options.burst, Math.floor(options.limit / 2)));
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.effective = Math.floor((options.limit - burst) / burst) * burst;
    if (this.effective < 1) throw new Error('The budget limit is too small for its burst');
    const shortWindowMs = (options.windowMs * burst) / this.effective;
    this.#limiter = new RateLimiterMemory({ points: burst, duration: shortWindowMs / 1000 });
    this.#now = options.now ?? Date.now;
  }

  /** Takes one call from the budget if it has one now; otherwise says how long to wait. */
  async tryTake(): Promise<TakeResult> {
    const pausedFor = this.#pausedUntil - this.#now();
    if (pausedFor > 0) return { ok: false, waitMs: pausedFor };
    try {
      await this.#limiter.consume(KEY, 1);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { ok: false, waitMs: Math.max(1, rejection.msBeforeNext) };
      throw rejection;
    }
    this.#recent.push(this.#now());
    return { ok: true };
  }

  /** After an upstream 429 nobody may call until its Retry-After has passed. */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
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
