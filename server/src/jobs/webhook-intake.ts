// What the server does with a webhook once its route has checked who sent it: the adapter
// reads the body in its protocol's terms; a report (signed) is applied to the job at once and
// each delivery counts once; a hint (unsigned) only brings the job's next status check forward.
import { DomainError, UpstreamError } from '../errors';
import type { UpstreamAdapter } from '../upstream/adapter';
import type { JobService } from './job-service';
import type { UpstreamScheduler } from './upstream-scheduler';

/** `applied` and `repeat` are acknowledged alike; `unknown_job`: about no job of ours. */
export type WebhookOutcome = 'applied' | 'repeat' | 'unknown_job' | 'ignored';

export class WebhookIntake {
  readonly #jobs: JobService;
  readonly #scheduler: UpstreamScheduler;
  readonly #upstream: UpstreamAdapter;

  constructor(jobs: JobService, scheduler: UpstreamScheduler, upstream: UpstreamAdapter) {
    this.#jobs = jobs;
    this.#scheduler = scheduler;
    this.#upstream = upstream;
  }

  /** Whether the upstream in use sends webhooks this server can read. */
  get enabled(): boolean {
    return typeof this.#upstream.parseWebhook === 'function';
  }

  /**
   * One delivery. `deliveryId`: the sender's id for it, when the transport has one (a repeat
   * is acknowledged and changes nothing). A body that cannot be read is an `invalid` error.
   */
  async receive(body: Buffer, deliveryId?: string): Promise<WebhookOutcome> {
    if (!this.#upstream.parseWebhook) throw new DomainError('not_found', 'Webhooks are not configured');
    if (deliveryId !== undefined && !this.#jobs.rememberDelivery(deliveryId)) return 'repeat';
    let notice: ReturnType<NonNullable<UpstreamAdapter['parseWebhook']>>;
    try {
      notice = this.#upstream.parseWebhook(body);
    } catch (error) {
      throw this.#invalid(error);
    }
    if (!notice) return 'ignored';
    const upstreamId = notice.kind === 'report' ? notice.job.id : notice.upstreamId;
    const job = this.#jobs.findByUpstreamId(upstreamId);
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
