// Per-client limits on submissions, so that one browser or script cannot spend the whole
// key: submissions per minute (rate-limiter-flexible, the limiter already in use) and jobs
// running at once. Both answer 429 with Retry-After.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors';
import type { JobStore } from '../store/job-store';

export interface ClientLimitOptions {
  submitsPerMinute: number;
  runningJobs: number;
  store: JobStore;
}

const RUNNING_RETRY_S = 10;

/** Answers a check to run before a valid submission is accepted; it throws the 429. */
export function clientLimits(options: ClientLimitOptions): (owner: string) => Promise<void> {
  const submissions = new RateLimiterMemory({ points: options.submitsPerMinute, duration: 60 });
  return async (owner) => {
    const running = options.store.countActiveByOwner(owner);
    if (running >= options.runningJobs) {
      throw new AppError(
        429,
        'rate_limited',
        `You already have ${running} jobs running (the limit is ${options.runningJobs}); wait for one to finish`,
        { retryAfterS: RUNNING_RETRY_S },
      );
    }
    try {
      await submissions.consume(owner);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterS = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError(
        429,
        'rate_limited',
        `At most ${options.submitsPerMinute} submissions a minute per client; try again in ${retryAfterS} s`,
        { retryAfterS },
      );
    }
  };
}
