// The simulated upstream's state: jobs whose status is derived from the clock (no timers),
// the content filter, and the per-key sliding-window rate limit.
import { randomBytes } from 'node:crypto';
import type { Quality } from '@shared/schemas/imagine';
import type { PromptParams } from '@shared/schemas/params-values';
import type { SimulatorConfig } from './config';
import { tileLook } from './image';
import type { SimJob, SimJobPersistence } from './sim-store';

export type SimStatus = 'pending' | 'processing' | 'complete' | 'failed' | 'cancelled';

export type SimKind = 'IMAGINE' | 'UPSCALE' | 'VARIATION' | 'REROLL' | 'DESCRIBE' | 'BLEND';

/** What a submission may add to a job besides its prompt, ratio and quality. */
export type SimShape = Partial<
  Pick<
    SimJob,
    'grid' | 'kind' | 'seed' | 'wobble' | 'parentId' | 'notifyHook' | 'style' | 'descriptions' | 'finalPrompt'
  >
> & {
  /** A draft renders in a fraction of the time. */
  draft?: boolean;
};

export interface SimJobView {
  id: string;
  status: SimStatus;
  progress: number;
  prompt: string;
  aspectRatio: string;
  quality: Quality;
  error?: string;
  kind: SimKind;
  style?: SimJob['style'];
  descriptions?: string[];
  finalPrompt?: string;
  /** A grid of four images (relay jobs other than upscales). */
  grid: boolean;
  seed: string;
  wobble?: string;
  parentId?: string;
  /** Scheduled times on the engine's clock. */
  startsAt: number;
  endsAt: number;
}

/** What the painter makes of a prompt's parameters (the seed picks the scene). */
export function shapeOf(params: PromptParams): SimShape {
  const style = {
    ...(params.stylize !== undefined ? { stylize: params.raw ? params.stylize / 2 : params.stylize } : {}),
    ...(params.chaos !== undefined ? { chaos: params.chaos } : {}),
    ...(params.weird !== undefined ? { weird: params.weird } : {}),
    ...(params.no ? { no: params.no } : {}),
  };
  return {
    ...(Object.keys(style).length > 0 ? { style } : {}),
    ...(params.seed !== undefined ? { seed: `s${params.seed}` } : {}),
    ...(params.draft ? { draft: true } : {}),
  };
}

/** Upscaling one tile of a grid takes this share of a full render; so does a describe; a draft less. */
const UPSCALE_SHARE = 0.4;
const DESCRIBE_SHARE = 0.4;
const DRAFT_SHARE = 0.3;

const FAIL_REASONS = [
  'The render worker ran out of GPU memory',
  'The job timed out in the render queue',
  'The moderation pass flagged the finished image',
];

export interface EngineDeps {
  now?: () => number;
  random?: () => number;
  persistence?: SimJobPersistence;
}

export class SimulatorEngine {
  readonly config: SimulatorConfig;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #jobs = new Map<string, SimJob>();
  readonly #calls = new Map<string, number[]>();
  readonly #persistence: SimJobPersistence | undefined;

