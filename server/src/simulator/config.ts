// Every number the simulator behaves by. One time factor scales all durations and the rate
// limit window, so a test or benchmark can run the same behaviour many times faster.
export interface SimulatorConfig {
  /** The key of the first account (the only one, unless `keys` lists more). */
  apiKey: string;
  /** Every account the simulator plays, each its own key and rate limit (`apiKey`'s included). */
  keys: readonly { key: string; rateLimit: number }[];
  /** Multiplies every duration and the rate-limit window: 0.01 runs a hundred times faster. */
  timeFactor: number;
  queueMs: number;
  renderMs: number;
  /** High quality renders take this much longer. */
  highQualityFactor: number;
  /** Each job's duration varies by up to this share either way. */
  jitter: number;
  failureRate: number;
  rateLimit: number;
  rateWindowMs: number;
  blockedWords: readonly string[];
  /** How many jobs are remembered before the oldest are forgotten. */
  maxJobs: number;
  /** Scales the result images (1: 768 px long side, 1024 for high quality). */
  imageScale: number;
  /** Relay mode: whether POST /mj/submit/change exists (older relays) besides /submit/action. */
  changeRoute: boolean;
  /** Relay mode: Remix mode on the account, so variations and rerolls ask for a prompt (code 21). */
  remixMode: boolean;
}

export const DEFAULT_BLOCKED_WORDS = ['gore', 'nsfw', 'nude', 'blood', 'massacre'] as const;

export function simulatorConfig(overrides: Partial<SimulatorConfig> & { apiKey: string }): SimulatorConfig {
  return {
    timeFactor: 1,
    queueMs: 1_200,
    renderMs: 6_000,
    highQualityFactor: 1.6,
    jitter: 0.3,
    failureRate: 0.08,
    rateLimit: 60,
    rateWindowMs: 60_000,
    blockedWords: DEFAULT_BLOCKED_WORDS,
    maxJobs: 10_000,
    imageScale: 1,
    changeRoute: true,
    remixMode: false,
    keys: [],
    ...overrides,
  };
}
