// rate-limiter-flexible's in-memory limiter, loaded on its own: the package's index also loads
// its Redis, Mongo, SQL, Dynamo… limiters, about 8 MB of memory this server never uses.
import type * as Flexible from 'rate-limiter-flexible';
import MemoryLimiter from 'rate-limiter-flexible/lib/RateLimiterMemory.js';
import LimiterAnswer from 'rate-limiter-flexible/lib/RateLimiterRes.js';

export const RateLimiterMemory: typeof Flexible.RateLimiterMemory = MemoryLimiter;
export type RateLimiterMemory = Flexible.RateLimiterMemory;
export const RateLimiterRes: typeof Flexible.RateLimiterRes = LimiterAnswer;
export type RateLimiterRes = Flexible.RateLimiterRes;