  constructor(config: SimulatorConfig, deps: EngineDeps = {}) {
    this.config = config;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#persistence = deps.persistence;
    for (const job of this.#persistence?.loadNewest(config.maxJobs) ?? []) this.#jobs.set(job.id, job);
  }

  /** Records one call against the key's budget; answers the seconds to wait when over it. */
  takeRateToken(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const now = this.#now();
    const windowMs = this.config.rateWindowMs * this.config.timeFactor;
    const calls = (this.#calls.get(key) ?? []).filter((at) => at > now - windowMs);
    if (calls.length >= this.config.rateLimit) {
      this.#calls.set(key, calls);
      const oldest = calls[0] ?? now;
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
    }
    calls.push(now);
    this.#calls.set(key, calls);
    return { ok: true };
  }

  blockedWordIn(prompt: string): string | undefined {
    const words = prompt.toLowerCase().split(/[^\p{L}\p{N}]+/u);
    return this.config.blockedWords.find((blocked) => words.includes(blocked.toLowerCase()));
  }

  submit(prompt: string, aspectRatio: string, quality: Quality, options: SimShape = {}): SimJobView {
    const { config } = this;
    const { draft, ...shape } = options;
    const now = this.#now();
    const spread = 1 + (this.#random() * 2 - 1) * config.jitter;
    const qualityFactor = quality === 'high' ? config.highQualityFactor : 1;
    const share =
      (shape.kind === 'UPSCALE' ? UPSCALE_SHARE : shape.kind === 'DESCRIBE' ? DESCRIBE_SHARE : 1) *
      (draft ? DRAFT_SHARE : 1);
    const startsAt = now + config.queueMs * config.timeFactor * spread;
    const endsAt = startsAt + config.renderMs * config.timeFactor * qualityFactor * spread * share;
    const fails = this.#random() < config.failureRate;
    const job: SimJob = {
      id: randomBytes(12).toString('base64url'),
      prompt,
      aspectRatio,
      quality,
      createdAt: now,
      startsAt,
      endsAt,
      failReason: FAIL_REASONS[Math.floor(this.#random() * FAIL_REASONS.length)] ?? 'The render failed',
      // Without a seed every job is a new picture, as Midjourney's are.
      seed: randomBytes(4).toString('hex'),
      ...shape,
    };
    if (fails) job.failAt = 0.2 + this.#random() * 0.7;
    this.#jobs.set(job.id, job);
    this.#persistence?.save(job);
    this.#forgetOldest();
    return this.#view(job, now);
  }

  /**
   * A relay's grid action: upscale tile `index`, vary it, or reroll the grid. Answers the new
   * job, or why the grid cannot take the action.
   */
  act(
    gridId: string,
    kind: Exclude<SimKind, 'IMAGINE'>,
    index: number | undefined,
    notifyHook?: string,
  ): { ok: true; job: SimJobView } | { ok: false; reason: string } {
    const grid = this.get(gridId);
    if (!grid) return { ok: false, reason: 'No such task' };
    if (grid.status !== 'complete') return { ok: false, reason: 'The task is not finished' };
    if (!grid.grid) return { ok: false, reason: 'The task has no grid to act on' };
    if (kind !== 'REROLL' && (index === undefined || index < 1 || index > 4)) {
      return { ok: false, reason: 'index must be 1..4' };
    }
    // An upscale repaints tile `index` alone; a variation varies that tile four ways.
    const tile = tileLook({ seed: grid.seed, wobble: grid.wobble }, index ?? 1);
    const fresh = randomBytes(4).toString('hex');
    const base = {
      kind,
      parentId: grid.id,
      ...(notifyHook ? { notifyHook } : {}),
      ...(grid.style ? { style: grid.style } : {}),
    } as const;
    const shape =
      kind === 'UPSCALE'
        ? { ...base, grid: false, ...tile }
        : kind === 'VARIATION'
          ? { ...base, grid: true, seed: tile.seed, wobble: fresh }
          : { ...base, grid: true, seed: fresh };
    return { ok: true, job: this.submit(grid.prompt, grid.aspectRatio, grid.quality, shape) };
  }

  get(id: string): SimJobView | undefined {
    const job = this.#jobs.get(id);
    return job ? this.#view(job, this.#now()) : undefined;
  }

  /** When the job starts rendering, on this engine's clock. */
  startOf(id: string): number | undefined {
    return this.#jobs.get(id)?.startsAt;
  }

  /** When the job finishes (or fails), on this engine's clock: for benchmarks and tests. */
  endOf(id: string): number | undefined {
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    return job.failAt === undefined ? job.endsAt : job.startsAt + (job.endsAt - job.startsAt) * job.failAt;
  }

  /** Jobs not yet ended, with their notifyHook: what a restarted notifier picks up again. */
  running(): { id: string; notifyHook?: string | undefined }[] {
    const now = this.#now();
    return [...this.#jobs.values()]
      .filter((job) => {
        const status = this.#view(job, now).status;
        return status === 'pending' || status === 'processing';
      })
      .map((job) => ({ id: job.id, notifyHook: job.notifyHook }));
  }

  cancel(id: string): SimJobView | undefined {
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    const now = this.#now();
    const view = this.#view(job, now);
    if (view.status === 'pending' || view.status === 'processing') {
      job.cancelledAt = now;
      this.#persistence?.save(job);
    }
    return this.#view(job, now);
  }

  #view(job: SimJob, now: number): SimJobView {
    const base = {
      id: job.id,
      prompt: job.prompt,
      aspectRatio: job.aspectRatio,
      quality: job.quality,
      kind: job.kind ?? 'IMAGINE',
      grid: job.grid ?? false,
      seed: job.seed ?? '',
      startsAt: job.startsAt,
      endsAt: job.endsAt,
      ...(job.wobble ? { wobble: job.wobble } : {}),
      ...(job.parentId ? { parentId: job.parentId } : {}),
      ...(job.style ? { style: job.style } : {}),
      ...(job.finalPrompt ? { finalPrompt: job.finalPrompt } : {}),
    };
    const at = job.cancelledAt ?? now;
    const share = Math.min(1, Math.max(0, (at - job.startsAt) / (job.endsAt - job.startsAt)));
    if (job.failAt !== undefined && share >= job.failAt) {
      return { ...base, status: 'failed', progress: Math.round(job.failAt * 100), error: job.failReason };
    }
    if (job.cancelledAt !== undefined) {
      return { ...base, status: 'cancelled', progress: Math.round(share * 100), error: 'Cancelled by the client' };
    }
    if (now < job.startsAt) return { ...base, status: 'pending', progress: 0 };
    if (share >= 1) {
      return {
        ...base,
        status: 'complete',
        progress: 100,
        ...(job.descriptions ? { descriptions: job.descriptions } : {}),
      };
    }
    // Diffusion feels fast at first and slow near the end: ease out.
    const eased = 1 - (1 - share) ** 1.6;
    return { ...base, status: 'processing', progress: Math.min(99, Math.max(1, Math.round(eased * 100))) };
  }

  #forgetOldest(): void {
    while (this.#jobs.size > this.config.maxJobs) {
      const oldest = this.#jobs.keys().next();
      if (oldest.done) return;
      this.#jobs.delete(oldest.value);
    }
  }
}
