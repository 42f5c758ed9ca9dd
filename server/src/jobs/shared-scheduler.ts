// Scheduling for several instances behind one address. One instance at a time holds the
// scheduler's lease and runs the one-process scheduler (upstream-scheduler.ts) over the shared
// store: it alone makes submissions and status checks, so each due check is made once and the
// pool's fair share stays exact; the budgets it spends are counted in Redis (key-budget.ts).
// The others record jobs in the store and tell it (`queued`); webhooks they receive are applied
// by them or passed on (`nudge`); every instance says which jobs it changed (`changed`), so the
// holder stops following ended ones and a relay client's hook is told wherever it was given;
// the others answer from the view the holder publishes every second. When
// the holder dies its lease expires and another instance takes over from the store: jobs the
// dead one was submitting are failed as unconfirmed (as after a crash), queued ones are sent,
// running ones are followed, and the budget spent in the last window is read back from Redis.
import { type AccountStatus, accountStatusSchema } from '@shared/schemas/account';
import { type Budget, budgetSchema } from '@shared/schemas/job';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Account } from '../accounts/account-pool';
import { DomainError, UpstreamError } from '../errors';
import { isActive, type JobRecord } from '../store/job-store';
import type { JobService } from './job-service';
import type { Scheduling } from './scheduling';
import type { UpstreamScheduler } from './upstream-scheduler';

/** Told `true` when this instance takes the lease, `false` when it loses it. */
export type Leadership = (leader: boolean) => void;

/** What the instances share (Redis, in cluster/coordination.ts). */
export interface Coordinator {
  /** This instance's own id (messages it sent come back to it too). */
  readonly instanceId: string;
  publish(channel: string, message: object): void;
  subscribe(channel: string, handler: (message: unknown) => void): void;
  putView(name: string, value: unknown, ttlMs: number): Promise<void>;
  /** A view and its age, given the time to live it was put with. */
  getView(name: string, ttlMs: number): Promise<{ value: unknown; ageMs: number } | undefined>;
  /** Holds the lease whenever it is free; answers how to let it go for good. */
  lead(name: string, leader: Leadership): () => Promise<void>;
}

export interface SharedSchedulerDeps {
  service: JobService;
  accounts: readonly Account[];
  coordinator: Coordinator;
  logger: Logger;
  /** A fresh one-process scheduler, made each time this instance takes the lease. */
  makeScheduler: () => UpstreamScheduler;
  /** Submissions that may wait per account in rotation (SUBMIT_QUEUE_MAX). */
  queueMax: number;
  /**
   * A claimed submission older than this has no live sender (its call would have timed out):
   * it is failed as unconfirmed. Younger ones may still be on their way from a former holder.
   */
  abandonAfterMs: number;
  now?: () => number;
}

/** How often the holder publishes its view, and how often the others read it. */
const VIEW_EVERY_MS = 1_000;
/** A view older than this is no view (its holder is gone). */
const VIEW_TTL_MS = 5_000;
/** How often the holder brings its plan in line with the store. */
const RECONCILE_EVERY_MS = 2_000;

const idMessage = z.object({ id: z.string().min(1).max(128) });
const nudgeMessage = idMessage.extend({ reason: z.enum(['finish', 'progress']) });
const changedMessage = idMessage.extend({ final: z.boolean(), from: z.string().max(64) });
const viewSchema = z.object({
  at: z.number(),
  accounts: z.array(accountStatusSchema),
  budget: budgetSchema,
  queue: z.array(z.string()),
  next: z.record(z.string(), z.number()),
  intervalMs: z.number().positive(),
});
type View = z.infer<typeof viewSchema>;

export class SharedScheduler implements Scheduling {
  readonly #deps: SharedSchedulerDeps;
  readonly #now: () => number;
  /** Never started: answers for this instance's accounts while no view is published. */
  readonly #idle: UpstreamScheduler;
  /** The running scheduler while this instance holds the lease. */
  #leading: UpstreamScheduler | undefined;
  /** Counts lease changes, so a takeover interrupted by a loss does not start late. */
  #generation = 0;
  #view: View | undefined;
  #viewTimer: ReturnType<typeof setInterval> | undefined;
  #reconcileTimer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #release: (() => Promise<void>) | undefined;

