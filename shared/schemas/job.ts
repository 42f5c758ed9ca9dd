// Our normalised view of a generation job, whatever the upstream called things.
import { z } from 'zod';
import { promptSchema, qualitySchema } from './imagine';
import {
  INDEXED_ACTIONS,
  JOB_ACTIONS,
  JOB_ID_PATTERN,
  JOB_OUTPUTS,
  JOB_PAGE_DEFAULT,
  JOB_PAGE_MAX,
  JOB_STATUSES,
  MASK_MAX_BYTES,
  PROMPTED_ACTIONS,
  SEARCH_MAX_LENGTH,
  ZOOM_MAX,
  ZOOM_MIN,
} from './job-values';
import { PARAMS, type ParamKey, type PromptParams } from './params-values';
import { parsePrompt, validateParams } from './prompt-params';
import { jobReferenceSchema } from './upload';

export {
  ACTION_OUTPUT,
  GRID_ACTIONS,
  GRID_INDEXES,
  type GridAction,
  INDEXED_ACTIONS,
  isTerminalStatus,
  JOB_ACTIONS,
  JOB_ID_PATTERN,
  JOB_OUTPUTS,
  JOB_PAGE_DEFAULT,
  JOB_PAGE_MAX,
  JOB_STATUSES,
  type JobAction,
  type JobOutput,
  type JobStatus,
  MASK_MAX_BYTES,
  POLL_MAX_MS,
  POLL_MIN_MS,
  PROMPTED_ACTIONS,
  TERMINAL_STATUSES,
  VIDEO_COST,
  ZOOM_MAX,
  ZOOM_MIN,
} from './job-values';

export const jobStatusSchema = z.enum(JOB_STATUSES);
export const jobIdSchema = z.string().regex(JOB_ID_PATTERN, 'Job ids are 1-128 letters, digits, "-" or "_"');

/** A kept image's file name, as `image_url` shows it: the job id and the image's type. */
export const IMAGE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}\.(png|jpg|webp|gif)$/;
export const imageNameSchema = z.string().regex(IMAGE_NAME_PATTERN, 'Not an image name');
/** A kept clip's file name, as `video_url` shows it. */
export const VIDEO_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}\.(webm|mp4)$/;
export const videoNameSchema = z.string().regex(VIDEO_NAME_PATTERN, 'Not a video name');
export const jobActionSchema = z.enum(JOB_ACTIONS, { error: `action is one of: ${JOB_ACTIONS.join(', ')}` });
/** The older name, from when only grids had actions. */
export const gridActionSchema = jobActionSchema;

const INDEX_MESSAGE = 'Pick one of the four images: index 1, 2, 3 or 4';
const gridIndexSchema = z
  .number({ error: INDEX_MESSAGE })
  .int(INDEX_MESSAGE)
  .min(1, INDEX_MESSAGE)
  .max(4, INDEX_MESSAGE);

/** A PNG as a data URL, of bounded size: the area Vary (Region) repaints, white on black. */
const MASK_PATTERN = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;
const maskSchema = z
  .string({ error: 'mask is a PNG as a data URL (data:image/png;base64,…)' })
  .max(Math.ceil((MASK_MAX_BYTES * 4) / 3) + 32, `The mask is larger than ${MASK_MAX_BYTES / 1024 / 1024} MB`)
  .regex(MASK_PATTERN, 'mask is a PNG as a data URL (data:image/png;base64,…)');

/**
 * An action on a finished job. `index` picks a grid's image (upscale, variation); `prompt`
 * is Remix's new prompt, a region's or a zoom's, or a video's motion prompt; `mask` is
 * Vary (Region)'s area; `zoom` is Custom Zoom's factor. Each is refused where it means nothing.
 */
export const jobActionRequestSchema = z
  .strictObject({
    action: jobActionSchema,
    index: gridIndexSchema.optional(),
    // The same rules as a submission's prompt: length, no control characters, no permutations.
    prompt: promptSchema.optional(),
    mask: maskSchema.optional(),
    // Midjourney's --zoom takes 1 to 2; two decimals are all it reads.
    zoom: z
      .number({ error: `zoom is a number from ${ZOOM_MIN} to ${ZOOM_MAX}` })
      .min(ZOOM_MIN, `zoom is a number from ${ZOOM_MIN} to ${ZOOM_MAX}`)
      .max(ZOOM_MAX, `zoom is a number from ${ZOOM_MIN} to ${ZOOM_MAX}`)
      .transform((value) => Math.round(value * 100) / 100)
      .optional(),
  })
  .superRefine((request, context) => {
    const indexed = INDEXED_ACTIONS.includes(request.action);
    if (indexed && request.index === undefined) {
      context.addIssue({ code: 'custom', path: ['index'], message: INDEX_MESSAGE });
    }
    if (!indexed && request.index !== undefined) {
      context.addIssue({ code: 'custom', path: ['index'], message: `${request.action} takes no index` });
    }
    if (request.prompt !== undefined && !PROMPTED_ACTIONS.includes(request.action)) {
      context.addIssue({ code: 'custom', path: ['prompt'], message: `${request.action} takes no prompt` });
    } else if (request.prompt !== undefined) {
      // Its parameters are read (and checked) with the table, as a submission's are.
      for (const issue of parsePrompt(request.prompt).issues) {
        context.addIssue({ code: 'custom', path: ['prompt'], message: issue.message });
      }
    }
    if ((request.action === 'vary_region') !== (request.mask !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['mask'],
        message: request.mask === undefined ? 'vary_region needs a mask' : `${request.action} takes no mask`,
      });
    }
    if ((request.action === 'zoom_custom') !== (request.zoom !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['zoom'],
        message: request.zoom === undefined ? 'zoom_custom needs a zoom factor' : `${request.action} takes no zoom`,
      });
    }
  });
