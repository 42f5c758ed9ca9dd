// What the server does with a webhook once its route has checked who sent it: the adapter
// reads the body in its protocol's terms; a report (signed) is applied to the job at once and
// each delivery counts once; a hint (unsigned) only brings the job's next status check forward.
// A delivery id is remembered only once the delivery is dealt with (applied, or about nothing
// of ours), never when its body was refused: the sender's retry under that id must still count.
import type { Account } from '../accounts/account-pool';
import { DomainError, UpstreamError } from '../errors';
import type { UpstreamAdapter } from '../upstream/adapter';
import type { JobService } from './job-service';
import type { Scheduling } from './scheduling';

/** `applied` and `repeat` are acknowledged alike; `unknown_job`: about no job of ours. */
export type WebhookOutcome = 'applied' | 'repeat' | 'unknown_job' | 'ignored';

export class WebhookIntake {
  readonly #jobs: JobService;
  readonly #scheduler: Scheduling;
  readonly #account: Account;
  readonly #upstream: UpstreamAdapter;
  /** Deliveries being dealt with, by id: a repeat arriving meanwhile waits for the first. */
  readonly #receiving = new Map<string, Promise<unknown>>();

  /** One account's notices: its adapter reads them, and upstream ids are that account's. */
  constructor(jobs: JobService, scheduler: Scheduling, account: Account) {
    this.#jobs = jobs;
    this.#scheduler = scheduler;
    this.#account = account;
    this.#upstream = account.adapter;
  }

  /** Whether the upstream in use sends webhooks this server can read. */
  get enabled(): boolean {
    return typeof this.#upstream.parseWebhook === 'function';
  }

  /**
   * One delivery. `deliveryId`: the sender's id for it, when the transport has one (a repeat
   * of a delivery dealt with is acknowledged and changes nothing). A body that cannot be read
   * is an `invalid` error, and its id stays unspent so that a corrected retry is applied.
   */
  async receive(body: Buffer, deliveryId?: string): Promise<WebhookOutcome> {
    if (deliveryId === undefined) return this.#read(body);
    for (let earlier = this.#receiving.get(deliveryId); earlier; earlier = this.#receiving.get(deliveryId)) {
      await earlier.catch(() => undefined);
    }
    if (this.#jobs.hasDelivery(deliveryId)) return 'repeat';
    const work = this.#read(body);
    this.#receiving.set(deliveryId, work);
    try {
      const outcome = await work;
      this.#jobs.rememberDelivery(deliveryId);
      return outcome;
    } finally {
      this.#receiving.delete(deliveryId);
    }
  }

  async #read(body: Buffer): Promise<WebhookOutcome> {
    if (!this.#upstream.parseWebhook) throw new DomainError('not_found', 'Webhooks are not configured');
    let notice: ReturnType<NonNullable<UpstreamAdapter['parseWebhook']>>;
    try {
      notice = this.#upstream.parseWebhook(body);
    } catch (error) {
      throw this.#invalid(error);
    }
    if (!notice) return 'ignored';
    const upstreamId = notice.kind === 'report' ? notice.job.id : notice.upstreamId;
    const job = this.#jobs.findByUpstreamId(upstreamId, this.#account);
    if (!job) return 'unknown_job';
    if (notice.kind === 'hint') {
      // An (unverifiable) end is looked at as soon as the budget allows; mere progress only
      // with budget to spare, so hints cannot crowd out submissions.
      this.#scheduler.nudge(job.id, notice.final ? 'finish' : 'progress');
      return 'applied';
    }
    try {
      await this.#jobs.applyUpstream(job.id, notice.job);
    } catch (error) {
      throw this.#invalid(error);
    }
    return 'applied';
  }

  #invalid(error: unknown): unknown {
    return error instanceof UpstreamError ? new DomainError('invalid', error.message) : error;
  }
}
