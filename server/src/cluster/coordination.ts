// What several instances share in Redis besides the store: a lease (which instance schedules
// the upstream calls), messages between instances, a short-lived shared view, and the per-client
// limits' counters. One command connection and one subscriber connection per instance.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Coordinator, Leadership } from '../jobs/shared-scheduler';
import { type LimiterFactory, RateLimiterMemory, RateLimiterRedis } from '../rate-limiter';

/** Renews the lease only while this instance still holds it (another may hold it by now). */
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;
/**
 * Takes the lease when it is free, or when it is already this instance's (a take whose answer
 * timed out may have taken it).
 */
const TAKE_SCRIPT = `local holder = redis.call('get', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
/** Gives the lease up only if it is still this instance's. */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

export interface CoordinationOptions {
  url: string;
  /** Every key and channel starts with it (REDIS_PREFIX). */
  prefix: string;
  logger: Logger;
  /** How long a lease lasts without renewal: how soon another instance takes over a dead one's work. */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 5_000;
/** How long one Redis call may take: a fifth of the lease. */
const callTimeoutMs = (options: CoordinationOptions) =>
  Math.max(100, Math.floor((options.leaseMs ?? DEFAULT_LEASE_MS) / 5));
const CONNECT_TIMEOUT_MS = 5_000;

export class Coordination implements Coordinator {
  readonly instanceId = randomUUID();
  readonly redis: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #handlers = new Map<string, (message: unknown) => void>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();
  readonly #releases: (() => Promise<void>)[] = [];

  private constructor(options: CoordinationOptions, redis: Redis, subscriber: Redis) {
    this.redis = redis;
    this.#subscriber = subscriber;
    this.#prefix = options.prefix;
    this.#logger = options.logger;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    // An idle subscriber would never notice a dead connection: a ping now and then does.
    const ping = setInterval(() => void subscriber.ping().catch(() => undefined), 2 * callTimeoutMs(options));
    ping.unref();
    this.#timers.add(ping);
    subscriber.on('message', (channel: string, text: string) => {
      const handler = this.#handlers.get(channel);
      if (!handler) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      try {
        handler(message);
      } catch (error) {
        // The store out of reach, say: the holder finds the job at its next reconcile anyway.
        this.#logger.warn({ err: error, channel }, 'a message from another instance could not be handled');
      }
    });
  }

  /** Connects both connections, or fails naming Redis (never the URL: it may hold a password). */
  static async connect(options: CoordinationOptions): Promise<Coordination> {
    const open = () =>
      new Redis(options.url, {
        lazyConnect: true,
        connectTimeout: CONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: 2,
        // A call that hangs (a half-open connection) fails instead, well within a lease, and a
        // connection that stops answering is dropped and made again (the subscriber is pinged
        // for that).
        commandTimeout: callTimeoutMs(options),
        socketTimeout: 2 * callTimeoutMs(options),
      });
    const redis = open();
    const subscriber = open();
    let lastError: string | undefined;
    let connected = false;
    for (const connection of [redis, subscriber]) {
      // ioredis reconnects by itself; an error between reconnects is logged, not thrown.
      connection.on('error', (error: Error) => {
        lastError = error.message;
        if (connected) options.logger.warn({ err: { message: error.message } }, 'Redis: %s', error.message);
      });
    }
    try {
      await Promise.all([redis.connect(), subscriber.connect()]);
      connected = true;
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      const reason = lastError ?? (error instanceof Error ? error.message : String(error));
      throw new Error(`Could not reach Redis at REDIS_URL: ${reason}`);
    }
    return new Coordination(options, redis, subscriber);
  }

  key(name: string): string {
    return `${this.#prefix}${name}`;
  }

  /** Per-client limits counted in Redis, one count for every instance. */
  readonly limiters: LimiterFactory = (name, points, duration) =>
    new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: this.key(`limit:${name}`),
      points,
      duration,
      // Redis away: each instance counts on its own meanwhile, rather than refusing everyone,
      // and at once while the connection is down rather than after a call's time-out.
      insuranceLimiter: new RateLimiterMemory({ points, duration }),
      rejectIfRedisNotReady: true,
    });

  publish(channel: string, message: object): void {
    void this.redis.publish(this.key(`channel:${channel}`), JSON.stringify(message)).catch((error: unknown) => {
      this.#logger.warn({ err: error, channel }, 'a message to the other instances was not sent');
    });
  }

  subscribe(channel: string, handler: (message: unknown) => void): void {
    const name = this.key(`channel:${channel}`);
    this.#handlers.set(name, handler);
    void this.#subscriber.subscribe(name).catch((error: unknown) => {
      this.#logger.error({ err: error, channel }, 'could not listen to the other instances');
    });
  }

  async putView(name: string, value: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(`view:${name}`), JSON.stringify(value), 'PX', ttlMs);
  }

  /** The view and how long ago it was written (from its key's time to live, not a clock). */
  async getView(name: string, ttlMs: number): Promise<{ value: unknown; ageMs: number } | undefined> {
    const key = this.key(`view:${name}`);
    const [text, left] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
    if (text === null || left < 0) return undefined;
    try {
      return { value: JSON.parse(text), ageMs: Math.max(0, ttlMs - left) };
    } catch {
      return undefined;
    }
  }

  /**
   * Holds the named lease whenever it is free: tries every `leaseMs / 5`, renews as often
   * while held. `leader(true)` once it is taken, `leader(false)` once it is lost: when a renewal
   * finds another holder, or when renewals have failed for long enough that another instance
   * may hold it (the lease's time less a margin), whichever comes first. Answers how to let
   * it go for good (shutting down: another instance takes it at once).
   */
  lead(name: string, leader: Leadership): () => Promise<void> {
    const key = this.key(`lease:${name}`);
    const every = Math.max(50, Math.floor(this.#leaseMs / 5));
    // A monotonic clock: a wall-clock step must not stretch the lease in this instance's eyes.
    const now = () => performance.now();
    let heldUntil = 0;
    let busy = false;
    let released = false;
    const drop = (why: string) => {
      if (heldUntil === 0) return;
      heldUntil = 0;
      this.#logger.warn({ lease: name, why }, 'this instance no longer holds the lease');
      leader(false);
    };
    const tick = async () => {
      // Checked first, even while a call hangs: renewals failing (Redis away, this process
      // stalled) stop the scheduling before another instance may take the lease.
      if (heldUntil > 0 && now() > heldUntil - 2 * every) drop('renewals failed');
      if (busy || released) return;
      busy = true;
      const startedAt = now();
      try {
        if (heldUntil > 0) {
          const renewed = await this.redis.eval(RENEW_SCRIPT, 1, key, this.instanceId, String(this.#leaseMs));
          if (heldUntil === 0) return;
          if (renewed === 1) heldUntil = startedAt + this.#leaseMs;
          else drop('another instance holds it');
        } else {
          const taken = await this.redis.eval(TAKE_SCRIPT, 1, key, this.instanceId, String(this.#leaseMs));
          if (taken !== 1) return;
          if (released) {
            // Let go while the take was on its way: give it straight back.
            await this.redis.eval(RELEASE_SCRIPT, 1, key, this.instanceId);
            return;
          }
          heldUntil = startedAt + this.#leaseMs;
          this.#logger.info({ lease: name, instance: this.instanceId }, 'this instance holds the lease');
          leader(true);
        }
      } catch (error) {
        this.#logger.warn({ err: error, lease: name }, 'the lease could not be renewed or taken');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), every);
    timer.unref();
    this.#timers.add(timer);
    void tick();
    const release = async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      this.#timers.delete(timer);
      if (heldUntil === 0) return;
      heldUntil = 0;
      leader(false);
      await this.redis.eval(RELEASE_SCRIPT, 1, key, this.instanceId).catch(() => undefined);
    };
    this.#releases.push(release);
    return release;
  }

  /** Lets any lease go (another instance takes over at once) and closes both connections. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    for (const release of this.#releases) await release();
    await Promise.allSettled([this.#subscriber.quit(), this.redis.quit()]);
  }
}
