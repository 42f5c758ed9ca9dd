// The simulated upstream's state: jobs whose status is derived from the clock (no timers),
// the content filter, and the per-key sliding-window rate limit.
import { randomBytes } from 'node:crypto';
import type { Quality } from '@shared/schemas/imagine';
import { type JobAction, pannedRatio } from '@shared/schemas/job-values';
import type { PromptParams } from '@shared/schemas/params-values';
import type { SimulatorConfig } from './config';
import { tileLook } from './image';
import type { SIM_KINDS, SimEdit, SimJob, SimJobPersistence } from './sim-store';

export type SimStatus = 'pending' | 'processing' | 'complete' | 'failed' | 'cancelled';

export type SimKind = (typeof SIM_KINDS)[number];

/** What a submission may add to a job besides its prompt, ratio and quality. */
export type SimShape = Partial<
  Pick<
    SimJob,
    | 'grid'
    | 'kind'
    | 'seed'
    | 'wobble'
    | 'parentId'
    | 'notifyHook'
    | 'style'
    | 'descriptions'
    | 'finalPrompt'
    | 'edit'
    | 'sourceTile'
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
  /** An action's change to its parent's picture, and which tile of the parent it starts from. */
  edit?: SimEdit;
  sourceTile?: number;
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

/** Upscaling one tile of a grid takes this share of a full render; so does a describe; a draft less; a clip more. */
const UPSCALE_SHARE = 0.4;
const DESCRIBE_SHARE = 0.4;
const DRAFT_SHARE = 0.3;
const VIDEO_SHARE = 1.5;

/** Midjourney's clips: 5 s, extended 4 s at a time to about 21 s. */
export const CLIP_SECONDS = 5;
export const EXTEND_SECONDS = 4;
export const CLIP_MAX_SECONDS = 21;

/** What an action may carry besides its name. */
export interface SimActionInput {
  index?: number | undefined;
  notifyHook?: string | undefined;
  /** Remix's (or a region's) new prompt text, without parameters. */
  prompt?: string | undefined;
  /** Vary (Region)'s mask: a PNG, base64. */
  mask?: string | undefined;
  /** Custom Zoom's factor. */
  zoom?: number | undefined;
  /** The id to give the new job (a relay's modal task becomes the job). */
  id?: string | undefined;
}

/** The single-image follow-ups and the edit each makes. */
const SINGLE_EDITS: Partial<Record<JobAction, { kind: SimKind; edit: SimEdit; grid: boolean }>> = {
  upscale_subtle: { kind: 'UPSCALE', edit: { op: 'upscale', mode: 'subtle' }, grid: false },
  upscale_creative: { kind: 'UPSCALE', edit: { op: 'upscale', mode: 'creative' }, grid: false },
  vary_subtle: { kind: 'VARIATION', edit: { op: 'vary', strength: 'subtle' }, grid: true },
  vary_strong: { kind: 'VARIATION', edit: { op: 'vary', strength: 'strong' }, grid: true },
  zoom_out_2x: { kind: 'ZOOM', edit: { op: 'zoom', factor: 2 }, grid: true },
  zoom_out_1_5x: { kind: 'ZOOM', edit: { op: 'zoom', factor: 1.5 }, grid: true },
  pan_left: { kind: 'PAN', edit: { op: 'pan', direction: 'left' }, grid: true },
  pan_right: { kind: 'PAN', edit: { op: 'pan', direction: 'right' }, grid: true },
  pan_up: { kind: 'PAN', edit: { op: 'pan', direction: 'up' }, grid: true },
  pan_down: { kind: 'PAN', edit: { op: 'pan', direction: 'down' }, grid: true },
  animate_low: { kind: 'VIDEO', edit: { op: 'animate', motion: 'low', seconds: CLIP_SECONDS }, grid: false },
  animate_high: { kind: 'VIDEO', edit: { op: 'animate', motion: 'high', seconds: CLIP_SECONDS }, grid: false },
};

