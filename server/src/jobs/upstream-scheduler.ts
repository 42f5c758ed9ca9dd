// Spends the key's budget: every upstream call (submission or status check) takes a token
// from the KeyBudget first. Queued submissions go before status checks. Each running job is
// asked about when it is probably done (learned durations, then its progress), never more
// often than minGapMs, and the most overdue job goes first, so checks are spread fairly.
// Browsers never cause an upstream call: they read the store, which this keeps fresh.
import type { Logger } from 'pino';
import type { KeyBudget } from '../budget/key-budget';
import { DomainError, UpstreamError } from '../errors';
import { isActive, type JobRecord } from '../store/job-store';
import { DurationModel, type ProgressSample } from './duration-model';
import type { JobService } from './job-service';

/** The share of looks planned from progress meant to find the job done. */
const FINISH_LOOK_DONE_SHARE = 0.7;
/** After a failed status check, the next one waits at least this long. */
const RETRY_AFTER_ERROR_MS = 5_000;
/**
 * Malformed answers (`bad_response`) will not mend by asking again soon: each one doubles the
 * wait (5 s, 10 s, 20 s, 40 s) and this many in a row give the job up, so one job the upstream
 * answers badly about cannot spend the shared budget until its deadline.
 */
const MALFORMED_ANSWERS_MAX = 5;

export interface SchedulerOptions {
  /** Never ask about one job more often than this. */
  minGapMs: number;
  /** Ask about a running job at least this often, whatever the estimates say. */
  maxGapMs: number;
  /** How long a job takes before any has been seen finishing. */
  expectedDurationMs: number;
  /** Submissions that may wait for budget; past this, a 429. */
  queueMax: number;
  /** How long after a predicted finish to ask. */
  finishMarginMs: number;
  /**
   * With webhooks the upstream tells us when a job changes, and looks are only a fallback:
   * planned looks come this many times later (1: no webhooks).
   */
  fallbackFactor?: number;
  now?: () => number;
}

interface Timing {
  sentAt: number;
  nextAt: number;
  /** `finish`: planned for when the job should be done, as urgent as a submission. */
  purpose: 'probe' | 'finish';
  samples: ProgressSample[];
  inFlight: boolean;
  /** Malformed answers to this job's status checks since its last readable one. */
  malformed: number;
}

export class UpstreamScheduler {
  readonly #service: JobService;
  readonly #budget: KeyBudget;
  readonly #logger: Logger;
  readonly #options: SchedulerOptions;
  readonly #now: () => number;
  readonly #model: DurationModel;
  readonly #queue: string[] = [];
  readonly #timings = new Map<string, Timing>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #pumping = false;
  #again = false;
  #stopped = false;

  constructor(service: JobService, budget: KeyBudget, logger: Logger, options: SchedulerOptions) {
    this.#service = service;
    this.#budget = budget;
    this.#logger = logger;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#model = new DurationModel(options.expectedDurationMs);
  }

