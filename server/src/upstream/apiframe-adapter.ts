// Adapter for Apiframe v2 (docs/upstreams.md#paid-hosted-apis): `X-API-Key` auth, POST /v2/images/generate and
// /v2/images/midjourney/action (one Idempotency-Key each), GET /v2/jobs/:id, and its webhook bodies as hints.

import { randomUUID } from 'node:crypto';
import { JOB_ID_PATTERN, type JobAction } from '@shared/schemas/job';
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

export const APIFRAME_DEFAULT_BASE = 'https://api.apiframe.ai';

/** The longest prompt Apiframe takes, for a generation and an inpaint alike. */
export const APIFRAME_PROMPT_MAX = 2_000;
/** Progress notices are worth no early look, so only the ends are asked for. */
const WEBHOOK_EVENTS = ['completed', 'failed'] as const;

const STATUSES: Record<string, UpstreamStatus> = {
  QUEUED: 'pending',
  PROCESSING: 'processing',
  COMPLETED: 'complete',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

const knownStatus = (raw: string): UpstreamStatus | undefined => ownEntry(STATUSES, raw);

/** How Apiframe words a job its provider moderated: a FAILED job, not an HTTP refusal. */
const MODERATED = /content[\s_-]*policy|moderat|banned|prohibited|nsfw|inappropriate|sensitive|safety/i;

/** What a finished grid offers (Midjourney's U1-U4 and V1-V4), and what one upsampled image offers. */
const GRID_OFFERS: readonly UpstreamOffer[] = [1, 2, 3, 4].flatMap((index) => [
  { action: 'upscale' as const, index },
  { action: 'variation' as const, index },
]);
const IMAGE_OFFERS: readonly UpstreamOffer[] = (
  ['vary_region', 'zoom_out_2x', 'zoom_out_1_5x', 'pan_left', 'pan_right', 'pan_up', 'pan_down'] as const
).map((action) => ({ action }));

/** Our actions and the body Apiframe's action route takes for each (the indexed two need `index`). */
const ACTIONS: Partial<Record<JobAction, Record<string, string | number>>> = {
  upscale: { action: 'upsample' },
  variation: { action: 'variation' },
  vary_region: { action: 'inpaint' },
  zoom_out_2x: { action: 'outpaint', zoomRatio: 2 },
  zoom_out_1_5x: { action: 'outpaint', zoomRatio: 1.5 },
  pan_left: { action: 'pan', direction: 'left' },
  pan_right: { action: 'pan', direction: 'right' },
  pan_up: { action: 'pan', direction: 'up' },
  pan_down: { action: 'pan', direction: 'down' },
};

const acceptedSchema = z.object({
  jobId: z.string().regex(JOB_ID_PATTERN),
  status: z.string().optional(),
});

/** A finished image job's result: `{ images, gridUrl? }`, or (as older answers have it) the link alone. */
const resultSchema = z
  .union([
    httpUrl.transform((url) => ({ images: [url], gridUrl: undefined, bare: true })),
    z
      .object({ images: z.array(httpUrl).max(16).nullish(), gridUrl: httpUrl.nullish() })
      .transform((result) => ({ images: result.images ?? [], gridUrl: result.gridUrl ?? undefined, bare: false })),
  ])
  .nullish();

const jobSchema = z.object({
  status: z.string(),
  progress: z
    .number()
    .nullish()
    .transform((value) => (value == null ? undefined : Math.min(100, Math.max(0, value)))),
  result: resultSchema,
  error: z
    .union([z.string(), z.object({ message: z.string() }).transform((value) => value.message)])
    .nullish()
    .catch(undefined),
  expired: z.boolean().nullish().catch(undefined),
});

/** Apiframe's error envelope; only its words are read, and only when they are words. */
const errorBodySchema = z.object({
  error: z.string().optional().catch(undefined),
  details: z.record(z.string(), z.array(z.string())).optional().catch(undefined),
  creditsRequired: z.number().optional().catch(undefined),
  creditsAvailable: z.number().optional().catch(undefined),
});

/** A webhook body: only the job's id, and whether it says the job ended, are read. */
const webhookSchema = z.object({
  jobId: z.string().regex(JOB_ID_PATTERN),
  status: z.string().optional().catch(undefined),
  event: z.string().optional().catch(undefined),
});

function mapStatus(raw: string): UpstreamStatus {
  const status = knownStatus(raw);
  if (!status) throw new UpstreamError('bad_response', `Apiframe sent an unknown job status "${cleanLine(raw, 40)}"`);
  return status;
}

/** The reason in an error body: its `error`, then its per-field details. */
function reasonOf(reply: UpstreamReply): { reason: string | undefined; body: z.infer<typeof errorBodySchema> } {
  const body = parseJsonBody(reply.body, errorBodySchema) ?? {};
  const details = Object.entries(body.details ?? {}).map(([field, messages]) => `${field}: ${messages.join(', ')}`);
  const reason = cleanLine([body.error, ...details].filter(Boolean).join('; '));
  return { reason: reason || undefined, body };
}

function failureFor(reply: UpstreamReply, scrub: Scrub): UpstreamError {
  const { reason, body } = reasonOf(reply);
  const extra = { upstreamStatus: reply.status };
  const because = (text: string) => scrub(reason ? `${text}: ${reason}` : text);
  switch (true) {
    case reply.status === 401:
      return new UpstreamError(
        'auth',
        "Apiframe rejected this account's API key; the operator should check the key configured for it",
        extra,
      );
    case reply.status === 403:
      return new UpstreamError(
        'auth',
        "Apiframe refused this account's API key (inactive, or without permission); the operator should check it",
        extra,
      );
    case reply.status === 402: {
      const { creditsRequired: needed, creditsAvailable: left } = body;
      const counts = needed !== undefined && left !== undefined ? ` (the job needs ${needed}, ${left} left)` : '';
      return new UpstreamError('account', `The Apiframe account is out of credits${counts}`, extra);
    }
    case reply.status === 404:
      return new UpstreamError('not_found', 'No such job on Apiframe', extra);
    case reply.status === 409:
      return new UpstreamError('rejected', because('Apiframe cannot do this for that job'), extra);
    case reply.status === 422:
      return new UpstreamError('refused', because('The prompt was refused by Apiframe'), extra);
    case reply.status === 429:
      return rateLimited('Apiframe', reply.headers.get('retry-after'), extra);
    case reply.status === 400:
      return new UpstreamError('rejected', because('Apiframe rejected the request'), extra);
    default:
      return unexpectedHttp('Apiframe', reply.status, extra);
  }
}

/**
 * A finished job's image and what it offers next. Apiframe names no buttons, but says what each
 * kind of result takes: a grid (it has a gridUrl) upsample and variation, one upsampled image
 * inpaint, outpaint and pan. A bare link says neither: the job service then goes by the job.
 */
function readResult(result: z.infer<typeof resultSchema>): { imageUrl: string; offers?: UpstreamOffer[] } {
  if (result?.gridUrl) return { imageUrl: result.gridUrl, offers: GRID_OFFERS.map((offer) => ({ ...offer })) };
  const [first, ...rest] = result?.images ?? [];
  if (!first) throw new UpstreamError('bad_response', 'Apiframe reported a finished job without an image');
  if (rest.length > 0) throw new UpstreamError('bad_response', 'Apiframe reported several images without their grid');
  return result?.bare ? { imageUrl: first } : { imageUrl: first, offers: IMAGE_OFFERS.map((offer) => ({ ...offer })) };
}

function toUpstreamJob(id: string, answer: z.infer<typeof jobSchema>, scrub: Scrub): UpstreamJob {
  const status = mapStatus(answer.status);
  const job: UpstreamJob = { id, status };
  if (answer.progress !== undefined) job.progress = answer.progress;
  if (status === 'complete') {
    // Apiframe purges results after about a day; the links would only fail to download.
    if (answer.expired) {
      return {
        id,
        status: 'failed',
        error: 'Apiframe has already deleted the images of this job (it keeps them a day)',
      };
    }
    Object.assign(job, readResult(answer.result));
    job.progress = 100;
  }
  if (status === 'failed') {
    const reason = cleanLine(answer.error ?? '', 500);
    job.error = scrub(
      reason && MODERATED.test(reason)
        ? `The prompt was moderated: ${reason}`
        : reason || 'Apiframe reported a failure without a reason',
    );
  }
  if (status === 'cancelled') job.error = 'The job was cancelled on Apiframe';
  return job;
}

/** A webhook body as a hint: an end (or a body that says nothing of it) is worth an early look. */
function readWebhook(body: Buffer): WebhookNotice | undefined {
  return readHint(body, webhookSchema, (hint) => {
    const status = hint.status === undefined ? undefined : knownStatus(hint.status);
    const final =
      status !== undefined
        ? isFinal(status)
        : hint.event === undefined || hint.event === 'completed' || hint.event === 'failed';
    return { upstreamId: hint.jobId, final };
  });
}

export interface ApiframeAdapterOptions {
  /** Apiframe's origin (APIFRAME_DEFAULT_BASE); the /v2 paths are appended. */
  baseUrl: string;
  /** The account's API key (afk_…). */
  secret: string;
  http: UpstreamHttpClient;
  name?: string;
  /** Where Apiframe should POST a job's end; a function when the address is known only once the server listens. */
  webhookUrl?: CallbackUrl;
}

/** Apiframe always takes actions and sends webhooks: those two are not optional here. */
export type ApiframeAdapter = UpstreamAdapter & Pick<Required<UpstreamAdapter>, 'act' | 'parseWebhook'>;

export function createApiframeAdapter(options: ApiframeAdapterOptions): ApiframeAdapter {
  const base = options.baseUrl.replace(/\/+$/, '');
  const scrub = secretScrubber(options.secret);
  const hook = () => {
    const url = callbackUrlNow(options.webhookUrl);
    return url ? { webhookUrl: url, webhookEvents: [...WEBHOOK_EVENTS] } : {};
  };

  async function call(path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<UpstreamReply> {
    const reply = await options.http.request(`${base}${path}`, {
      ...init,
      headers: { 'x-api-key': options.secret, accept: 'application/json', ...init.headers },
      maxBytes: MAX_JSON_BYTES,
    });
    if (reply.status >= 200 && reply.status < 300) return reply;
    throw failureFor(reply, scrub);
  }

  /** A job-creating POST: a fresh Idempotency-Key, so that a retried request cannot make a second job. */
  async function create(path: string, body: object): Promise<{ id: string; status: UpstreamStatus }> {
    const reply = await call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ ...body, ...hook() }),
    });
    const answer = parseJsonReply(reply, acceptedSchema, 'Apiframe');
    return { id: answer.jobId, status: answer.status === undefined ? 'pending' : mapStatus(answer.status) };
  }

  async function actionBody(input: ActionInput): Promise<Record<string, unknown>> {
    const body = ACTIONS[input.action];
    if (!body) throw new UpstreamError('rejected', `Apiframe offers no ${input.action}`);
    if (input.action === 'upscale' || input.action === 'variation') {
      if (!input.index || input.index < 1 || input.index > 4) {
        throw new UpstreamError('rejected', `${input.action} needs one of the grid's four images (index 1 to 4)`);
      }
      // Apiframe's variation takes no prompt: a Remix would run as a plain variation.
      if (input.remix) throw new UpstreamError('rejected', 'Apiframe cannot vary with a new prompt (Remix)');
      return { ...body, index: input.index };
    }
    if (input.action === 'vary_region') {
      if (!input.mask) throw new UpstreamError('rejected', 'Vary (Region) needs a mask');
      // Without a new prompt Midjourney repaints the region from the job's own.
      const prompt = input.remix ? input.prompt?.trim() : undefined;
      if (prompt && prompt.length > APIFRAME_PROMPT_MAX) {
        throw new UpstreamError('rejected', `Apiframe takes a prompt of at most ${APIFRAME_PROMPT_MAX} characters`);
      }
      const mask = (await input.mask.load()).toString('base64');
      return { ...body, mask, ...(prompt ? { prompt } : {}) };
    }
    return { ...body };
  }

  return {
    name: options.name ?? 'apiframe',

    imagineOutput: 'grid',

    gridActions: ['upscale', 'variation'],

    async submit(input: SubmitInput) {
      requirePublicLinks(
        input.images,
        (role) =>
          `Apiframe takes images only as public links, and this server has no link Apiframe can reach for the ${role} image`,
      );
      const { prompt } = preparePrompt(input);
      if (prompt.length > APIFRAME_PROMPT_MAX) {
        throw new UpstreamError(
          'rejected',
          `Apiframe takes a prompt of at most ${APIFRAME_PROMPT_MAX} characters, parameters and links included; this one has ${prompt.length}`,
        );
      }
      return create('/v2/images/generate', { model: 'midjourney', prompt });
    },

    async act(input: ActionInput) {
      const body = await actionBody(input);
      return create('/v2/images/midjourney/action', { parentJobId: input.gridId, ...body });
    },

    async getJob(id: string): Promise<UpstreamJob> {
      const reply = await call(`/v2/jobs/${encodeURIComponent(id)}`, { method: 'GET' });
      return toUpstreamJob(id, parseJsonReply(reply, jobSchema, 'Apiframe'), scrub);
    },

    parseWebhook: readWebhook,
  };
}