/** What a finished job offers, as the simulator's Discord would show its buttons. */
export function offeredActions(job: SimJobView): { action: JobAction; index?: number }[] {
  if (job.status !== 'complete' || job.kind === 'DESCRIBE') return [];
  if (job.grid) {
    return [
      ...[1, 2, 3, 4].map((index) => ({ action: 'upscale' as const, index })),
      { action: 'reroll' as const },
      ...[1, 2, 3, 4].map((index) => ({ action: 'variation' as const, index })),
    ];
  }
  if (job.kind === 'VIDEO') {
    const seconds = job.edit?.op === 'animate' ? job.edit.seconds : CLIP_SECONDS;
    return seconds + EXTEND_SECONDS <= CLIP_MAX_SECONDS ? [{ action: 'extend_high' }, { action: 'extend_low' }] : [];
  }
  // An upscale offers the V7 follow-ups; Subtle and Creative only on a first upscale.
  const first = job.kind === 'UPSCALE' && job.edit?.op !== 'upscale';
  const actions: JobAction[] = [
    ...(first ? (['upscale_subtle', 'upscale_creative'] as const) : []),
    'vary_subtle',
    'vary_strong',
    'vary_region',
    'zoom_out_2x',
    'zoom_out_1_5x',
    'zoom_custom',
    'pan_left',
    'pan_right',
    'pan_up',
    'pan_down',
    'animate_high',
    'animate_low',
  ];
  return actions.map((action) => ({ action }));
}

const FAIL_REASONS = [
  'The render worker ran out of GPU memory',
  'The job timed out in the render queue',
  'The moderation pass flagged the finished image',
];