  /** At start-up: queued jobs queue again in order; running jobs are checked soon, spread out. */
  resume(): void {
    const now = this.#now();
    let spread = 0;
    for (const job of this.#service.listActive()) {
      if (job.status === 'queued') this.#queue.push(job.id);
      else if (job.upstreamId) {
        this.#timings.set(job.id, {
          sentAt: job.createdAt,
          nextAt: now + spread,
          purpose: 'probe',
          samples: [],
          inFlight: false,
          malformed: 0,
        });
        spread += this.#budget.intervalMs;
      }
    }
    this.#wake();
  }

  /**
   * Starts a recorded job: sent at once while the queue is empty and the budget has a call
   * (the caller then sees the upstream's own answer, refusals included), otherwise queued.
   * A full queue is a `queue_full` error that says when to try again, and the job is not kept.
   */
  async admit(job: JobRecord): Promise<JobRecord> {
    if (this.#queue.length === 0 && !this.#stopped) {
      const token = await this.#budget.tryTake();
      if (token.ok) {
        const sent = await this.#service.sendNow(job.id);
        if (sent && isActive(sent.status)) this.#track(sent);
        this.#wake();
        return sent ?? job;
      }
    }
    if (this.#queue.length >= this.#options.queueMax) {
      this.#service.discard(job.id);
      const retryAfterS = Math.max(1, Math.ceil(((this.#queue.length + 1) * this.#budget.intervalMs) / 1000));
      throw new DomainError(
        'queue_full',
        `The upstream budget is used up and ${this.#queue.length} submissions are waiting; try again in ${retryAfterS} s`,
        { retryAfterS },
      );
    }
    this.#queue.push(job.id);
    this.#wake();
    return job;
  }

  /** 1-based place in the submission queue, for the card's "queued, position N". */
  queuePosition(id: string): number | undefined {
    const index = this.#queue.indexOf(id);
    return index < 0 ? undefined : index + 1;
  }

  /** When the server will next ask the upstream about this job (or send it, if queued). */
  nextUpdateAt(id: string): number | undefined {
    const position = this.queuePosition(id);
    if (position !== undefined) return this.#now() + position * this.#budget.intervalMs;
    return this.#timings.get(id)?.nextAt;
  }

  /**
   * Someone (a webhook) says this job changed. `finish`: it may be done, so look as soon as
   * the budget allows, as urgently as a submission. `progress`: it moved on; look now only
   * while no submission waits for budget (otherwise the planned look stands).
   */
  nudge(id: string, reason: 'finish' | 'progress' = 'finish'): void {
    const timing = this.#timings.get(id);
    if (!timing || (reason === 'progress' && this.#queue.length > 0)) return;
    timing.nextAt = Math.min(timing.nextAt, this.#now());
    if (reason === 'finish') timing.purpose = 'finish';
    this.#wake();
  }

  /** Whether the upstream pushes changes (webhooks), so news may come at any moment. */
  get pushed(): boolean {
    return (this.#options.fallbackFactor ?? 1) > 1;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  start(): void {
    this.#stopped = false;
    this.#wake();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Runs the scheduling loop now (tests and the timer call this). */
  async pump(): Promise<void> {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        await this.#drain();
      } while (this.#again && !this.#stopped);
    } finally {
      this.#pumping = false;
    }
  }

  async #drain(): Promise<void> {
    for (;;) {
      const work = this.#nextWork();
      if (!work) return;
      if (work.at > this.#now()) return this.#sleepUntil(work.at);
      if (work.kind === 'check') work.timing.inFlight = true;
      const token = await this.#budget.tryTake();
      if (!token.ok) {
        if (work.kind === 'check') work.timing.inFlight = false;
        return this.#sleepUntil(this.#now() + token.waitMs);
      }
      if (work.kind === 'send') {
        if (this.#queue[0] === work.id) this.#queue.shift();
        void this.#send(work.id);
      } else {
        void this.#refresh(work.id, work.timing);
      }
    }
  }

  #nextWork():
    | { kind: 'send'; id: string; at: number }
    | { kind: 'check'; id: string; timing: Timing; at: number }
    | undefined {
    const check = this.#nextCheck();
    const now = this.#now();
    // Submissions go first; only a check planned for when a job should be done is as urgent
    // (probes for progress wait, so a saturated budget buys throughput, not early looks).
    if (check && check.timing.purpose === 'finish' && check.at <= now) return check;
    while (this.#queue.length > 0) {
      const id = this.#queue[0] ?? '';
      if (this.#service.find(id)?.status === 'queued') return { kind: 'send', id, at: now };
      this.#queue.shift();
    }
    return check;
  }

  #nextCheck(): { kind: 'check'; id: string; timing: Timing; at: number } | undefined {
    for (;;) {
      let best: { id: string; timing: Timing } | undefined;
      for (const [id, timing] of this.#timings) {
        if (!timing.inFlight && (!best || timing.nextAt < best.timing.nextAt)) best = { id, timing };
      }
      if (!best) return undefined;
      const { id, timing } = best;
      const job = this.#service.find(id);
      if (!job || !isActive(job.status) || !job.upstreamId) {
        this.#timings.delete(id);
        continue;
      }
      if (this.#service.isOverdue(job)) {
        // Giving up a stuck job needs no upstream call.
        this.#timings.delete(id);
        void this.#service.refresh(id);
        continue;
      }
      return { kind: 'check', id, timing, at: timing.nextAt };
    }
  }

  async #send(id: string): Promise<void> {
    try {
      const sent = await this.#service.sendQueued(id);
      if (sent && isActive(sent.status)) this.#track(sent);
    } catch (error) {
      if (error instanceof UpstreamError && error.kind === 'rate_limited') {
        this.#queue.unshift(id);
        this.#pauseFor(error);
      } else {
        this.#logger.warn({ job_id: id, err: error }, 'a queued submission failed');
      }
    }
    this.#wake();
  }

  async #refresh(id: string, timing: Timing): Promise<void> {
    const now = this.#now();
    let job: JobRecord | undefined;
    try {
      job = await this.#service.refresh(id);
    } catch (error) {
      this.#checkFailed(id, timing, error);
      this.#wake();
      return;
    }
    timing.inFlight = false;
    timing.malformed = 0;
    const done = !job || !isActive(job.status);
    if (timing.purpose === 'finish') this.#model.learnFinishLook(done, FINISH_LOOK_DONE_SHARE);
    if (job && done) {
      const runningFor = (timing.samples.at(-1)?.at ?? timing.sentAt) - timing.sentAt;
      this.#model.learnJob(job.quality, runningFor, now - timing.sentAt);
    }
    if (!job || done) {
      this.#timings.delete(id);
    } else {
      timing.samples.push({ at: now, progress: job.status === 'processing' ? job.progress : null });
      const plan = this.#planNext(job, timing, now);
      timing.nextAt = plan.at;
      timing.purpose = plan.purpose;
    }
    this.#wake();
  }

  /** Plans the retry of a failed status check, or gives the job up after too many malformed answers. */
  #checkFailed(id: string, timing: Timing, error: unknown): void {
    timing.inFlight = false;
    const upstreamError = error instanceof UpstreamError ? error : undefined;
    if (upstreamError?.kind === 'rate_limited') this.#pauseFor(upstreamError);
    let backoff = 1;
    if (upstreamError?.kind === 'bad_response') {
      const malformed = timing.malformed + 1;
      timing.malformed = malformed;
      if (malformed >= MALFORMED_ANSWERS_MAX) {
        this.#timings.delete(id);
        this.#service.giveUp(
          id,
          `The upstream answered ${malformed} status checks of this job with malformed data (last: ${upstreamError.message}); it was given up`,
        );
        return;
      }
      backoff = 2 ** (malformed - 1);
    }
    if (upstreamError?.kind !== 'rate_limited') {
      this.#logger.warn({ job_id: id, err: error }, 'a status check failed; it will be retried');
    }
    const retryAfterMs = (upstreamError?.retryAfterS ?? 0) * 1000;
    timing.nextAt = this.#now() + Math.max(this.#options.minGapMs, retryAfterMs, RETRY_AFTER_ERROR_MS * backoff);
  }

  #track(job: JobRecord): void {
    const sentAt = this.#now();
    // With budget to spare, look early so progress can time the finish; when submissions
    // wait for budget, look late, so that most jobs are done at the first look.
    const first =
      this.#model.firstLook(job.quality, this.#queue.length > 0 ? 'scarce' : 'spare') *
      (this.#options.fallbackFactor ?? 1);
    this.#timings.set(job.id, {
      sentAt,
      nextAt: sentAt + Math.max(this.#options.minGapMs, first + this.#options.finishMarginMs),
      purpose: 'probe',
      samples: [],
      inFlight: false,
      malformed: 0,
    });
  }

  #planNext(job: JobRecord, timing: Timing, now: number): { at: number; purpose: Timing['purpose'] } {
    const { minGapMs, maxGapMs, finishMarginMs } = this.#options;
    const clamp = (at: number) => Math.min(now + maxGapMs, Math.max(now + minGapMs, at));
    // Progress reports crawl near the end (and stop at 99): from 95% on, just look again
    // soon, sooner when the budget has room to spare.
    const progress = timing.samples.at(-1)?.progress ?? 0;
    if (progress >= 95) {
      return { at: now + minGapMs * (this.#queue.length > 0 ? 3 : 1), purpose: 'finish' };
    }
    // However far a rough estimate reaches, look again by the time such jobs are usually
    // done, and past that, at a quarter of the time spent so far (stuck jobs back off).
    const usual = timing.sentAt + this.#model.firstLook(job.quality, 'scarce') * 1.5;
    const ceiling = usual > now ? usual : now + Math.max(minGapMs, (now - timing.sentAt) * 0.25);
    const estimate = this.#model.estimateFinish(timing.sentAt, timing.samples);
    if (estimate !== undefined) {
      const wait = (estimate - now) * (this.#options.fallbackFactor ?? 1);
      return { at: clamp(Math.min(now + wait + finishMarginMs, ceiling)), purpose: 'finish' };
    }
    // No progress yet: look again half-way to the usual finish.
    return { at: clamp(Math.min(usual > now ? now + (usual - now) / 2 : ceiling, ceiling)), purpose: 'probe' };
  }

  #pauseFor(error: UpstreamError): void {
    const ms = (error.retryAfterS ?? 30) * 1000;
    this.#logger.warn({ pause_ms: ms }, 'the upstream answered 429; the whole budget pauses');
    this.#budget.pause(ms);
  }

  #wake(): void {
    void this.pump();
  }

  #sleepUntil(at: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined && this.#timerAt <= at && this.#timerAt > this.#now()) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        void this.pump();
      },
      Math.max(0, at - this.#now()),
    );
    this.#timer.unref?.();
  }
}
