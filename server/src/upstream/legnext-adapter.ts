// Adapter for Legnext's hosted API (docs/upstreams.md#paid-hosted-apis): `x-api-key` auth, diffusion with
// the whole prompt text, job status, the grid's upscale/variation/reroll, refusals, callbacks as hints.

import { GRID_ACTIONS, JOB_ID_PATTERN } from '@shared/schemas/job';
import { z } from 'zod';
import { UpstreamError } from '../errors';
import type {
  ActionInput,
  SubmitInput,
  UpstreamAdapter,
  UpstreamJob,
  UpstreamOffer,
  UpstreamStatus,
  WebhookNotice,
} from './adapter';
import {
  type CallbackUrl,
  callbackUrlNow,
  cleanLine,
  httpUrl,
  isFinal,
  lenientList,
  ownEntry,
  parseJsonBody,
  rateLimited,
  readHint,
  requirePublicLinks,
  type Scrub,
  secretScrubber,
  unexpectedHttp,
} from './adapter-kit';
import { MAX_JSON_BYTES, parseJsonReply, type UpstreamHttpClient, type UpstreamReply } from './http-client';
import { preparePrompt } from './prompt-text';

/** Legnext's API origin; the adapter appends its /api/v1/... paths. */
export const LEGNEXT_DEFAULT_BASE = 'https://api.legnext.ai';

/** Legnext takes prompts (and Remix prompts) of 1 to 8192 characters. */
const TEXT_MAX = 8_192;

/** Legnext's job statuses; `staged` is a job prepared for a worker, not yet running. */
const STATUSES: Record<string, UpstreamStatus> = {
  pending: 'pending',
  staged: 'pending',
  processing: 'processing',
  completed: 'complete',
  failed: 'failed',
};
const legnextStatus = (status: string): UpstreamStatus | undefined => ownEntry(STATUSES, status);

/**
 * The task types whose result is a grid of four, on which `available_actions` names grid
 * images. An upscale's single image offers nothing we take (its follow-ups are not ours yet).
 */
const GRID_TASKS: ReadonlySet<string> = new Set([
  'diffusion',
  'variation',
  'reroll',
  'blend',
  'pan',
  'outpaint',
  'inpaint',
  'remix',
  'edit',
]);

/**
 * Legnext has no plain crop-upscale: U1-U4 become its Subtle upscale (type 0), the one that
 * keeps the image as it is. A grid's V1-V4 are Midjourney's strong variations by default
 * (type 1), as Discord's buttons are with high variation mode on.
 */
const UPSCALE_SUBTLE = 0;
const VARY_STRONG = 1;

/** Legnext sends "" (or null) where there is no link yet. */
const optionalUrl = z
  .union([z.literal(''), httpUrl])
  .nullish()
  .transform((value) => value || undefined);

/** Legnext's error object: `code` 0 and empty messages while nothing went wrong. */
const errorSchema = z
  .object({
    code: z.number().int().nullish(),
    message: z.string().nullish(),
    raw_message: z.string().nullish(),
  })
  .nullish()
  .catch(undefined);

/** Grid image numbers 0-3 an action may take; anything malformed offers nothing. */
const imageNumbers = lenientList(z.number().int()).transform((items) => items ?? []);

const availableActionsSchema = z
  .object({
    upscale: imageNumbers,
    variation: imageNumbers,
    reroll: z.boolean().nullish().catch(undefined),
  })
  .nullish()
  .catch(undefined);

const outputSchema = z
  .object({
    image_url: optionalUrl,
    image_urls: z.array(z.string()).nullish().catch(undefined),
    available_actions: availableActionsSchema,
  })
  .nullish();

/** Not in Legnext's job object today; read where an answer carries it. */
const progressSchema = z
  .union([z.number(), z.string().regex(/^\s*\d+(\.\d+)?\s*%?\s*$/)])
  .transform((value) => Math.min(100, Math.max(0, typeof value === 'number' ? value : Number.parseFloat(value))))
  .refine(Number.isFinite)
  .nullish()
  .catch(undefined);

/** Legnext's job object: what every submission, action and status call answers. */
const taskSchema = z.object({
  job_id: z.string(),
  task_type: z.string().nullish(),
  status: z.string(),
  output: outputSchema,
  progress: progressSchema,
  error: errorSchema,
});
type LegnextTask = z.infer<typeof taskSchema>;

/** A callback's body: only the job id and status are read, and only as a hint. */
const callbackSchema = z.object({
  job_id: z.string().regex(JOB_ID_PATTERN),
  status: z.string().optional().catch(undefined),
});

