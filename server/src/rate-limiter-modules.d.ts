// Types for the files of rate-limiter-flexible that server/src/rate-limiter.ts loads directly.
declare module 'rate-limiter-flexible/lib/RateLimiterMemory.js' {
  import type { RateLimiterMemory } from 'rate-limiter-flexible';

  const MemoryLimiter: typeof RateLimiterMemory;
  export default MemoryLimiter;
}
declare module 'rate-limiter-flexible/lib/RateLimiterRes.js' {
  import type { RateLimiterRes } from 'rate-limiter-flexible';

  const LimiterAnswer: typeof RateLimiterRes;
  export default LimiterAnswer;
}
declare module 'rate-limiter-flexible/lib/RateLimiterRedis.js' {
  import type { RateLimiterRedis } from 'rate-limiter-flexible';

  const RedisLimiter: typeof RateLimiterRedis;
  export default RedisLimiter;
}
