// Delivers the relay protocol's notifyHook (docs/upstreams.md, "Serving the relay protocol"): each
// change of a task is POSTed as its JSON to the client's URL, through safe-fetch.ts's checks, retried.
//
// Why it holds: a job has at most one attempt in flight and at most one body waiting, and a
// newer change replaces the waiting body (coalescing), so a client sees its task's states in
// order and never a stale one after a newer, while memory stays bounded by the tracked jobs
// (at most `maxTracked`, each holding one URL and one body). Attempts run at most
// `concurrency` at a time; every wait is a timer of `timers`, so close() leaves nothing behind.
import type { Logger } from 'pino';
import { DomainError } from '../errors';
import { type FetchAllow, type HostResolver, LinkFailure, postJson, systemResolver } from '../upstream/safe-fetch';

/** The longest notifyHook taken, as midjourney-proxy's own submit schemas bound it. */
export const NOTIFY_HOOK_MAX_LENGTH = 2_000;
/** The waits before each retry; after the last one fails, the delivery is given up. */
export const NOTIFY_BACKOFF_MS: readonly number[] = [1_000, 4_000, 16_000, 60_000];
/** The relay statuses after which a task changes no more. */
const FINAL_STATUSES = new Set(['SUCCESS', 'FAILURE', 'CANCEL']);

export type TimerHandle = ReturnType<typeof setTimeout>;

/** The timers waits run on: a test passes, or installs, fake ones. */
export interface Timers {
  setTimeout(run: () => void, ms: number): TimerHandle;
  clearTimeout(timer: TimerHandle): void;
}

