// Per-client limits, so that one browser or script cannot spend the whole key: submissions
// per minute (rate-limiter-flexible) counted per owner AND per client address (an owner is
// only a cookie, which a client can drop), jobs running at once per owner, and new owners per
// address (each cookie-less request would otherwise be a fresh client). Every refusal is a
// `limit_reached` domain error that says when to try again.

import { DomainError } from '../errors';
import { type LimiterFactory, memoryLimiters, type RateLimiterAbstract, RateLimiterRes } from '../rate-limiter';
import type { JobService } from './job-service';

export interface ClientLimitOptions {
  submitsPerMinute: number;
  /** Submissions a minute from one address, whatever owners it claims to be. */
  submitsPerMinutePerAddress: number;
  runningJobs: number;
  /** New owners (cookie-less first visits) one address may start in an hour. */
  newOwnersPerHourPerAddress: number;
  /** Where the counts live (memory unless several instances share them). */
  limiters?: LimiterFactory;
}

const RUNNING_RETRY_S = 10;

export interface Client {
  owner: string;
  address: string;
}

export class ClientLimits {
  readonly #jobs: JobService;
  readonly #options: ClientLimitOptions;
  readonly #byOwner: RateLimiterAbstract;
  readonly #byAddress: RateLimiterAbstract;
  readonly #newOwners: RateLimiterAbstract;

  constructor(jobs: JobService, options: ClientLimitOptions) {
    this.#jobs = jobs;
    this.#options = options;
    const limiter = options.limiters ?? memoryLimiters;
    this.#byOwner = limiter('submits-by-owner', options.submitsPerMinute, 60);
    this.#byAddress = limiter('submits-by-address', options.submitsPerMinutePerAddress, 60);
    this.#newOwners = limiter('new-owners-by-address', options.newOwnersPerHourPerAddress, 60 * 60);
  }

  /**
   * Counts one submission for this client, or throws when it is over a limit. A job that
   * costs more than a standard one (--q 2, --turbo, an omni reference) counts that many times.
   */
  async admit(client: Client, cost = 1): Promise<void> {
    const points = Math.max(1, Math.ceil(cost));
    const running = this.#jobs.runningCount(client.owner);
    if (running >= this.#options.runningJobs) {
      throw new DomainError(
        'limit_reached',
        `You already have ${running} jobs running (the limit is ${this.#options.runningJobs}); wait for one to finish`,
        { retryAfterS: RUNNING_RETRY_S },
      );
    }
    await take(
      this.#byAddress,
      client.address,
      points,
      (s) =>
        `At most ${this.#options.submitsPerMinutePerAddress} submissions a minute from one address; try again in ${s} s`,
    );
    await take(
      this.#byOwner,
      client.owner,
      points,
      (s) => `At most ${this.#options.submitsPerMinute} submissions a minute per client; try again in ${s} s`,
    );
  }

  /** Counts an upload like a submission (it fills the disk like one), without the running-jobs limit. */
  async admitUpload(client: Client): Promise<void> {
    await take(
      this.#byAddress,
      client.address,
      1,
      (s) => `Too many uploads and submissions from one address; try again in ${s} s`,
    );
    await take(this.#byOwner, client.owner, 1, (s) => `Too many uploads and submissions; try again in ${s} s`);
  }

  /** Counts a new owner made for a request from this address (one that brought no owner cookie). */
  admitNewOwner(address: string): Promise<void> {
    return take(
      this.#newOwners,
      address,
      1,
      (s) =>
        `Too many new clients from this address (each request without the mj_owner cookie is one); keep the cookie, or try again in ${s} s`,
    );
  }
}

async function take(
  limiter: RateLimiterAbstract,
  key: string,
  points: number,
  message: (retryAfterS: number) => string,
): Promise<void> {
  try {
    // A costly job that does not fit is refused without spending what is left, so a
    // standard one still can; rejected consumes would otherwise count too.
    if (points > limiter.points) {
      throw new DomainError(
        'conflict',
        `This job counts as ${points} submissions, more than the ${limiter.points} a minute allowed; lower its cost (quality, turbo, omni reference)`,
      );
    }
    const used = await limiter.get(key);
    if (used && used.consumedPoints + points > limiter.points) throw used;
    await limiter.consume(key, points);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const retryAfterS = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw new DomainError('limit_reached', message(retryAfterS), { retryAfterS });
  }
}