export type SimFault = 'refuse' | '429' | 'silent';

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
  readonly #faults = new Map<string, SimFault>();
  readonly #persistence: SimJobPersistence | undefined;

  constructor(config: SimulatorConfig, deps: EngineDeps = {}) {
    this.config = config;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#persistence = deps.persistence;
    for (const job of this.#persistence?.loadNewest(config.maxJobs) ?? []) this.#jobs.set(job.id, job);
  }

  /** The rate limit of a key the simulator knows, or undefined for a key it does not. */
  rateLimitOf(key: string): number | undefined {
    const account = this.config.keys.find((entry) => entry.key === key);
    if (account) return account.rateLimit;
    return key === this.config.apiKey ? this.config.rateLimit : undefined;
  }

  /**
   * Makes one account misbehave, as real ones do: `refuse` its key (401), answer only `429`s,
   * or go `silent` (never answer, so callers time out). Undefined: behave again.
   */
  setFault(key: string, fault: SimFault | undefined): void {
    if (fault) this.#faults.set(key, fault);
    else this.#faults.delete(key);
  }

  faultOf(key: string): SimFault | undefined {
    return this.#faults.get(key);
  }

  /** Records one call against the key's budget; answers the seconds to wait when over it. */
  takeRateToken(key: string): { ok: true } | { ok: false; retryAfterS: number } {
    const now = this.#now();
    const windowMs = this.config.rateWindowMs * this.config.timeFactor;
    const calls = (this.#calls.get(key) ?? []).filter((at) => at > now - windowMs);
    if (calls.length >= (this.rateLimitOf(key) ?? this.config.rateLimit)) {
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

  submit(
    prompt: string,
    aspectRatio: string,
    quality: Quality,
    options: SimShape = {},
    id = randomBytes(12).toString('base64url'),
  ): SimJobView {
    const { config } = this;
    const { draft, ...shape } = options;
    const now = this.#now();
    const spread = 1 + (this.#random() * 2 - 1) * config.jitter;
    const qualityFactor = quality === 'high' ? config.highQualityFactor : 1;
    const kindShare =
      shape.kind === 'UPSCALE'
        ? UPSCALE_SHARE
        : shape.kind === 'DESCRIBE'
          ? DESCRIBE_SHARE
          : shape.kind === 'VIDEO'
            ? VIDEO_SHARE
            : 1;
    const share = kindShare * (draft ? DRAFT_SHARE : 1);
    const startsAt = now + config.queueMs * config.timeFactor * spread;
    const endsAt = startsAt + config.renderMs * config.timeFactor * qualityFactor * spread * share;
    const fails = this.#random() < config.failureRate;
    const job: SimJob = {
      id,
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
   * A relay's action on a finished job: on a grid, upscale or vary tile `index`, or reroll;
   * on a single image, Midjourney V7's follow-ups; on a clip, extend it. Answers the new job,
   * or why the job cannot take the action.
   */
  act(
    parentId: string,
    action: JobAction,
    input: SimActionInput = {},
  ): { ok: true; job: SimJobView } | { ok: false; reason: string } {
    const reason = this.refusal(parentId, action, input.index);
    const parent = this.get(parentId);
    if (reason || !parent) return { ok: false, reason: reason ?? 'No such task' };
    const { index } = input;
    const prompt = input.prompt?.trim() || parent.prompt;
    const base = {
      parentId: parent.id,
      ...(input.notifyHook ? { notifyHook: input.notifyHook } : {}),
      ...(parent.style ? { style: parent.style } : {}),
    } as const;
    const submit = (shape: SimShape, ratio = parent.aspectRatio) =>
      ({ ok: true, job: this.submit(prompt, ratio, parent.quality, shape, input.id) }) as const;
    const fresh = randomBytes(4).toString('hex');
    // A grid painted from a seed: its tiles are looks of their own. An edited grid (a zoom's,
    // a pan's ...) is a picture of its parent: its tiles are named by number.
    const edited = parent.edit !== undefined;
    switch (action) {
      case 'upscale':
        return edited
          ? submit({ ...base, kind: 'UPSCALE', grid: false, sourceTile: index })
          : submit({
              ...base,
              kind: 'UPSCALE',
              grid: false,
              ...tileLook({ seed: parent.seed, wobble: parent.wobble }, index ?? 1),
            });
      case 'variation':
        return edited
          ? submit({
              ...base,
              kind: 'VARIATION',
              grid: true,
              sourceTile: index,
              edit: { op: 'vary', strength: 'strong' },
            })
          : submit({
              ...base,
              kind: 'VARIATION',
              grid: true,
              seed: tileLook({ seed: parent.seed }, index ?? 1).seed,
              wobble: fresh,
            });
      case 'reroll':
        // The same edit of the same source, drawn anew; a painted grid gets a new scene.
        return edited && parent.parentId
          ? submit({
              ...base,
              parentId: parent.parentId,
              kind: 'REROLL',
              grid: true,
              ...(parent.edit ? { edit: parent.edit } : {}),
              ...(parent.sourceTile ? { sourceTile: parent.sourceTile } : {}),
            })
          : submit({ ...base, kind: 'REROLL', grid: true, seed: fresh });
      case 'vary_region':
        if (!input.mask) return { ok: false, reason: 'Vary (Region) needs a mask' };
        return submit({ ...base, kind: 'INPAINT', grid: true, edit: { op: 'region', mask: input.mask } });
      case 'zoom_custom':
        if (input.zoom === undefined || !(input.zoom >= 1 && input.zoom <= 2)) {
          return { ok: false, reason: 'Custom Zoom needs --zoom from 1 to 2' };
        }
        return submit({ ...base, kind: 'ZOOM', grid: true, edit: { op: 'zoom', factor: input.zoom } });
      case 'extend_high':
      case 'extend_low': {
        const seconds = (parent.edit?.op === 'animate' ? parent.edit.seconds : CLIP_SECONDS) + EXTEND_SECONDS;
        const motion = action === 'extend_high' ? 'high' : 'low';
        return submit({ ...base, kind: 'VIDEO', grid: false, edit: { op: 'animate', motion, seconds } });
      }
      default: {
        const single = SINGLE_EDITS[action];
        if (!single) return { ok: false, reason: `The simulator cannot ${action}` };
        const ratio = single.edit.op === 'pan' ? pannedRatio(parent.aspectRatio, single.edit.direction) : undefined;
        return submit({ ...base, kind: single.kind, grid: single.grid, edit: single.edit }, ratio);
      }
    }
  }

  /** Why the job cannot take the action (before any input it needs is asked for), or undefined. */
  refusal(parentId: string, action: JobAction, index?: number): string | undefined {
    const parent = this.get(parentId);
    if (!parent) return 'No such task';
    if (parent.status !== 'complete') return 'The task is not finished';
    if (!offeredActions(parent).some((item) => item.action === action)) return `The task offers no ${action}`;
    if ((action === 'upscale' || action === 'variation') && (index === undefined || index < 1 || index > 4)) {
      return 'index must be 1..4';
    }
    return undefined;
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
      ...(job.edit ? { edit: job.edit } : {}),
      ...(job.sourceTile ? { sourceTile: job.sourceTile } : {}),
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