// The globals looked up at each call, so that fake timers installed after construction apply;
// unref'd, so a retry due in a minute does not hold a stopping process open.
const globalTimers: Timers = {
  setTimeout: (run, ms) => {
    const timer = setTimeout(run, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (timer) => clearTimeout(timer),
};

export interface NotifyHooksOptions {
  /** Where the reason a delivery was given up is logged: the job id and the host, never the URL. */
  logger: Pick<Logger, 'warn'>;
  /** Hosts and ranges a hook may reach although not public (parseFetchAllow's shape); none by default. */
  allow?: FetchAllow;
  /** How hook host names resolve (a test answers without DNS). */
  resolve?: HostResolver;
  /** Each attempt's time-out (default 5 s). */
  timeoutMs?: number;
  /** Attempts in flight at most, all jobs together (default 4). */
  concurrency?: number;
  /** The waits before the retries (default NOTIFY_BACKOFF_MS). */
  backoffMs?: readonly number[];
  /** Jobs tracked at most; tracking one more forgets the one tracked longest ago (default 10,000). */
  maxTracked?: number;
  timers?: Timers;
}

/** A task as the relay protocol shows it: whatever else it holds, its status says whether it is final. */
export interface HookedTask {
  status: string;
}

/** What is wrong with a notifyHook, for the client; undefined when it may be tracked. */
export function notifyHookProblem(link: string): string | undefined {
  if (link.length > NOTIFY_HOOK_MAX_LENGTH) return `notifyHook is longer than ${NOTIFY_HOOK_MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return 'notifyHook is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'notifyHook must be an http(s) URL';
  if (url.username || url.password) return 'notifyHook must not carry a user name or password';
  // Whether its address is public is asked at each delivery: DNS may answer otherwise by then.
  return undefined;
}

interface Tracked {
  url: string;
  /** For the log: a hook's path and query may hold the client's token. */
  host: string;
  /** The newest task JSON not yet delivered, and whether that task was final. */
  waiting: { json: string; final: boolean } | undefined;
  state: 'idle' | 'queued' | 'sending' | 'backoff';
  /** Retries already made for the delivery under way. */
  retries: number;
  timer: TimerHandle | undefined;
}

type Outcome = { kind: 'delivered' } | { kind: 'retry'; why: string } | { kind: 'ended'; why: string };

export class NotifyHooks {
  readonly #logger: Pick<Logger, 'warn'>;
  readonly #policy: { allow: FetchAllow; resolve: HostResolver };
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #backoffMs: readonly number[];
  readonly #maxTracked: number;
  readonly #timers: Timers;
  /** In memory, oldest first: a restart forgets the hooks (the client can still poll). */
  readonly #jobs = new Map<string, Tracked>();
  /** Jobs waiting for an attempt slot, in the order their deliveries became due. */
  readonly #queue: string[] = [];
  readonly #inFlight = new Map<Promise<void>, AbortController>();
  #closed = false;

  constructor(options: NotifyHooksOptions) {
    this.#logger = options.logger;
    this.#policy = {
      allow: options.allow ?? { hosts: new Set<string>(), ranges: [] },
      resolve: options.resolve ?? systemResolver,
    };
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#backoffMs = options.backoffMs ?? NOTIFY_BACKOFF_MS;
    this.#maxTracked = Math.max(1, options.maxTracked ?? 10_000);
    this.#timers = options.timers ?? globalTimers;
  }

  /**
   * Remembers where a job's changes go; throws DomainError('invalid') for a URL that cannot be
   * a hook (notifyHookProblem). Tracking a job again points it at the new URL.
   */
  track(jobId: string, link: string): void {
    const problem = notifyHookProblem(link);
    if (problem) throw new DomainError('invalid', problem, { field: 'notifyHook' });
    if (this.#closed) return;
    const host = new URL(link).host;
    const known = this.#jobs.get(jobId);
    if (known) {
      known.url = link;
      known.host = host;
      return;
    }
    this.#jobs.set(jobId, { url: link, host, waiting: undefined, state: 'idle', retries: 0, timer: undefined });
    for (const oldest of this.#jobs.keys()) {
      if (this.#jobs.size <= this.#maxTracked) break;
      this.#forget(oldest);
    }
  }

  /** Whether a job's changes are still delivered somewhere. */
  isTracked(jobId: string): boolean {
    return this.#jobs.has(jobId);
  }

  /** Delivers this state of the task to the job's hook, if it has one; the JSON is taken now. */
  changed(jobId: string, task: HookedTask): void {
    const job = this.#jobs.get(jobId);
    if (!job || this.#closed) return;
    job.waiting = { json: JSON.stringify(task), final: FINAL_STATUSES.has(task.status) };
    // Queued or backing off: the newer body simply goes instead. Sending: it waits its turn.
    if (job.state !== 'idle') return;
    job.retries = 0;
    this.#enqueue(jobId, job);
  }

  /** Resolves once no attempt is in flight (waits for retries may remain). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.keys()]);
  }

  /** Cancels every wait, aborts the attempts in flight and forgets every hook; resolves once they ended. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const jobId of [...this.#jobs.keys()]) this.#forget(jobId);
    for (const controller of this.#inFlight.values()) controller.abort();
    await this.settled();
  }

  #enqueue(jobId: string, job: Tracked): void {
    job.state = 'queued';
    this.#queue.push(jobId);
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight.size < this.#concurrency && !this.#closed) {
      const jobId = this.#queue.shift();
      if (jobId === undefined) return;
      const job = this.#jobs.get(jobId);
      if (job?.state !== 'queued' || !job.waiting) continue;
      const controller = new AbortController();
      const attempt = this.#attempt(jobId, job, job.waiting, controller).finally(() => {
        this.#inFlight.delete(attempt);
        this.#pump();
      });
      this.#inFlight.set(attempt, controller);
    }
  }

  async #attempt(
    jobId: string,
    job: Tracked,
    sent: { json: string; final: boolean },
    controller: AbortController,
  ): Promise<void> {
    job.state = 'sending';
    job.waiting = undefined;
    // Our own clock ends the attempt, so that a test's fake timers rule it too.
    const timeout = this.#timers.setTimeout(() => controller.abort(), this.#timeoutMs);
    const outcome = await this.#post(job.url, sent.json, controller.signal);
    this.#timers.clearTimeout(timeout);
    // Forgotten meanwhile (closed, or pushed out by newer jobs): nothing more to do.
    if (this.#jobs.get(jobId) !== job) return;

    if (outcome.kind === 'retry' && job.retries < this.#backoffMs.length) {
      // The retry carries the newest state: one that arrived meanwhile replaces the one that failed.
      job.waiting ??= sent;
      const wait = this.#backoffMs[job.retries] ?? 0;
      job.retries += 1;
      job.state = 'backoff';
      job.timer = this.#timers.setTimeout(() => {
        job.timer = undefined;
        if (this.#jobs.get(jobId) === job) this.#enqueue(jobId, job);
      }, wait);
      return;
    }
    if (outcome.kind !== 'delivered') {
      const attempts = job.retries + 1;
      this.#logger.warn({ jobId, host: job.host, attempts, reason: outcome.why }, 'notifyHook delivery given up');
    }
    if (sent.final) {
      // The final state was delivered or given up: the job has nothing more to say.
      this.#forget(jobId);
      return;
    }
    // A state that arrived during this attempt goes next, as a delivery of its own.
    job.state = 'idle';
    job.retries = 0;
    if (job.waiting) this.#enqueue(jobId, job);
  }

  /** One POST, judged: 2xx delivered; network trouble, 429 and 5xx worth a retry; anything else ends it. */
  async #post(url: string, json: string, signal: AbortSignal): Promise<Outcome> {
    try {
      const { status } = await postJson(url, json, { policy: this.#policy, timeoutMs: this.#timeoutMs, signal });
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      const why = `HTTP ${status}`;
      return status === 429 || status >= 500 ? { kind: 'retry', why } : { kind: 'ended', why };
    } catch (error) {
      // A refused address or a redirect would be refused again; silence and resets may pass.
      if (error instanceof LinkFailure) {
        const why = `${error.reason}: ${error.message}`;
        const passing = error.reason === 'timeout' || error.reason === 'unreachable';
        return passing ? { kind: 'retry', why } : { kind: 'ended', why };
      }
      // Not the network's doing (Node refusing the request itself): logged, never a crash in the background.
      return { kind: 'ended', why: error instanceof Error ? error.message : String(error) };
    }
  }

  #forget(jobId: string): void {
    const job = this.#jobs.get(jobId);
    if (!job) return;
    if (job.timer !== undefined) this.#timers.clearTimeout(job.timer);
    if (job.state === 'queued') this.#queue.splice(this.#queue.indexOf(jobId), 1);
    this.#jobs.delete(jobId);
  }
}
