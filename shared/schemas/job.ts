// Our normalised view of a generation job, whatever the upstream called things.
import { z } from 'zod';
import { qualitySchema } from './imagine';
import { GRID_ACTIONS, JOB_ID_PATTERN, JOB_PAGE_DEFAULT, JOB_PAGE_MAX, JOB_STATUSES } from './job-values';
import type { PromptParams } from './params-values';
import { validateParams } from './prompt-params';
import { jobReferenceSchema } from './upload';

export {
  GRID_ACTIONS,
  GRID_INDEXES,
  type GridAction,
  isTerminalStatus,
  JOB_ID_PATTERN,
  JOB_PAGE_DEFAULT,
  JOB_PAGE_MAX,
  JOB_STATUSES,
  type JobStatus,
  POLL_MAX_MS,
  POLL_MIN_MS,
  TERMINAL_STATUSES,
} from './job-values';

export const jobStatusSchema = z.enum(JOB_STATUSES);
export const jobIdSchema = z.string().regex(JOB_ID_PATTERN, 'Job ids are 1-128 letters, digits, "-" or "_"');

/** A kept image's file name, as `image_url` shows it: the job id and the image's type. */
export const IMAGE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}\.(png|jpg|webp|gif)$/;
export const imageNameSchema = z.string().regex(IMAGE_NAME_PATTERN, 'Not an image name');
export const gridActionSchema = z.enum(GRID_ACTIONS);

const gridIndexSchema = z
  .number({ error: 'Pick one of the four images: index 1, 2, 3 or 4' })
  .int('Pick one of the four images: index 1, 2, 3 or 4')
  .min(1, 'Pick one of the four images: index 1, 2, 3 or 4')
  .max(4, 'Pick one of the four images: index 1, 2, 3 or 4');

export const gridActionRequestSchema = z.discriminatedUnion(
  'action',
  [
    z.strictObject({ action: z.literal('upscale'), index: gridIndexSchema }),
    z.strictObject({ action: z.literal('variation'), index: gridIndexSchema }),
    z.strictObject({ action: z.literal('reroll') }),
  ],
  { error: 'action must be "upscale", "variation" or "reroll"' },
);
export type GridActionRequest = z.infer<typeof gridActionRequestSchema>;

/** What made a job: a prompt, an action on another job, a description of an image, a blend. */
export const JOB_KINDS = ['imagine', 'action', 'describe', 'blend'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** A job's effective parameters: the shared table's keys and values (prompt-params.ts checks them). */
// Model rules may narrow over time: a stored job is read as long as each value is one the
// table knows, so one old job never makes a whole list unreadable.
export const paramsSchema = z.custom<PromptParams>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    Object.keys(validateParams(value).params).length === Object.keys(value).length,
  'Not parameters of the table',
);

export const jobSchema = z.object({
  job_id: jobIdSchema,
  status: jobStatusSchema,
  progress: z.number().min(0).max(100).optional(),
  kind: z.enum(JOB_KINDS),
  /** The prompt's text, without its parameters and image links. */
  prompt: z.string(),
  /** The effective parameters (those given; Midjourney's defaults stand for the rest). */
  params: paramsSchema,
  /** Image links written in front of the prompt. */
  image_urls: z.array(z.string()).optional(),
  /** The images the job used (uploads or earlier results), as our own URLs. */
  references: z.array(jobReferenceSchema).optional(),
  /** The whole prompt as the upstream ran it, where it says (a relay's finalPrompt). */
  final_prompt: z.string().optional(),
  /** A describe job's answer: candidate prompts for its image. */
  descriptions: z.array(z.string()).optional(),
  /** What the job costs relative to a standard one (--q 2 is 2, --draft 0.5). */
  cost: z.number().positive(),
  aspect_ratio: z.string().regex(/^\d{1,5}:\d{1,5}$/),
  quality: qualitySchema,
  created_at: z.iso.datetime(),
  finished_at: z.iso.datetime().optional(),
  image_url: z.string().optional(),
  download_name: z.string().optional(),
  error: z.string().optional(),
  /** While queued for the upstream budget: 1 is next. */
  queue_position: z.number().int().positive().optional(),
  /** When asking again is worthwhile: the server's own next upstream check, roughly (POLL_MIN_MS..POLL_MAX_MS). */
  poll_after_ms: z.number().int().nonnegative().optional(),
  /** A low-resolution look at the image while it renders, where the upstream shows one. */
  preview_url: z.string().optional(),
  /** For a job made by a grid action: the grid it came from and what was done to it. */
  parent_id: jobIdSchema.optional(),
  action: gridActionSchema.optional(),
  action_index: z.number().int().min(1).max(4).optional(),
  /** On a finished grid: the actions this server's upstream can take on it. */
  available_actions: z.array(gridActionSchema).optional(),
});
export type Job = z.infer<typeof jobSchema>;

export const budgetSchema = z.object({
  limit: z.number().int().positive(),
  window_s: z.number().positive(),
  used: z.number().int().nonnegative(),
  queue_length: z.number().int().nonnegative(),
  paused_for_s: z.number().int().nonnegative().optional(),
});
export type Budget = z.infer<typeof budgetSchema>;

// A query string is text: only plain decimal digits are a number here (not `1e2`, `0x10`, ` 5`).
const PAGE_LIMIT_MESSAGE = `limit must be a whole number from 1 to ${JOB_PAGE_MAX}`;
const pageLimitSchema = z
  .string({ error: PAGE_LIMIT_MESSAGE })
  .regex(/^\d{1,6}$/, PAGE_LIMIT_MESSAGE)
  .transform(Number)
  .pipe(z.number().int().min(1, PAGE_LIMIT_MESSAGE).max(JOB_PAGE_MAX, PAGE_LIMIT_MESSAGE));

export const jobListQuerySchema = z.strictObject({
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'Not a cursor this server made')
    .optional(),
  limit: pageLimitSchema.default(JOB_PAGE_DEFAULT),
});

export const jobListSchema = z.object({
  jobs: z.array(jobSchema),
  next_cursor: z.string().nullable(),
});
export type JobList = z.infer<typeof jobListSchema>;
