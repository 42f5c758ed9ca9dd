// Types for the two files of rate-limiter-flexible that server/src/rate-limiter.ts loads directly.
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
