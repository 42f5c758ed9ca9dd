// A job's plain values (statuses, bounds, page sizes) without zod, so that the browser can use
// them before it loads any schema. job.ts builds the schemas on them and re-exports them.

export const JOB_STATUSES = ['queued', 'pending', 'processing', 'complete', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['complete', 'failed', 'cancelled'];
export const isTerminalStatus = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);

// Letters, digits, '-' and '_' only: nothing that can change the meaning of a URL path
// ('/', '.', '%', '?', '#', whitespace) once the id is placed into an upstream URL.
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * What can be done with a finished job, where its upstream offers it (a relay's buttons):
 * on a grid of four, upscale or vary image `index`, or reroll the whole grid; on a single
 * image, Midjourney V7's follow-ups; on a video, extend it. Each makes a new job.
 */
export const JOB_ACTIONS = [
  'upscale',
  'variation',
  'reroll',
  'upscale_subtle',
  'upscale_creative',
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
  'animate_low',
  'animate_high',
  'extend_low',
  'extend_high',
] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];
/** The older name of the type, from when only grids had actions. */
export type GridAction = JobAction;
export const GRID_ACTIONS = ['upscale', 'variation', 'reroll'] as const;
export const GRID_INDEXES = [1, 2, 3, 4] as const;

/** Actions that pick one of a grid's four images. */
export const INDEXED_ACTIONS: readonly JobAction[] = ['upscale', 'variation'];
/** Actions whose request may carry a new prompt (Remix, a region's, a zoom's, a motion prompt). */
export const PROMPTED_ACTIONS: readonly JobAction[] = [
  'variation',
  'reroll',
  'vary_subtle',
  'vary_strong',
  'vary_region',
  'zoom_custom',
  'animate_low',
  'animate_high',
  'extend_low',
  'extend_high',
];

/** What a job makes: a grid of four, one image, a video clip, or text (a describe's prompts). */
export const JOB_OUTPUTS = ['grid', 'image', 'video', 'text'] as const;
export type JobOutput = (typeof JOB_OUTPUTS)[number];

/** What each action makes, Midjourney's way. */
export const ACTION_OUTPUT: Record<JobAction, JobOutput> = {
  upscale: 'image',
  variation: 'grid',
  reroll: 'grid',
  upscale_subtle: 'image',
  upscale_creative: 'image',
  vary_subtle: 'grid',
  vary_strong: 'grid',
  vary_region: 'grid',
  zoom_out_2x: 'grid',
  zoom_out_1_5x: 'grid',
  zoom_custom: 'grid',
  pan_left: 'grid',
  pan_right: 'grid',
  pan_up: 'grid',
  pan_down: 'grid',
  animate_low: 'video',
  animate_high: 'video',
  extend_low: 'video',
  extend_high: 'video',
};

/** A video job costs about eight image jobs on Midjourney; the client limits count it so. */
export const VIDEO_COST = 8;

/** Custom Zoom: how far out, as Midjourney's --zoom takes it. */
export const ZOOM_MIN = 1;
export const ZOOM_MAX = 2;

/** A Vary (Region) mask: a PNG as a data URL, white where the image is repainted. */
export const MASK_MAX_BYTES = 2 * 1024 * 1024;

/** Gallery search: words of the prompt, at most this long. */
export const SEARCH_MAX_LENGTH = 200;

/** Bounds of `poll_after_ms`: the server never suggests, and the client never accepts, anything outside. */
export const POLL_MIN_MS = 1_000;
export const POLL_MAX_MS = 30_000;

export const JOB_PAGE_MAX = 100;
export const JOB_PAGE_DEFAULT = 24;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** A pan's new frame: the panned side grows by half (a 1:1 panned left is 3:2). */
export function pannedRatio(ratio: string, direction: 'left' | 'right' | 'up' | 'down'): string {
  const [w = 1, h = 1] = ratio.split(':').map(Number);
  const [width, height] = direction === 'left' || direction === 'right' ? [w * 3, h * 2] : [w * 2, h * 3];
  const divisor = gcd(width, height) || 1;
  return `${width / divisor}:${height / divisor}`;
}