export type JobActionRequest = z.infer<typeof jobActionRequestSchema>;
export const gridActionRequestSchema = jobActionRequestSchema;
export type GridActionRequest = JobActionRequest;

/** An action a finished job offers: `index` where it picks one of a grid's images. */
export const offeredActionSchema = z.object({
  action: jobActionSchema,
  index: z.number().int().min(1).max(4).optional(),
});
export type OfferedAction = z.infer<typeof offeredActionSchema>;

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
  /** What the job makes: a grid of four, one image, a video, or text. */
  output: z.enum(JOB_OUTPUTS),
  /** Marked by its owner as a favourite. */
  favourite: z.boolean(),
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
  /** Our URL of the kept image (a video's first frame, for a video). */
  image_url: z.string().optional(),
  download_name: z.string().optional(),
  /** A video job's kept clip, served with range requests. */
  video_url: z.string().optional(),
  video_download_name: z.string().optional(),
  error: z.string().optional(),
  /** While queued for the upstream budget: 1 is next. */
  queue_position: z.number().int().positive().optional(),
  /** When asking again is worthwhile: the server's own next upstream check, roughly (POLL_MIN_MS..POLL_MAX_MS). */
  poll_after_ms: z.number().int().nonnegative().optional(),
  /** A low-resolution look at the image while it renders, where the upstream shows one. */
  preview_url: z.string().optional(),
  /** For a job made by an action: the job it came from and what was done to it. */
  parent_id: jobIdSchema.optional(),
  action: jobActionSchema.optional(),
  action_index: z.number().int().min(1).max(4).optional(),
  /** Custom Zoom's factor, for a job it made. */
  action_zoom: z.number().optional(),
  /** On a finished job: the actions its upstream offers for it (its buttons). */
  available_actions: z.array(offeredActionSchema).optional(),
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

const listOf = <T extends readonly [string, ...string[]]>(values: T, name: string) =>
  z
    .string()
    .transform((text) => text.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values, { error: `${name} is a comma-separated list of: ${values.join(', ')}` })).max(16));

const DATE_MESSAGE = 'Dates are written YYYY-MM-DD or as an ISO date-time';
const dateSchema = z
  .string({ error: DATE_MESSAGE })
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/, DATE_MESSAGE)
  .transform((text, context) => {
    const time = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
    // Date.parse rolls 2024-02-30 over into March: a day that does not exist is refused.
    if (Number.isNaN(time) || (text.length === 10 && new Date(time).toISOString().slice(0, 10) !== text)) {
      context.addIssue({ code: 'custom', message: DATE_MESSAGE });
      return z.NEVER;
    }
    return time;
  });

/** Parameters are filtered by their keys in `params` (aspect_ratio, stylize, sref, ...). */
const PARAM_NAMES = PARAMS.map((param) => param.key) as unknown as [ParamKey, ...ParamKey[]];

/**
 * A page of the owner's jobs, newest first, optionally narrowed: `q` words of the prompt
 * (each a prefix), statuses, outputs, parameters used, an aspect ratio, a date range (`from`
 * inclusive, `to` exclusive: a bare date YYYY-MM-DD is its day's start, UTC), favourites only.
 */
export const jobListQuerySchema = z.strictObject({
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'Not a cursor this server made')
    .optional(),
  limit: pageLimitSchema.default(JOB_PAGE_DEFAULT),
  q: z
    .string({ error: 'q is text' })
    .max(SEARCH_MAX_LENGTH, `Search for at most ${SEARCH_MAX_LENGTH} characters`)
    .transform((text) => text.trim())
    .optional(),
  status: listOf(JOB_STATUSES, 'status').optional(),
  output: listOf(JOB_OUTPUTS, 'output').optional(),
  param: listOf(PARAM_NAMES, 'param').optional(),
  ar: z
    .string()
    .regex(/^[1-9]\d{0,4}:[1-9]\d{0,4}$/, 'ar is a ratio like 16:9')
    .optional(),
  from: dateSchema.optional(),
  to: dateSchema.optional(),
  favourite: z.enum(['1', 'true'], { error: 'favourite is 1 or true' }).optional(),
});
export type JobListQuery = z.output<typeof jobListQuerySchema>;

export const jobListSchema = z.object({
  jobs: z.array(jobSchema),
  next_cursor: z.string().nullable(),
});
export type JobList = z.infer<typeof jobListSchema>;

/** A job's family: the jobs it came from (the oldest first) and the jobs made from it. */
export const lineageSchema = z.object({
  ancestors: z.array(jobSchema),
  children: z.array(jobSchema),
});
export type Lineage = z.infer<typeof lineageSchema>;
