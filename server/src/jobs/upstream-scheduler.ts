// Spends every account's budget: each upstream call (submission, status check or probe) takes
// a token from its account's KeyBudget first. One queue of submissions serves the whole pool:
// a new job goes at once to the healthy account with the most room (weights break ties), or
// waits, and whichever suitable account has budget first sends it, so queued work moves to
// where there is room. An action goes only to the account that made its grid. Per account,
// queued submissions go before status checks; each running job is checked when it is probably
// done (learned durations, then its progress), never more often than minGapMs, the most
// overdue first. Budget that submissions do not need goes to the jobs most likely done, so
// news reaches browsers sooner at light load. One account's 429 pauses that account alone; an
// account taken out of rotation (health) is probed with backoff, its running jobs still followed.
// Browsers never cause an upstream call: they read the store, which this keeps fresh.
import type { AccountStatus } from '@shared/schemas/account';
import type { Budget } from '@shared/schemas/job';
import type { Logger } from 'pino';
import type { Account } from '../accounts/account-pool';
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
/**
 * Spare checks keep this many calls of the window free per submission sent in the last one
 * (as many submissions again, and half of their final checks), plus a few for a burst.
 */
const SPARE_RESERVE_PER_SUBMISSION = 1.5;
const SPARE_RESERVE_MIN = 4;
/**
 * Refusals that say the account, not the job, is the trouble: the job may go elsewhere. (A
 * submission that timed out may have run, so it never goes twice.)
 */
const ACCOUNT_TROUBLE: ReadonlySet<string> = new Set(['auth', 'account', 'rate_limited', 'busy']);
/** After the scheduling loop itself failed (the store out of reach), it runs again this much later. */
const LOOP_RETRY_MS = 1_000;
/** How often the queue is swept of jobs no account can run any more, or waiting past the deadline. */
const SWEEP_EVERY_MS = 1_000;

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
  /** Spend budget that submissions leave over on early checks (default true). */
  spareChecks?: boolean;
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
  lastCheckAt: number;
  /** After a failed check: no early (spare) check before the planned retry. */
  retryAt: number;
}

/** One account's share of the work: its running jobs, its timer, what it has learnt. */
interface Lane {
  account: Account;
  timings: Map<string, Timing>;
  /** Submissions on their way to this account. */
  sending: number;
  /** When this account's last submissions were sent, for the spare-check reserve. */
  sends: number[];
  model: DurationModel;
  probing: boolean;
  /** After a `busy` answer (its queue of jobs is full): no submission before this. */
  busyUntil: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  timerAt: number;
  pumping: boolean;
  again: boolean;
}

type Work =
  | { kind: 'send'; at: number }
  | { kind: 'check'; id: string; timing: Timing; at: number; spare?: boolean }
  | { kind: 'probe'; at: number };

