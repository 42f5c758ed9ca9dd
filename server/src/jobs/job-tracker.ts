// Keeps running jobs moving when no browser is watching: refreshes the job checked longest
// ago, one upstream call at a time with a minimum spacing so that tracking alone stays
// inside the key's budget, and pauses everything after an upstream 429.
import type { Logger } from 'pino';
import { UpstreamError } from '../errors';
import type { JobStore } from '../store/job-store';
import type { JobService } from './job-service';

export interface TrackerOptions {
  /** No job is asked about more often than this. */
  jobIntervalMs: number;
  /** At least this long between two status calls, whichever jobs they are for. */
  spacingMs: number;
  /** How often to look for due jobs when none was due. */
  idleMs: number;
}

export class JobTracker {
  readonly #service: JobService;
  readonly #store: JobStore;
  readonly #logger: Logger;
  readonly #options: TrackerOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;

  constructor(service: JobService, store: JobStore, logger: Logger, options: TrackerOptions) {
    this.#service = service;
    this.#store = store;
    this.#logger = logger;
    this.#options = options;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Refreshes the most overdue job, if any is due; answers how long to wait before the next step. */
  async step(now = Date.now()): Promise<number> {
    const due = this.#store
      .listActive()
      .filter((job) => job.upstreamId && (job.checkedAt ?? 0) + this.#options.jobIntervalMs <= now)
      .sort((a, b) => (a.checkedAt ?? 0) - (b.checkedAt ?? 0))[0];
    if (!due) return this.#options.idleMs;
    try {
      await this.#service.refresh(due.id);
    } catch (error) {
      if (error instanceof UpstreamError && error.kind === 'rate_limited') {
        const pauseMs = (error.retryAfterS ?? 30) * 1000;
        this.#logger.warn({ pause_ms: pauseMs }, 'the upstream rate-limited status checks; pausing');
        return pauseMs;
      }
      this.#logger.warn({ job_id: due.id, err: error }, 'a status check failed; it will be retried');
    }
    return this.#options.spacingMs;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      const next = await this.step().catch((error: unknown) => {
        this.#logger.error({ err: error }, 'the job tracker failed a step');
        return this.#options.idleMs;
      });
      this.#schedule(next);
    }, delayMs);
  }
}
