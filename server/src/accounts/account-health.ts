// Whether one upstream account is in rotation. Refused credentials, an account that cannot
// work (out of credits, banned, a CAPTCHA or a moderation message waiting), time-outs in a
// row or nothing but 429s take it out with the reason; it is probed again after a backoff
// that doubles each time it goes down (reset only once it accepts a submission again), and
// comes back at its first good answer. A single 429 only pauses its budget (key-budget.ts).
import { UpstreamError } from '../errors';

/** `suspect`: a call just failed to arrive; no submission goes there until one succeeds. */
export type AccountState = 'ready' | 'suspect' | 'down' | 'disabled';
export type AccountCall = 'submit' | 'check' | 'probe';

/** Time-outs or unreachable answers in a row that take an account out of rotation. */
const FAILURES_IN_A_ROW = 3;
/** 429s in a row (none of its calls answered) that take an account out of rotation. */
const REFUSALS_IN_A_ROW = 6;
const FIRST_PROBE_MS = 5_000;
const MAX_PROBE_MS = 5 * 60_000;
/** Kinds of failure that speak of the account (only these are shown as its last error). */
const ACCOUNT_KINDS: ReadonlySet<string> = new Set(['auth', 'account', 'timeout', 'unavailable', 'rate_limited']);

export class AccountHealth {
  readonly #now: () => number;
  readonly #enabled: boolean;
  #down: { reason: string; since: number } | undefined;
  #lastError: { message: string; at: number } | undefined;
  #failures = 0;
  #refusals = 0;
  #backoffMs = FIRST_PROBE_MS;
  #nextProbeAt = 0;

  constructor(enabled: boolean, now: () => number = Date.now) {
    this.#enabled = enabled;
    this.#now = now;
  }

  get state(): AccountState {
    if (!this.#enabled) return 'disabled';
    if (this.#down) return 'down';
    return this.#failures > 0 ? 'suspect' : 'ready';
  }

  /**
   * Whether new work may go to this account. After a time-out it takes no submission until a
   * call succeeds again (a submission that times out may or may not have run, so none is
   * risked on an account that has just stopped answering); checks and probes go on.
   */
  get inRotation(): boolean {
    return this.state === 'ready';
  }

  get reason(): string | undefined {
    return this.#down?.reason;
  }

  /** The last failure that spoke of the account (never a refusal of one job's content). */
  get lastError(): { message: string; at: number } | undefined {
    return this.#lastError;
  }

  /** When an account out of rotation should be tried again (undefined while it is in rotation). */
  get nextProbeAt(): number | undefined {
    const state = this.state;
    return state === 'down' || state === 'suspect' ? this.#nextProbeAt : undefined;
  }

  /**
   * A call the account answered as it should. A probe puts a down account back in rotation
   * (the backoff stays, in case it fails again at once); an accepted submission also resets
   * the backoff. A status check only shows the account answers: it cannot tell that
   * submissions would be taken again (a CAPTCHA blocks those alone), so it changes no state.
   */
  succeeded(call: AccountCall): void {
    this.#failures = 0;
    this.#refusals = 0;
    if (call === 'check') return;
    this.#down = undefined;
    if (call === 'submit') this.#backoffMs = FIRST_PROBE_MS;
  }

  /**
   * A failed call. Answers whether it took the account out of rotation just now. Refusals
   * about the job itself (content, a bad request, an unknown job) say nothing of the account.
   * While it is down, only a failed probe pushes the next probe further out.
   */
  failed(error: unknown, call: AccountCall): boolean {
    const now = this.#now();
    if (!(error instanceof UpstreamError) || !ACCOUNT_KINDS.has(error.kind)) {
      if (error instanceof UpstreamError) this.#failures = 0;
      return false;
    }
    this.#lastError = { message: error.message, at: now };
    if (this.#down) {
      if (call === 'probe') this.#scheduleProbe(now);
      return false;
    }
    let reason: string | undefined;
    if (error.kind === 'auth') reason = `credentials refused: ${error.message}`;
    else if (error.kind === 'account') reason = error.message;
    else if (error.kind === 'rate_limited') {
      this.#refusals += 1;
      if (this.#refusals >= REFUSALS_IN_A_ROW) reason = `${this.#refusals} calls in a row answered 429`;
    } else {
      this.#failures += 1;
      this.#nextProbeAt = now + FIRST_PROBE_MS;
      if (this.#failures >= FAILURES_IN_A_ROW)
        reason = `${this.#failures} calls in a row failed (last: ${error.message})`;
    }
    if (!reason) return false;
    this.#down = { reason, since: now };
    this.#scheduleProbe(now);
    return true;
  }

  /** The next probe after the current backoff, which doubles for the one after. */
  #scheduleProbe(now: number): void {
    this.#nextProbeAt = now + this.#backoffMs;
    this.#backoffMs = Math.min(MAX_PROBE_MS, this.#backoffMs * 2);
  }
}
