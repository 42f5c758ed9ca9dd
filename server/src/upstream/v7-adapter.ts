// Adapter for the v7 REST contract (docs/upstreams.md#the-v7-rest-contract): Bearer auth,
// POST /imagine, GET /jobs/:id, and the job bodies its webhooks carry. Every answer is parsed
// with zod; the third-party spellings of statuses are mapped to ours.

import { JOB_ID_PATTERN } from '@shared/schemas/job';
import { DEFAULT_MODEL, type Model } from '@shared/schemas/params-values';
import { z } from 'zod';
import { UpstreamError } from '../errors';
import type { SubmitInput, UpstreamAdapter, UpstreamJob, UpstreamStatus, WebhookNotice } from './adapter';
import {
  httpUrl,
  jsonOf,
  ownEntry,
  parseJsonBody,
  rateLimited,
  type Scrub,
  secretScrubber,
  unexpectedHttp,
} from './adapter-kit';
import { MAX_JSON_BYTES, parseJsonReply, type UpstreamHttpClient, type UpstreamReply } from './http-client';
import { preparePrompt } from './prompt-text';

const STATUS_SPELLINGS: Record<string, UpstreamStatus> = {
  pending: 'pending',
  queued: 'pending',
  submitted: 'pending',
  processing: 'processing',
  in_progress: 'processing',
  running: 'processing',
  complete: 'complete',
  completed: 'complete',
  succeeded: 'complete',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
};

const statusSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .refine((value) => Object.hasOwn(STATUS_SPELLINGS, value), 'unknown job status');

const progressSchema = z
  .union([z.number(), z.string().regex(/^\s*\d+(\.\d+)?\s*%?\s*$/)])
  .transform((value) => Math.min(100, Math.max(0, typeof value === 'number' ? value : Number.parseFloat(value))))
  .refine(Number.isFinite);

const submitAnswerSchema = z.object({
  job_id: z.string().regex(JOB_ID_PATTERN),
  status: statusSchema.optional(),
});

const jobAnswerSchema = z.object({
  status: statusSchema,
  progress: progressSchema.nullish(),
  image_url: httpUrl.nullish(),
  error: z.unknown().optional(),
});

export interface V7AdapterOptions {
  baseUrl: string;
  apiKey: string;
  http: UpstreamHttpClient;
  name?: string;
}

export function createV7Adapter(options: V7AdapterOptions): UpstreamAdapter {
  const base = options.baseUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' };
  const scrub = secretScrubber(options.apiKey);

  async function call(path: string, init: RequestInit): Promise<UpstreamReply> {
    const reply = await options.http.request(`${base}${path}`, {
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
      maxBytes: MAX_JSON_BYTES,
    });
    if (reply.status >= 200 && reply.status < 300) return reply;
    throw failureFor(reply, scrub);
  }

  return {
    name: options.name ?? 'v7',

    async submit(input: SubmitInput) {
      const reply = await call('/imagine', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(v7Body(input)),
      });
      const answer = parseJsonReply(reply, submitAnswerSchema);
      return { id: answer.job_id, status: answer.status ? mapStatus(answer.status) : 'pending' };
    },

    async getJob(id: string): Promise<UpstreamJob> {
      const reply = await call(`/jobs/${encodeURIComponent(id)}`, { method: 'GET' });
      return toUpstreamJob(id, parseJsonReply(reply, jobAnswerSchema), scrub);
    },

    async cancel(id: string) {
      await call(`/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    },

    parseWebhook(body: Buffer): WebhookNotice {
      const payload = parseJsonBody(body, webhookSchema);
      if (!payload) throw new UpstreamError('bad_response', 'The webhook body is not a job');
      return { kind: 'report', job: toUpstreamJob(payload.job_id, payload, scrub) };
    },
  };
}

const V7_MODELS: Record<Model, string> = { '7': 'v7', '6.1': 'v6.1', '6': 'v6', 'niji 6': 'niji6' };

/**
 * The contract's own fields carry what they can (aspect ratio, the two-level quality, the
 * model); every other parameter, and --q 4, goes in the prompt text. Images go as links.
 */
export function v7Body(input: SubmitInput) {
  const quality = input.params.quality ?? 1;
  const { prompt } = preparePrompt(input, {
    omit: quality === 4 ? ['aspect_ratio', 'model'] : ['aspect_ratio', 'model', 'quality'],
  });
  return {
    prompt,
    aspect_ratio: input.params.aspect_ratio ?? '1:1',
    model: V7_MODELS[input.params.model ?? DEFAULT_MODEL],
    quality: quality >= 2 ? 'high' : 'standard',
  };
}

/** A v7 job answer (a status call's, or a webhook's body) in our terms. */
function toUpstreamJob(
  id: string,
  answer: z.infer<typeof jobAnswerSchema>,
  scrub: Scrub = (text) => text,
): UpstreamJob {
  const status = mapStatus(answer.status);
  const job: UpstreamJob = { id, status };
  if (answer.progress != null) job.progress = answer.progress;
  if (status === 'complete') {
    if (!answer.image_url) {
      throw new UpstreamError('bad_response', 'The upstream reported a finished job without an image');
    }
    job.imageUrl = answer.image_url;
    job.progress = 100;
  }
  if (status === 'failed' || status === 'cancelled') {
    job.error = scrub(
      describeError(answer.error) ??
        (status === 'cancelled' ? 'The job was cancelled upstream' : 'The upstream reported a failure'),
    );
  }
  return job;
}

/** A v7 webhook's body: the job answer with the upstream's job id. */
const webhookSchema = z.object({ job_id: z.string().regex(JOB_ID_PATTERN) }).and(jobAnswerSchema);

function mapStatus(raw: string): UpstreamStatus {
  const status = ownEntry(STATUS_SPELLINGS, raw);
  if (!status) throw new UpstreamError('bad_response', `The upstream sent an unknown job status "${raw}"`);
  return status;
}

const reasonSchema = z.union([
  z.string(),
  z.object({ message: z.string() }).transform((value) => value.message),
  z.object({ error: z.string() }).transform((value) => value.error),
  z.object({ error: z.object({ message: z.string() }) }).transform((value) => value.error.message),
  z.object({ detail: z.string() }).transform((value) => value.detail),
]);

function describeError(value: unknown): string | undefined {
  const result = reasonSchema.safeParse(value);
  if (!result.success) return undefined;
  const text = result.data.trim();
  return text ? text.slice(0, 500) : undefined;
}

function failureFor(reply: UpstreamReply, scrub: Scrub): UpstreamError {
  const reason = describeError(jsonOf(reply.body));
  const extra = { upstreamStatus: reply.status };
  switch (true) {
    case reply.status === 401 || reply.status === 403:
      return new UpstreamError(
        'auth',
        "The upstream rejected this server's Midjourney API key; the operator should check MIDJOURNEY_API_KEY",
        extra,
      );
    case reply.status === 404:
      return new UpstreamError('not_found', 'No such job', extra);
    case reply.status === 422:
      return new UpstreamError(
        'refused',
        scrub(reason ? `The prompt was refused: ${reason}` : 'The prompt was refused by the content filter'),
        extra,
      );
    case reply.status === 429:
      return rateLimited('The upstream', reply.headers.get('retry-after'), extra);
    case reply.status === 400:
      return new UpstreamError(
        'rejected',
        scrub(reason ? `The upstream rejected the request: ${reason}` : 'The upstream rejected the request'),
        extra,
      );
    default:
      return unexpectedHttp('The upstream', reply.status, extra);
  }
}
