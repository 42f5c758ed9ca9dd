// rate-limiter-flexible's in-memory and Redis limiters, loaded on their own: the package's
// index also loads its Mongo, SQL, Dynamo… limiters, about 8 MB of memory this server never uses.
import type * as Flexible from 'rate-limiter-flexible';
import MemoryLimiter from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import RedisLimiter from 'rate-limiter-flexible/lib/RateLimiterRedis.js';
import LimiterAnswer from 'rate-limiter-flexible/lib/RateLimiterRes.js';

export const RateLimiterMemory: typeof Flexible.RateLimiterMemory = MemoryLimiter;
export type RateLimiterMemory = Flexible.RateLimiterMemory;
export const RateLimiterRes: typeof Flexible.RateLimiterRes = LimiterAnswer;
export type RateLimiterRes = Flexible.RateLimiterRes;
export const RateLimiterRedis: typeof Flexible.RateLimiterRedis = RedisLimiter;
export type RateLimiterRedis = Flexible.RateLimiterRedis;
export type RateLimiterAbstract = Flexible.RateLimiterAbstract;

/**
 * Makes the named counter of a per-client limit: in memory for one instance; in Redis when
 * several share the clients, so that a limit is one limit whichever instance a request meets.
 */
export type LimiterFactory = (name: string, points: number, durationS: number) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (_name, points, duration) => new RateLimiterMemory({ points, duration });