/** The words of a refusal, in any of the shapes Legnext answers errors in. */
const reasonSchema = z.union([
  z.object({ error: z.object({ message: z.string().min(1) }) }).transform((value) => value.error.message),
  z.object({ error: z.object({ raw_message: z.string().min(1) }) }).transform((value) => value.error.raw_message),
  z.object({ message: z.string().min(1) }).transform((value) => value.message),
  z.object({ raw_message: z.string().min(1) }).transform((value) => value.raw_message),
]);

function reasonOf(reply: UpstreamReply): string | undefined {
  const reason = parseJsonBody(reply.body, reasonSchema);
  return reason === undefined ? undefined : cleanLine(reason) || undefined;
}

/** What an HTTP status (or a failed task's error code) from Legnext means for us. */
function failureFor(status: number, reason: string | undefined, retryAfter: string | null): UpstreamError {
  const extra = { upstreamStatus: status };
  const because = reason ? `: ${reason}` : '';
  if (status === 401) {
    return new UpstreamError(
      'auth',
      "Legnext rejected this server's API key; the operator should check the account's x-api-key",
      extra,
    );
  }
  if (status === 402) {
    return new UpstreamError('account', `The Legnext account is out of credits${because}`, extra);
  }
  if (status === 403) {
    return new UpstreamError('refused', `Legnext refused the prompt as sensitive content${because}`, extra);
  }
  if (status === 404) return new UpstreamError('not_found', 'Legnext knows no such job', extra);
  if (status === 429) return rateLimited('Legnext', retryAfter, extra);
  // 413 and 422 are Legnext's validation refusals, not moderation.
  if (status === 400 || status === 413 || status === 422) {
    return new UpstreamError('rejected', `Legnext rejected the request${because}`, extra);
  }
  return unexpectedHttp('Legnext', status, extra);
}

/** The offers a finished grid's `available_actions` names, in our names (grid images 0-3 are our 1-4). */
function offersOf(task: LegnextTask): UpstreamOffer[] | undefined {
  const actions = task.output?.available_actions;
  if (!actions) return undefined;
  if (task.task_type && !GRID_TASKS.has(task.task_type)) return [];
  const indexed = (action: 'upscale' | 'variation', numbers: number[]) =>
    [...new Set(numbers)]
      .filter((number) => number >= 0 && number <= 3)
      .sort((a, b) => a - b)
      .map((number) => ({ action, index: number + 1 }));
  return [
    ...indexed('upscale', actions.upscale),
    ...indexed('variation', actions.variation),
    ...(actions.reroll ? [{ action: 'reroll' as const }] : []),
  ];
}

/** A Legnext job in our terms; every status it does not define is a malformed answer. */
function toUpstreamJob(id: string, task: LegnextTask, scrub: Scrub): UpstreamJob {
  const status = legnextStatus(task.status);
  if (!status) {
    throw new UpstreamError('bad_response', `Legnext sent an unknown job status "${cleanLine(task.status, 40)}"`);
  }
  const job: UpstreamJob = { id, status };
  if (task.progress != null) job.progress = task.progress;
  if (status === 'complete') {
    // The grid, or the one image of a single-image task (an upscale) that names it only in the list.
    const single = task.output?.image_urls?.length === 1 ? task.output.image_urls[0] : undefined;
    const imageUrl = task.output?.image_url ?? (single && httpUrl.safeParse(single).success ? single : undefined);
    if (!imageUrl) throw new UpstreamError('bad_response', 'Legnext reported a finished job without an image');
    job.imageUrl = imageUrl;
    job.progress = 100;
    const offers = offersOf(task);
    if (offers) job.offers = offers;
  }
  if (status === 'failed') {
    const reason = cleanLine(task.error?.message || task.error?.raw_message || '');
    job.error = scrub(
      task.error?.code === 403
        ? `Legnext moderated the job (sensitive content)${reason ? `: ${reason}` : ''}`
        : reason || 'Legnext reported a failure',
    );
  }
  return job;
}

/**
 * A callback body as a hint: Legnext signs nothing (its webhook secret is empty), so only
 * "look at job X again" is believed. An end, or a status we do not know, is worth an early look.
 */
function readCallback(body: Buffer): WebhookNotice | undefined {
  return readHint(body, callbackSchema, (hint) => {
    const status = hint.status === undefined ? undefined : legnextStatus(hint.status);
    return { upstreamId: hint.job_id, final: status === undefined || isFinal(status) };
  });
}

