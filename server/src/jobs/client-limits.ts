// Per-client limits on submissions, so that one browser or script cannot spend the whole
// key: submissions per minute (rate-limiter-flexible) and jobs running at once. Both are a
// `limit_reached` domain error that says when to try again.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../errors';
import type { JobService } from './job-service';

export interface ClientLimitOptions {
  submitsPerMinute: number;
  runningJobs: number;
}

const RUNNING_RETRY_S = 10;

export class ClientLimits {
  readonly #jobs: JobService;
  readonly #options: ClientLimitOptions;
  readonly #submissions: RateLimiterMemory;

  constructor(jobs: JobService, options: ClientLimitOptions) {
    this.#jobs = jobs;
    this.#options = options;
    this.#submissions = new RateLimiterMemory({ points: options.submitsPerMinute, duration: 60 });
  }

  /** Counts one submission for this owner, or throws when the owner is over a limit. */
  async admit(owner: string): Promise<void> {
    const running = this.#jobs.runningCount(owner);
    if (running >= this.#options.runningJobs) {
      throw new DomainError(
        'limit_reached',
        `You already have ${running} jobs running (the limit is ${this.#options.runningJobs}); wait for one to finish`,
        { retryAfterS: RUNNING_RETRY_S },
      );
    }
    try {
      await this.#submissions.consume(owner);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterS = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new DomainError(
        'limit_reached',
        `At most ${this.#options.submitsPerMinute} submissions a minute per client; try again in ${retryAfterS} s`,
        { retryAfterS },
      );
    }
  }
}