  constructor(deps: SharedSchedulerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#idle = deps.makeScheduler();
    const { coordinator, service } = deps;
    coordinator.subscribe('queued', (message) => {
      const parsed = idMessage.safeParse(message);
      if (parsed.success) this.#leading?.enqueue(parsed.data.id);
    });
    coordinator.subscribe('nudge', (message) => {
      const parsed = nudgeMessage.safeParse(message);
      if (parsed.success) this.#leading?.nudge(parsed.data.id, parsed.data.reason);
    });
    coordinator.subscribe('changed', (message) => {
      const parsed = changedMessage.safeParse(message);
      if (!parsed.success || parsed.data.from === coordinator.instanceId) return;
      // A job that ended elsewhere (a webhook applied, a cancellation) is no longer the
      // holder's to follow; and whoever here follows it for a client (a relay notifyHook) hears.
      if (parsed.data.final) this.#leading?.forget(parsed.data.id);
      service.changedElsewhere(parsed.data.id);
    });
    service.onChange((job, where) => {
      if (where === 'here') {
        coordinator.publish('changed', { id: job.id, final: !isActive(job.status), from: coordinator.instanceId });
      }
    });
  }

  /** Whether this instance holds the lease now. */
  get leading(): boolean {
    return this.#leading !== undefined;
  }

  start(): void {
    if (this.#release) return;
    this.#stopped = false;
    this.#release = this.#deps.coordinator.lead('scheduler', (leader) =>
      leader ? this.#tryTakeOver() : this.#stepDown(),
    );
    this.#viewTimer = setInterval(() => void this.#shareView(), VIEW_EVERY_MS);
    this.#viewTimer.unref();
    void this.#shareView();
  }

