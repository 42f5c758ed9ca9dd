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
 * What can be done with a finished grid of four images, where the upstream allows it:
 * upscale one image, make variations of one, or reroll the whole grid. Each makes a new job.
 */
export const GRID_ACTIONS = ['upscale', 'variation', 'reroll'] as const;
export type GridAction = (typeof GRID_ACTIONS)[number];
export const GRID_INDEXES = [1, 2, 3, 4] as const;

/** Bounds of `poll_after_ms`: the server never suggests, and the client never accepts, anything outside. */
export const POLL_MIN_MS = 1_000;
export const POLL_MAX_MS = 30_000;

export const JOB_PAGE_MAX = 100;
export const JOB_PAGE_DEFAULT = 24;