/** Legnext's body for one of the grid actions it has an endpoint for. */
function actionRequest(input: ActionInput): { path: string; body: Record<string, unknown> } {
  const jobId = input.gridId;
  const imageNo = () => {
    const index = input.index;
    if (index === undefined || !Number.isInteger(index) || index < 1 || index > 4) {
      throw new UpstreamError('rejected', `${input.action} picks one of the grid's images: index 1 to 4`);
    }
    return index - 1;
  };
  switch (input.action) {
    case 'upscale':
      return { path: '/api/v1/upscale', body: { jobId, imageNo: imageNo(), type: UPSCALE_SUBTLE } };
    case 'variation': {
      const remixPrompt = input.remix ? input.prompt?.trim() : undefined;
      if (remixPrompt && remixPrompt.length > TEXT_MAX) {
        throw new UpstreamError('rejected', `Legnext takes Remix prompts of at most ${TEXT_MAX} characters`);
      }
      return {
        path: '/api/v1/variation',
        body: { jobId, imageNo: imageNo(), type: VARY_STRONG, ...(remixPrompt ? { remixPrompt } : {}) },
      };
    }
    case 'reroll':
      if (input.remix) throw new UpstreamError('rejected', 'Legnext rerolls a grid with its own prompt only');
      return { path: '/api/v1/reroll', body: { jobId } };
    default:
      throw new UpstreamError('rejected', `Legnext offers no ${input.action} through this server`);
  }
}

export interface LegnextAdapterOptions {
  /** Legnext's origin (LEGNEXT_DEFAULT_BASE), without the /api path. */
  baseUrl: string;
  /** The account's API key, sent as `x-api-key`. */
  secret: string;
  http: UpstreamHttpClient;
  name?: string;
  /**
   * Where Legnext should POST finished jobs (its `callback`); a function when the address is
   * known only once the server listens.
   */
  webhookUrl?: CallbackUrl;
}

export function createLegnextAdapter(options: LegnextAdapterOptions): UpstreamAdapter {
  const base = options.baseUrl.replace(/\/+$/, '');
  const scrub = secretScrubber(options.secret);
  const callback = () => {
    const value = callbackUrlNow(options.webhookUrl);
    return value ? { callback: value } : {};
  };

  async function call(path: string, init: RequestInit): Promise<LegnextTask> {
    const reply = await options.http.request(`${base}${path}`, {
      ...init,
      headers: { 'x-api-key': options.secret, accept: 'application/json', 'content-type': 'application/json' },
      maxBytes: MAX_JSON_BYTES,
    });
    if (reply.status < 200 || reply.status >= 300) {
      const reason = reasonOf(reply);
      throw failureFor(reply.status, reason && scrub(reason), reply.headers.get('retry-after'));
    }
    return parseJsonReply(reply, taskSchema, 'Legnext');
  }

  /** A new job's id; a task that failed at once (an error code in an HTTP 200) is that refusal. */
  async function start(path: string, body: Record<string, unknown>): Promise<{ id: string; status: UpstreamStatus }> {
    const task = await call(path, { method: 'POST', body: JSON.stringify({ ...body, ...callback() }) });
    const code = task.error?.code;
    if (task.status === 'failed' && code && code >= 400) {
      const reason = cleanLine(task.error?.message || task.error?.raw_message || '');
      throw failureFor(code, reason ? scrub(reason) : undefined, null);
    }
    if (!JOB_ID_PATTERN.test(task.job_id)) {
      throw new UpstreamError('bad_response', 'Legnext answered without a usable job id');
    }
    return { id: task.job_id, status: legnextStatus(task.status) ?? 'pending' };
  }

  return {
    name: options.name ?? 'legnext',

    imagineOutput: 'grid',

    gridActions: GRID_ACTIONS,

    async submit(input: SubmitInput) {
      requirePublicLinks(
        input.images,
        (role) => `Legnext reads images only from public links, and this server has none for the ${role} image`,
      );
      const { prompt } = preparePrompt(input);
      if (prompt.length > TEXT_MAX) {
        throw new UpstreamError('rejected', `Legnext takes prompts of at most ${TEXT_MAX} characters, links included`);
      }
      return start('/api/v1/diffusion', { text: prompt });
    },

    async act(input: ActionInput) {
      const { path, body } = actionRequest(input);
      return start(path, body);
    },

    async getJob(id: string): Promise<UpstreamJob> {
      return toUpstreamJob(id, await call(`/api/v1/job/${encodeURIComponent(id)}`, { method: 'GET' }), scrub);
    },

    parseWebhook: readCallback,
  };
}