  /** Stops scheduling here and lets the lease go, so another instance takes over at once. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#viewTimer);
    this.#stepDown();
    void this.#release?.();
    this.#release = undefined;
  }

  async pump(): Promise<void> {
    await this.#leading?.pump();
  }

  async admit(job: JobRecord): Promise<JobRecord> {
    if (this.#leading) return this.#leading.admit(job);
    const { service } = this.#deps;
    const suitable = service.suitableAccounts(job);
    if (suitable.length === 0) {
      service.discard(job.id);
      throw new DomainError('conflict', this.#idle.unsuitable(job));
    }
    const view = this.#freshView();
    if (view) {
      // The same refusals the holder would give, from what it last published.
      const states = new Map(view.accounts.map((account) => [account.name, account]));
      const down = suitable.filter((account) => states.get(account.spec.name)?.state === 'down');
      if (down.length === suitable.length) {
        service.discard(job.id);
        const probeS = Math.min(...down.map((account) => states.get(account.spec.name)?.probe_in_s ?? 1));
        throw new UpstreamError(
          'account',
          `No account that can run this job is in rotation (${down.map((a) => `${a.spec.name}: ${states.get(a.spec.name)?.reason ?? 'down'}`).join('; ')}); try again later`,
          { retryAfterS: Math.max(1, probeS) },
        );
      }
      const inRotation = view.accounts.filter((account) => account.state !== 'down' && account.state !== 'disabled');
      const queueMax = this.#deps.queueMax * Math.max(1, inRotation.length);
      if (view.queue.length >= queueMax) {
        service.discard(job.id);
        const retryAfterS = Math.max(1, Math.ceil(((view.queue.length + 1) * view.intervalMs) / 1000));
        throw new DomainError(
          'queue_full',
          `The upstream budget is used up and ${view.queue.length} submissions are waiting; try again in ${retryAfterS} s`,
          { retryAfterS },
        );
      }
    }
    // Recorded as queued in the shared store: the holder sends it (told now, or found there
    // within RECONCILE_EVERY_MS should this message be lost).
    this.#deps.coordinator.publish('queued', { id: job.id });
    return job;
  }

  queuePosition(id: string): number | undefined {
    if (this.#leading) return this.#leading.queuePosition(id);
    const index = this.#freshView()?.queue.indexOf(id) ?? -1;
    return index < 0 ? undefined : index + 1;
  }

  nextUpdateAt(id: string): number | undefined {
    if (this.#leading) return this.#leading.nextUpdateAt(id);
    const view = this.#freshView();
    if (!view) return undefined;
    const position = this.queuePosition(id);
    if (position !== undefined) return this.#now() + position * view.intervalMs;
    return view.next[id];
  }

  nudge(id: string, reason: 'finish' | 'progress' = 'finish'): void {
    if (this.#leading) this.#leading.nudge(id, reason);
    else this.#deps.coordinator.publish('nudge', { id, reason });
  }

  get pushed(): boolean {
    return this.#idle.pushed;
  }

  get queueLength(): number {
    return this.#leading?.queueLength ?? this.#freshView()?.queue.length ?? 0;
  }

  accounts(details = true): AccountStatus[] {
    if (this.#leading) return this.#leading.accounts(details);
    const view = this.#freshView();
    if (!view) return this.#idle.accounts(details);
    return details ? view.accounts : view.accounts.map(({ reason: _r, last_error: _e, ...account }) => account);
  }

  budget(): Budget {
    return this.#leading?.budget() ?? this.#freshView()?.budget ?? this.#idle.budget();
  }

  /** Takes over, and while the lease is still held tries again after a failure (the store away). */
  #tryTakeOver(): void {
    const generation = this.#generation + 1;
    this.#takeOver().catch((error: unknown) => {
      this.#deps.logger.error({ err: error }, 'could not take over the scheduling; retrying');
      setTimeout(() => {
        if (generation === this.#generation && !this.#leading && !this.#stopped) this.#tryTakeOver();
      }, VIEW_EVERY_MS).unref();
    });
  }

  async #takeOver(): Promise<void> {
    const generation = ++this.#generation;
    const { service, accounts, logger } = this.#deps;
    // What the others spent in the last window, before planning a single call.
    await Promise.all(accounts.map((account) => account.budget.catchUp().catch(() => undefined)));
    if (generation !== this.#generation || this.#stopped) return;
    // Only claims too old to be in flight: a former holder still alive may be sending the rest,
    // and reconciling fails them later if nobody confirms them.
    const interrupted = service.recoverInterrupted(this.#now() - this.#deps.abandonAfterMs, () => false);
    const scheduler = this.#deps.makeScheduler();
    scheduler.resume();
    scheduler.start();
    this.#leading = scheduler;
    logger.info({ interrupted, active: service.listActive().length }, 'this instance now schedules the upstream calls');
    this.#reconcileTimer = setInterval(() => this.#reconcile(), RECONCILE_EVERY_MS);
    this.#reconcileTimer.unref();
    void this.#shareView();
  }

  #stepDown(): void {
    this.#generation += 1;
    clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = undefined;
    if (!this.#leading) return;
    this.#leading.stop();
    this.#leading = undefined;
    this.#deps.logger.warn('this instance stopped scheduling the upstream calls');
  }

  #reconcile(): void {
    try {
      const leading = this.#leading;
      if (!leading) return;
      // A claimer that died mid-submission leaves its job `submitting`: end it once no call can
      // be on its way. One read serves both (a job failed here is neither queued nor followed).
      const active = this.#deps.service.listActive();
      this.#deps.service.recoverInterrupted(
        this.#now() - this.#deps.abandonAfterMs,
        (id) => leading.isSending(id),
        active,
      );
      leading.reconcile(active);
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'the plan could not be brought in line with the store');
    }
  }

  /** The holder publishes what the others answer from; the others read it. */
  async #shareView(): Promise<void> {
    const { coordinator, logger } = this.#deps;
    try {
      const leading = this.#leading;
      if (leading) {
        const budget = leading.budget();
        const view: View = {
          at: Date.now(),
          accounts: leading.accounts(true),
          budget,
          ...leading.plan(),
          intervalMs: (budget.window_s * 1000) / Math.max(1, budget.limit),
        };
        this.#view = view;
        await coordinator.putView('scheduler', view, VIEW_TTL_MS);
        return;
      }
      // Aged by its key's time to live (the holder's clock may differ from this host's).
      const read = await coordinator.getView('scheduler', VIEW_TTL_MS);
      const parsed = viewSchema.safeParse(read?.value);
      this.#view = read && parsed.success ? { ...parsed.data, at: Date.now() - read.ageMs } : undefined;
    } catch (error) {
      logger.warn({ err: error }, 'the shared view could not be read or written');
    }
  }

  #freshView(): View | undefined {
    const view = this.#view;
    return view && Date.now() - view.at < VIEW_TTL_MS ? view : undefined;
  }
}