export class UpstreamScheduler {
  readonly #service: JobService;
  readonly #logger: Logger;
  readonly #options: SchedulerOptions;
  readonly #now: () => number;
  readonly #lanes: Lane[];
  readonly #laneOf = new Map<string, Lane>();
  readonly #queue: string[] = [];
  /** Jobs this scheduler is sending now (their submission's calls may take a while). */
  readonly #sendingIds = new Set<string>();
  /** Jobs being admitted now (between their record and their place in the queue). */
  readonly #admitting = new Set<string>();
  #sweptAt = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(service: JobService, accounts: readonly Account[], logger: Logger, options: SchedulerOptions) {
    this.#service = service;
    this.#logger = logger;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lanes = accounts.map((account) => ({
      account,
      timings: new Map(),
      sending: 0,
      sends: [],
      model: new DurationModel(options.expectedDurationMs),
      probing: false,
      busyUntil: 0,
      timer: undefined,
      timerAt: Number.POSITIVE_INFINITY,
      pumping: false,
      again: false,
    }));
    for (const lane of this.#lanes) this.#laneOf.set(lane.account.spec.name, lane);
  }

  /** At start-up: queued jobs queue again in order; running jobs are checked soon, spread out. */
  resume(): void {
    const now = this.#now();
    const spread = new Map<Lane, number>();
    for (const job of this.#service.listActive()) {
      if (job.status === 'queued') {
        this.#queue.push(job.id);
        continue;
      }
      if (!job.upstreamId) continue;
      const lane = this.#laneFor(job);
      if (!lane) {
        this.#service.giveUp(job.id, `The account "${job.account}" this job runs on is no longer configured`);
        continue;
      }
      const offset = spread.get(lane) ?? 0;
      lane.timings.set(job.id, this.#timing(job.createdAt, now + offset));
      spread.set(lane, offset + lane.account.budget.intervalMs);
    }
    this.#sweep(true);
    this.#wakeAll();
  }

  /**
   * Starts a recorded job: sent at once when a suitable account has room and a call (the
   * caller then sees the upstream's own answer, refusals included), otherwise queued. A job
   * no account could ever run is a conflict; a full queue is a `queue_full` error that says
   * when to try again. Either way the job is not kept.
   */
  async admit(job: JobRecord): Promise<JobRecord> {
    // While it is being admitted, reconciling with the store must not queue it a second way.
    this.#admitting.add(job.id);
    try {
      return await this.#admit(job);
    } finally {
      this.#admitting.delete(job.id);
    }
  }

  async #admit(job: JobRecord): Promise<JobRecord> {
    const suitable = this.#service.suitableAccounts(job);
    if (suitable.length === 0) {
      this.#service.discard(job.id);
      throw new DomainError('conflict', this.unsuitable(job));
    }
    // Every account that could run it is out of rotation for a reason of its own (a refused
    // key, no credits): say so now rather than keep the job waiting on it.
    const down = suitable.filter((account) => account.health.state === 'down');
    if (down.length === suitable.length) {
      this.#service.discard(job.id);
      const [first] = down;
      const probeAt = first?.health.nextProbeAt ?? this.#now();
      throw new UpstreamError(
        'account',
        `No account that can run this job is in rotation (${down.map((a) => `${a.spec.name}: ${a.health.reason ?? 'down'}`).join('; ')}); try again later`,
        { retryAfterS: Math.max(1, Math.ceil((probeAt - this.#now()) / 1000)) },
      );
    }
    this.#sweep();
    if (!this.#stopped) {
      for (const lane of this.#byRoom(suitable)) {
        // First come, first served: an account with suitable jobs waiting takes those first.
        if (this.#firstQueued(lane) !== undefined) continue;
        const token = await lane.account.budget.tryTake();
        // Stopped meanwhile: the job stays queued in the store for whoever schedules now.
        if (this.#stopped) return job;
        if (!token.ok) continue;
        const sent = await this.#sendVia(lane, job.id, 'now');
        this.#wakeAll();
        return sent ?? job;
      }
    }
    // The queue drains as fast as the accounts in rotation together send.
    const queueMax =
      this.#options.queueMax * Math.max(1, this.#lanes.filter((l) => l.account.health.inRotation).length);
    if (this.#queue.length >= queueMax) {
      this.#service.discard(job.id);
      const retryAfterS = Math.max(1, Math.ceil(((this.#queue.length + 1) * this.#pooledIntervalMs()) / 1000));
      throw new DomainError(
        'queue_full',
        `The upstream budget is used up and ${this.#queue.length} submissions are waiting; try again in ${retryAfterS} s`,
        { retryAfterS },
      );
    }
    this.#queue.push(job.id);
    this.#wakeAll();
    return job;
  }

  /**
   * A job another instance recorded and queued (several instances): it joins the queue here
   * unless it is there already or no longer waiting.
   */
  enqueue(id: string): void {
    if (this.#queue.includes(id) || this.#service.find(id)?.status !== 'queued') return;
    this.#queue.push(id);
    this.#wakeAll();
  }

  /**
   * Brings the plan in line with the store, which other instances also change: queued jobs
   * missing from the queue join it (oldest first), running jobs nobody follows are followed,
   * and jobs that ended elsewhere stop being followed. `active`: the store's active jobs.
   */
  reconcile(active: readonly JobRecord[]): void {
    const now = this.#now();
    const live = new Set<string>();
    let joined = false;
    for (const job of active) {
      live.add(job.id);
      if (job.status === 'queued') {
        if (!this.#queue.includes(job.id) && !this.#admitting.has(job.id)) {
          this.#queue.push(job.id);
          joined = true;
        }
        continue;
      }
      const lane = job.upstreamId ? this.#laneFor(job) : undefined;
      if (lane && !lane.timings.has(job.id)) {
        lane.timings.set(job.id, this.#timing(job.updatedAt, now));
        joined = true;
      }
    }
    for (const lane of this.#lanes)
      for (const [id, timing] of lane.timings) if (!live.has(id) && !timing.inFlight) lane.timings.delete(id);
    if (joined) this.#wakeAll();
  }

  /** A job that ended elsewhere (another instance applied a webhook, a user cancelled it there). */
  forget(id: string): void {
    for (const lane of this.#lanes) {
      const timing = lane.timings.get(id);
      if (timing && !timing.inFlight) lane.timings.delete(id);
    }
  }

  /** The queue and every followed job's next check, for the instances that do not schedule. */
  plan(): { queue: string[]; next: Record<string, number> } {
    const next: Record<string, number> = {};
    for (const lane of this.#lanes) for (const [id, timing] of lane.timings) next[id] = timing.nextAt;
    return { queue: [...this.#queue], next };
  }

  /** 1-based place in the submission queue, for the card's "queued, position N". */
  queuePosition(id: string): number | undefined {
    const index = this.#queue.indexOf(id);
    return index < 0 ? undefined : index + 1;
  }

  /** When the server will next ask the upstream about this job (or send it, if queued). */
  nextUpdateAt(id: string): number | undefined {
    const position = this.queuePosition(id);
    if (position !== undefined) return this.#now() + position * this.#pooledIntervalMs();
    for (const lane of this.#lanes) {
      const timing = lane.timings.get(id);
      if (timing) return timing.nextAt;
    }
    return undefined;
  }

  /**
   * Someone (a webhook) says this job changed. `finish`: it may be done, so look as soon as
   * the budget allows, as urgently as a submission. `progress`: it moved on; look now only
   * while no submission waits for budget (otherwise the planned look stands).
   */
  nudge(id: string, reason: 'finish' | 'progress' = 'finish'): void {
    const job = this.#service.find(id);
    const lane = job ? this.#laneFor(job) : undefined;
    const timing = lane?.timings.get(id);
    if (!lane || !timing || (reason === 'progress' && this.#queue.length > 0)) return;
    timing.nextAt = Math.min(timing.nextAt, this.#now());
    if (reason === 'finish') timing.purpose = 'finish';
    this.#wake(lane);
  }

  /** Whether the upstream pushes changes (webhooks), so news may come at any moment. */
  get pushed(): boolean {
    return (this.#options.fallbackFactor ?? 1) > 1;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  /**
   * Each account's state and load, for /healthz and the admin view; `details` (the admin view,
   * behind the access guard): why an account is down and its last error. Budgets keep the
   * wall clock.
   */
  accounts(details = true): AccountStatus[] {
    const queued = this.#queue.flatMap((id) => this.#service.find(id) ?? []);
    return this.#lanes.map(({ account, timings, sending }) => {
      const { spec, budget, health } = account;
      const paused = budget.pausedUntil;
      const probeAt = health.nextProbeAt;
      const lastError = health.lastError;
      return {
        name: spec.name,
        kind: spec.kind,
        state: health.state === 'ready' && paused !== undefined ? 'paused' : health.state,
        ...(details && health.reason ? { reason: health.reason } : {}),
        ...(probeAt !== undefined ? { probe_in_s: Math.max(0, Math.ceil((probeAt - this.#now()) / 1000)) } : {}),
        limit: budget.limit,
        window_s: budget.windowMs / 1000,
        used: budget.usedInWindow(),
        ...(paused !== undefined ? { paused_for_s: Math.ceil((paused - Date.now()) / 1000) } : {}),
        running: timings.size + sending,
        max_running: spec.maxRunning,
        queued: queued.filter((job) => this.#service.suits(job, account)).length,
        ...(details && lastError
          ? { last_error: { message: lastError.message, at: new Date(lastError.at).toISOString() } }
          : {}),
      };
    });
  }

  /** The whole pool's budget line for the studio's header: the accounts in rotation together. */
  budget(): Budget {
    const lanes = this.#lanes.filter((lane) => lane.account.health.inRotation);
    const counted = lanes.length > 0 ? lanes : this.#lanes.slice(0, 1);
    const body: Budget = {
      limit: counted.reduce((sum, lane) => sum + lane.account.budget.limit, 0),
      window_s: (counted[0]?.account.budget.windowMs ?? 60_000) / 1000,
      used: counted.reduce((sum, lane) => sum + lane.account.budget.usedInWindow(), 0),
      queue_length: this.#queue.length,
    };
    // Paused only when every account in rotation is.
    const pauses = counted.map((lane) => lane.account.budget.pausedUntil);
    if (pauses.every((until) => until !== undefined)) {
      const until = Math.min(...pauses.map((at) => at ?? 0));
      body.paused_for_s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    }
    return body;
  }

  start(): void {
    this.#stopped = false;
    this.#wakeAll();
  }

  stop(): void {
    this.#stopped = true;
    for (const lane of this.#lanes) clearTimeout(lane.timer);
  }

  /** Runs every account's scheduling loop now (tests and the timers call this). */
  async pump(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => this.#pump(lane)));
  }

  async #pump(lane: Lane): Promise<void> {
    if (this.#stopped) return;
    if (lane.pumping) {
      lane.again = true;
      return;
    }
    lane.pumping = true;
    try {
      do {
        lane.again = false;
        await this.#drain(lane);
      } while (lane.again && !this.#stopped);
    } catch (error) {
      this.#loopFailed(lane, error);
    } finally {
      lane.pumping = false;
    }
  }

  /** The store out of reach (a networked one restarting): the loop tries again soon rather than stop. */
  #loopFailed(lane: Lane, error: unknown): void {
    this.#logger.error({ err: error, account: lane.account.spec.name }, 'the scheduling loop failed; retrying');
    this.#sleepUntil(lane, this.#now() + LOOP_RETRY_MS);
  }

  async #drain(lane: Lane): Promise<void> {
    this.#sweep();
    for (;;) {
      if (this.#stopped) return;
      const work = this.#nextWork(lane);
      // While jobs wait, the loop wakes now and then to sweep the queue (deadlines pass).
      const sweepAt = this.#queue.length > 0 ? this.#now() + SWEEP_EVERY_MS * 5 : Number.POSITIVE_INFINITY;
      if (!work) {
        if (sweepAt < Number.POSITIVE_INFINITY) this.#sleepUntil(lane, sweepAt);
        return;
      }
      if (work.at > this.#now()) return this.#sleepUntil(lane, Math.min(work.at, sweepAt));
      if (work.kind === 'check') work.timing.inFlight = true;
      if (work.kind === 'probe') lane.probing = true;
      const token = await lane.account.budget.tryTake();
      if (!token.ok || this.#stopped) {
        if (work.kind === 'check') work.timing.inFlight = false;
        if (work.kind === 'probe') lane.probing = false;
        // Stopped meanwhile (another instance schedules now): nothing more from this one.
        if (token.ok) return;
        return this.#sleepUntil(lane, this.#now() + token.waitMs);
      }
      if (work.kind === 'send') {
        // Taken now, after the (asynchronous) budget answered: another account may have sent
        // it, or this one may have left rotation meanwhile.
        const id = this.#hasRoom(lane) ? this.#firstQueued(lane, true) : undefined;
        if (id === undefined) continue;
        this.#queue.splice(this.#queue.indexOf(id), 1);
        void this.#sendVia(lane, id, 'queued')
          .then(() => this.#wakeAll())
          .catch((error: unknown) => this.#loopFailed(lane, error));
      } else if (work.kind === 'probe') {
        void this.#probe(lane).catch((error: unknown) => this.#loopFailed(lane, error));
      } else {
        void this.#refresh(lane, work.id, work.timing, work.spare === true).catch((error: unknown) =>
          this.#loopFailed(lane, error),
        );
      }
    }
  }

  #nextWork(lane: Lane): Work | undefined {
    const check = this.#nextCheck(lane);
    const now = this.#now();
    const { health } = lane.account;
    if (!health.inRotation) {
      // Out of rotation: its running jobs are still followed; it is probed when due.
      const probeAt = health.nextProbeAt;
      const probe: Work | undefined =
        probeAt !== undefined && !lane.probing && health.state !== 'disabled'
          ? { kind: 'probe', at: probeAt }
          : undefined;
      if (probe && (!check || probe.at <= check.at)) return probe;
      return check;
    }
    // Submissions go first; only a check planned for when a job should be done is as urgent
    // (probes for progress wait, so a saturated budget buys throughput, not early looks).
    if (check && check.timing.purpose === 'finish' && check.at <= now) return check;
    if (this.#hasRoom(lane) && this.#firstQueued(lane, true) !== undefined) return { kind: 'send', at: now };
    if (check && check.at <= now) return check;
    const spare = this.#spareCheck(lane, now);
    return spare && (!check || spare.at < check.at) ? spare : check;
  }

  /**
   * With budget to spare (nothing waits to be sent here, and the window keeps a reserve for
   * new submissions), the running job most likely done is checked now rather than later.
   */
  #spareCheck(lane: Lane, now: number): Work | undefined {
    if (this.#options.spareChecks === false || this.pushed) return undefined;
    const { minGapMs } = this.#options;
    // The job most overdue by that reckoning goes first among those not checked within the
    // gap; if none may be checked yet, the loop wakes when the first may.
    let best: { id: string; timing: Timing; from: number } | undefined;
    let wake: { id: string; timing: Timing; from: number } | undefined;
    for (const [id, timing] of lane.timings) {
      if (timing.inFlight || timing.retryAt > now) continue;
      const from = this.#possiblyDoneFrom(lane, id, timing);
      if (from === undefined) continue;
      const at = Math.max(from, timing.lastCheckAt + minGapMs);
      if (at <= now) {
        if (!best || from < best.from) best = { id, timing, from };
      } else if (!wake || at < wake.from) {
        wake = { id, timing, from: at };
      }
    }
    if (best) best.from = now;
    else best = wake;
    if (!best) return undefined;
    const { budget } = lane.account;
    const since = now - budget.windowMs;
    while (lane.sends.length > 0 && (lane.sends[0] ?? 0) <= since) lane.sends.shift();
    const reserve = Math.max(SPARE_RESERVE_MIN, lane.sends.length * SPARE_RESERVE_PER_SUBMISSION);
    const spare = budget.pausedUntil === undefined && budget.usedInWindow() + reserve < budget.effective;
    // Without budget to spare now, look again once a call has aged out of the window.
    const at = spare ? best.from : Math.max(best.from, now + budget.intervalMs);
    return { kind: 'check', id: best.id, timing: best.timing, at: Math.max(at, now), spare: true };
  }

  /**
   * From when a running job may well be done: a little before its progress says it will be,
   * or, without progress, when the first jobs of its kind are usually done.
   */
  #possiblyDoneFrom(lane: Lane, id: string, timing: Timing): number | undefined {
    const estimate = lane.model.estimateFinish(timing.sentAt, timing.samples);
    if (estimate !== undefined) return estimate - this.#options.minGapMs;
    const job = this.#service.find(id);
    if (!job) return undefined;
    return timing.sentAt + lane.model.firstLook(job.quality, 'spare');
  }

  #nextCheck(lane: Lane): { kind: 'check'; id: string; timing: Timing; at: number } | undefined {
    for (;;) {
      let best: { id: string; timing: Timing } | undefined;
      for (const [id, timing] of lane.timings) {
        if (!timing.inFlight && (!best || timing.nextAt < best.timing.nextAt)) best = { id, timing };
      }
      if (!best) return undefined;
      const { id, timing } = best;
      const job = this.#service.find(id);
      if (!job || !isActive(job.status) || !job.upstreamId) {
        lane.timings.delete(id);
        continue;
      }
      if (this.#service.isOverdue(job)) {
        // Giving up a stuck job needs no upstream call.
        lane.timings.delete(id);
        void this.#service.refresh(id).catch((error: unknown) => this.#loopFailed(lane, error));
        continue;
      }
      return { kind: 'check', id, timing, at: timing.nextAt };
    }
  }

  /**
   * The first queued job this account can run, dropping ids that are no longer queued.
   * `fair`: only a job no other account that could run it has clearly more room for; that
   * one takes it at its next call, and this account's call goes to its own checks instead.
   * (Otherwise the account with the fewest checks due takes every submission, runs more jobs
   * than its budget can follow, and their users wait while the other accounts idle.)
   */
  #firstQueued(lane: Lane, fair = false): string | undefined {
    for (let index = 0; index < this.#queue.length; ) {
      const id = this.#queue[index] ?? '';
      const job = this.#service.find(id);
      if (job?.status !== 'queued') {
        this.#queue.splice(index, 1);
        continue;
      }
      if (this.#service.suits(job, lane.account) && (!fair || this.#fairShare(lane, job))) return id;
      index += 1;
    }
    return undefined;
  }

  #fairShare(lane: Lane, job: JobRecord): boolean {
    const mine = this.#room(lane);
    return this.#lanes.every(
      (other) =>
        other === lane ||
        this.#room(other) <= mine + 1 ||
        !this.#hasRoom(other) ||
        !this.#service.suits(job, other.account),
    );
  }

  /** Whether the account may take a submission now: in rotation, not paused, not busy, below max_running. */
  #hasRoom(lane: Lane): boolean {
    const { health, budget, spec } = lane.account;
    return (
      health.inRotation &&
      budget.pausedUntil === undefined &&
      lane.busyUntil <= this.#now() &&
      lane.timings.size + lane.sending < spec.maxRunning
    );
  }

  /**
   * Fails queued jobs that can never be sent: no configured account can run them any more
   * (switched off, removed from the file), or they waited past the deadline (an action whose
   * account stayed down). `now`: whatever the time since the last sweep.
   */
  #sweep(now = false): void {
    const at = this.#now();
    if (!now && at - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = at;
    for (let index = 0; index < this.#queue.length; ) {
      const id = this.#queue[index] ?? '';
      const job = this.#service.find(id);
      let reason: string | undefined;
      if (job?.status === 'queued') {
        if (this.#service.suitableAccounts(job).length === 0) {
          reason = 'No account in use can run this job any more (switched off or removed); it was not sent';
        } else if (this.#service.isOverdue(job)) {
          reason = 'No account could send this job before its deadline; it was not sent';
        }
      }
      if (job?.status === 'queued' && !reason) {
        index += 1;
        continue;
      }
      this.#queue.splice(index, 1);
      if (reason) this.#service.giveUp(id, reason);
    }
  }

  /**
   * An account's room: the calls left in its window that its running jobs do not already
   * need (each at least one more check).
   */
  #room(lane: Lane): number {
    const { budget } = lane.account;
    return budget.effective - budget.usedInWindow() - lane.timings.size - lane.sending;
  }

  /** Healthy accounts with room, the most first (weight breaks ties). */
  #byRoom(accounts: Account[]): Lane[] {
    return accounts
      .map((account) => this.#laneOf.get(account.spec.name))
      .filter((lane): lane is Lane => lane !== undefined && this.#hasRoom(lane))
      .sort((a, b) => this.#room(b) - this.#room(a) || b.account.spec.weight - a.account.spec.weight);
  }

  /**
   * Sends one job through one account. `now`: its submitter waits for the answer. A refusal
   * that blames the account puts the job back in the queue when another account could run it.
   */
  async #sendVia(lane: Lane, id: string, mode: 'now' | 'queued'): Promise<JobRecord | undefined> {
    const { account } = lane;
    lane.sending += 1;
    this.#sendingIds.add(id);
    lane.sends.push(this.#now());
    let requeued = false;
    const requeue = (error: UpstreamError) => {
      if (!ACCOUNT_TROUBLE.has(error.kind)) return false;
      const job = this.#service.find(id);
      requeued = job !== undefined && this.#service.suitableAccounts(job).some((other) => other !== account);
      return requeued;
    };
    try {
      const sent =
        mode === 'now'
          ? await this.#service.sendNow(id, account, requeue)
          : await this.#service.sendQueued(id, account, requeue);
      account.health.succeeded('submit');
      if (sent && isActive(sent.status) && sent.upstreamId) this.#track(lane, sent);
      return sent;
    } catch (error) {
      this.#accountFailed(lane, error, 'submit');
      const upstreamError = error instanceof UpstreamError ? error : undefined;
      if (
        requeued ||
        (mode === 'queued' && (upstreamError?.kind === 'rate_limited' || upstreamError?.kind === 'busy'))
      ) {
        this.#queue.unshift(id);
        return this.#service.find(id);
      }
      if (mode === 'now') throw error;
      this.#logger.warn({ job_id: id, account: account.spec.name, err: error }, 'a queued submission failed');
      return this.#service.find(id);
    } finally {
      lane.sending -= 1;
      this.#sendingIds.delete(id);
    }
  }

  /** Whether this scheduler is sending the job right now. */
  isSending(id: string): boolean {
    return this.#sendingIds.has(id);
  }

  async #probe(lane: Lane): Promise<void> {
    const { account } = lane;
    try {
      await this.#service.probe(account);
      const wasDown = account.health.state === 'down';
      account.health.succeeded('probe');
      if (wasDown) {
        this.#logger.info({ account: account.spec.name }, 'the account answers again; back in rotation');
        // Its running jobs, checked sparingly while it was down, are checked again soon.
        let at = this.#now();
        for (const timing of lane.timings.values()) {
          timing.nextAt = Math.min(timing.nextAt, at);
          timing.retryAt = 0;
          at += account.budget.intervalMs;
        }
      }
    } catch (error) {
      this.#accountFailed(lane, error, 'probe');
    } finally {
      lane.probing = false;
    }
    this.#wakeAll();
  }

  /** `spare`: an early check on budget to spare, which teaches nothing about planned ones. */
  async #refresh(lane: Lane, id: string, timing: Timing, spare: boolean): Promise<void> {
    const now = this.#now();
    timing.lastCheckAt = now;
    let job: JobRecord | undefined;
    try {
      job = await this.#service.refresh(id);
    } catch (error) {
      this.#accountFailed(lane, error, 'check');
      this.#checkFailed(lane, id, timing, error);
      this.#wake(lane);
      return;
    }
    lane.account.health.succeeded('check');
    timing.inFlight = false;
    timing.malformed = 0;
    const done = !job || !isActive(job.status);
    if (timing.purpose === 'finish' && !spare) lane.model.learnFinishLook(done, FINISH_LOOK_DONE_SHARE);
    if (job && done) {
      const runningFor = (timing.samples.at(-1)?.at ?? timing.sentAt) - timing.sentAt;
      lane.model.learnJob(job.quality, runningFor, now - timing.sentAt);
    }
    if (!job || done) {
      lane.timings.delete(id);
      // A place for a queued job, perhaps on a full account.
      this.#wakeAll();
      return;
    }
    timing.samples.push({ at: now, progress: job.status === 'processing' ? job.progress : null });
    const plan = this.#planNext(lane, job, timing, now);
    timing.nextAt = plan.at;
    timing.purpose = plan.purpose;
    this.#wake(lane);
  }

  /** What a failed call says of its account: a 429 pauses it; other trouble may take it out of rotation. */
  #accountFailed(lane: Lane, error: unknown, call: 'submit' | 'check' | 'probe'): void {
    const { account } = lane;
    if (error instanceof UpstreamError && error.kind === 'busy') {
      // Its queue of jobs is full: no submission for a while; its checks go on.
      lane.busyUntil = this.#now() + (error.retryAfterS ?? 30) * 1000;
      return;
    }
    if (error instanceof UpstreamError && error.kind === 'rate_limited') {
      const ms = (error.retryAfterS ?? 30) * 1000;
      this.#logger.warn(
        { account: account.spec.name, pause_ms: ms },
        "the upstream answered 429; this account's budget pauses",
      );
      account.budget.pause(ms);
    }
    if (account.health.failed(error, call)) {
      this.#logger.warn(
        { account: account.spec.name, reason: account.health.reason },
        'the account is taken out of rotation; its queued work goes elsewhere',
      );
    }
  }

  /** Plans the retry of a failed status check, or gives the job up after too many malformed answers. */
  #checkFailed(lane: Lane, id: string, timing: Timing, error: unknown): void {
    timing.inFlight = false;
    const upstreamError = error instanceof UpstreamError ? error : undefined;
    let backoff = 1;
    if (upstreamError?.kind === 'bad_response') {
      const malformed = timing.malformed + 1;
      timing.malformed = malformed;
      if (malformed >= MALFORMED_ANSWERS_MAX) {
        lane.timings.delete(id);
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
    // An account out of rotation is asked about its jobs no more often than it is probed.
    const probeAt = lane.account.health.state === 'down' ? lane.account.health.nextProbeAt : undefined;
    if (probeAt !== undefined) timing.nextAt = Math.max(timing.nextAt, probeAt);
    timing.retryAt = timing.nextAt;
  }

  #timing(sentAt: number, nextAt: number): Timing {
    return {
      sentAt,
      nextAt,
      purpose: 'probe',
      samples: [],
      inFlight: false,
      malformed: 0,
      lastCheckAt: sentAt,
      retryAt: 0,
    };
  }

  #track(lane: Lane, job: JobRecord): void {
    const sentAt = this.#now();
    // With budget to spare, look early so progress can time the finish; when submissions
    // wait for budget, look late, so that most jobs are done at the first look.
    const first =
      lane.model.firstLook(job.quality, this.#queue.length > 0 ? 'scarce' : 'spare') *
      (this.#options.fallbackFactor ?? 1);
    lane.timings.set(
      job.id,
      this.#timing(sentAt, sentAt + Math.max(this.#options.minGapMs, first + this.#options.finishMarginMs)),
    );
  }

  #planNext(lane: Lane, job: JobRecord, timing: Timing, now: number): { at: number; purpose: Timing['purpose'] } {
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
    const usual = timing.sentAt + lane.model.firstLook(job.quality, 'scarce') * 1.5;
    const ceiling = usual > now ? usual : now + Math.max(minGapMs, (now - timing.sentAt) * 0.25);
    const estimate = lane.model.estimateFinish(timing.sentAt, timing.samples);
    if (estimate !== undefined) {
      const wait = (estimate - now) * (this.#options.fallbackFactor ?? 1);
      return { at: clamp(Math.min(now + wait + finishMarginMs, ceiling)), purpose: 'finish' };
    }
    // No progress yet: look again half-way to the usual finish.
    return { at: clamp(Math.min(usual > now ? now + (usual - now) / 2 : ceiling, ceiling)), purpose: 'probe' };
  }

  /** The account a job runs on (null: the first, for a job from before pools). */
  #laneFor(job: JobRecord): Lane | undefined {
    return job.account === null ? this.#lanes[0] : this.#laneOf.get(job.account);
  }

  /** The average gap between submissions the whole pool can send when budget is the bottleneck. */
  #pooledIntervalMs(): number {
    const rate = this.#lanes
      .filter((lane) => lane.account.health.inRotation)
      .reduce((sum, lane) => sum + 1 / lane.account.budget.intervalMs, 0);
    return rate > 0 ? 1 / rate : (this.#lanes[0]?.account.budget.intervalMs ?? 1_000);
  }

  /** Why no account in use can run this job (when none can). */
  unsuitable(job: JobRecord): string {
    if (job.action) return 'The account that made this job is switched off or no longer configured';
    const { speed, ...params } = job.params;
    if (this.#service.suitableAccounts({ ...job, params }).length === 0) return 'No account in use can run this job';
    return `No account in use offers ${speed ?? 'fast'} mode`;
  }

  #wake(lane: Lane): void {
    void this.#pump(lane);
  }

  #wakeAll(): void {
    for (const lane of this.#lanes) this.#wake(lane);
  }

  #sleepUntil(lane: Lane, at: number): void {
    if (this.#stopped) return;
    if (lane.timer !== undefined && lane.timerAt <= at && lane.timerAt > this.#now()) return;
    clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        lane.timerAt = Number.POSITIVE_INFINITY;
        void this.#pump(lane);
      },
      Math.max(0, at - this.#now()),
    );
    lane.timer.unref?.();
  }
}
