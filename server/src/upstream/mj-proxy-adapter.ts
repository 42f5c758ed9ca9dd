// Adapter for the midjourney-proxy relay protocol (docs/upstreams.md#the-midjourney-proxy-relay):
// `mj-api-secret` auth, POST /submit/imagine answering `code`s in HTTP 200, GET /task/:id/fetch
// answering the task (an empty body for an unknown id), POST /submit/change for grid actions
// (or, on newer relays without it, /submit/action with the button's customId), and the
// notifyHook's bodies, describe and blend. Parameters travel in the prompt text; our images as
// base64Array where the protocol takes them, else as links.

import { JOB_ID_PATTERN } from '@shared/schemas/job';
import type { BlendShape, ReferenceRole } from '@shared/schemas/upload';
import { z } from 'zod';
import { UpstreamError } from '../errors';
import type {
  ActionInput,
  ImageInput,
  SubmitInput,
  UpstreamAdapter,
  UpstreamJob,
  UpstreamStatus,
  WebhookNotice,
} from './adapter';
import {
  MAX_JSON_BYTES,
  parseJsonReply,
  parseRetryAfter,
  type UpstreamHttpClient,
  type UpstreamReply,
} from './http-client';
import { dataUrl, preparePrompt } from './prompt-text';

const QUEUE_FULL_RETRY_S = 30;

const STATUSES: Record<string, UpstreamStatus> = {
  NOT_START: 'pending',
  SUBMITTED: 'pending',
  MODAL: 'pending',
  IN_PROGRESS: 'processing',
  SUCCESS: 'complete',
  FAILURE: 'failed',
  CANCEL: 'cancelled',
};
const FINAL_STATUSES: ReadonlySet<UpstreamStatus> = new Set(['complete', 'failed', 'cancelled']);

/** Our status for a relay status, or undefined for one the protocol does not define. */
const relayStatus = (status: string): UpstreamStatus | undefined =>
  Object.hasOwn(STATUSES, status) ? STATUSES[status] : undefined;

const RELAY_ACTIONS = { upscale: 'UPSCALE', variation: 'VARIATION', reroll: 'REROLL' } as const;

const submitAnswerSchema = z.object({
  code: z.number().int(),
  description: z.string().nullish(),
  result: z.union([z.string(), z.number()]).nullish(),
  properties: z
    .object({ bannedWord: z.string().nullish(), numberOfQueues: z.number().nullish() })
    .passthrough()
    .nullish(),
});

const taskSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  status: z.string().refine((value) => Object.hasOwn(STATUSES, value), 'unknown task status'),
  progress: z
    .union([z.string(), z.number()])
    .nullish()
    .transform((value) => {
      const number = typeof value === 'number' ? value : Number.parseFloat(String(value ?? '').replace('%', ''));
      return Number.isFinite(number) ? Math.min(100, Math.max(0, number)) : undefined;
    }),
  // Relays send "" while there is no image yet.
  imageUrl: z
    .union([z.literal(''), z.url({ protocol: /^https?$/ })])
    .nullish()
    .transform((value) => value || undefined),
  failReason: z.string().nullish(),
  action: z.string().nullish(),
  prompt: z.string().nullish(),
  promptEn: z.string().nullish(),
  properties: z.object({ finalPrompt: z.string().nullish() }).passthrough().nullish(),
});

const buttonSchema = z.object({
  customId: z.string().min(1).max(300),
  label: z.string().nullish(),
  emoji: z.string().nullish(),
});
type Button = z.infer<typeof buttonSchema>;
const buttonsSchema = z.object({
  buttons: z
    .array(buttonSchema)
    .nullish()
    .transform((buttons) => buttons ?? []),
});

/** The notifyHook's body: only the task id and status are read, and only as a hint. */
const notifyHookSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  status: z.string().optional().catch(undefined),
});

/** Image prompts travel as base64Array; style and omni references only as links. */
const INLINE_ROLES: readonly ReferenceRole[] = ['image'];
const BLEND_DIMENSIONS: Record<BlendShape, string> = { portrait: 'PORTRAIT', square: 'SQUARE', landscape: 'LANDSCAPE' };
/** Untrusted text we show: bounded, without control characters. */
const FINAL_PROMPT_MAX = 4_000;
const DESCRIPTION_MAX = 1_500;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const clean = (text: string, max: number) => text.replace(CONTROL, '').trim().slice(0, max);

/**
 * A describe task's answer: four prompts, numbered by Discord's keycap digits (1️⃣ … 4️⃣) in
 * one text; a relay without them separates the prompts by blank lines.
 */
export function splitDescriptions(text: string): string[] {
  const numbered = text.split(/(?:^|\s)[1-4]\uFE0F?\u20E3/u).map((part) => part.trim());
  const parts = numbered.filter(Boolean).length > 1 ? numbered : text.split(/\n\s*\n/);
  return parts
    .map((part) => clean(part.replace(/\s+/g, ' '), DESCRIPTION_MAX))
    .filter(Boolean)
    .slice(0, 4);
}

/** The grid button for an action: U2 / V2 by label (as Discord shows them), reroll by its customId or 🔄. */
function findButton(buttons: readonly Button[], input: ActionInput): Button | undefined {
  if (input.action === 'reroll') {
    return buttons.find((button) => /::reroll::/i.test(button.customId) || button.emoji === '🔄');
  }
  const label = `${input.action === 'upscale' ? 'U' : 'V'}${input.index}`;
  return buttons.find((button) => button.label?.trim().toUpperCase() === label);
}

/** The HTTP-level failures of any relay call: auth, rate limits, server faults, surprises. */
function failureForStatus(reply: UpstreamReply): UpstreamError | undefined {
  if (reply.status === 401 || reply.status === 403) {
    return new UpstreamError(
      'auth',
      "The relay rejected this server's mj-api-secret; the operator should check MJ_PROXY_SECRET",
    );
  }
  if (reply.status === 429) {
    const retryAfterS = parseRetryAfter(reply.headers.get('retry-after')) ?? QUEUE_FULL_RETRY_S;
    return new UpstreamError('rate_limited', `The relay is rate limiting; try again in ${retryAfterS} s`, {
      retryAfterS,
    });
  }
  if (reply.status >= 500) return new UpstreamError('unavailable', `The relay failed with HTTP ${reply.status}`);
  if (reply.status < 200 || reply.status >= 300) {
    return new UpstreamError('bad_response', `The relay answered with unexpected HTTP ${reply.status}`);
  }
  return undefined;
}

/** The task id of an accepted submission; every refusal `code` becomes our error. */
function acceptedTaskId(reply: UpstreamReply, scrub: (text: string) => string): string {
  const answer = parseJsonReply(reply, submitAnswerSchema, 'The relay');
  const description = scrub(answer.description ?? '');
  switch (answer.code) {
    case 1:
    case 21:
    case 22: {
      const id = String(answer.result ?? '');
      if (!JOB_ID_PATTERN.test(id))
        throw new UpstreamError('bad_response', 'The relay answered without a usable task id');
      return id;
    }
    case 23:
      throw new UpstreamError('rate_limited', `The relay's queue is full; try again in ${QUEUE_FULL_RETRY_S} s`, {
        retryAfterS: QUEUE_FULL_RETRY_S,
      });
    case 24: {
      const word = answer.properties?.bannedWord;
      throw new UpstreamError(
        'refused',
        word ? `The prompt was refused: banned word "${word}"` : 'The prompt was refused by the content filter',
      );
    }
    case 4:
      throw new UpstreamError(
        'rejected',
        description ? `The relay rejected the request: ${description}` : 'The relay rejected the request',
      );
    case 9:
      throw new UpstreamError('unavailable', description ? `The relay failed: ${description}` : 'The relay failed');
    default:
      throw new UpstreamError('bad_response', `The relay answered with unknown code ${answer.code}`);
  }
}

/** A fetched task in our terms: a finished task must name its image; a running one may show a preview. */
function toUpstreamJob(id: string, task: z.infer<typeof taskSchema>, scrub: (text: string) => string): UpstreamJob {
  const status = relayStatus(task.status) ?? 'pending';
  const job: UpstreamJob = { id, status };
  if (task.progress !== undefined) job.progress = task.progress;
  // A describe task finishes with prompts and no image; some relays leave out its action.
  const describing = status === 'complete' && (task.action === 'DESCRIBE' || !task.imageUrl);
  if (status === 'complete' && !describing) {
    if (!task.imageUrl) throw new UpstreamError('bad_response', 'The relay reported a finished task without an image');
    job.imageUrl = task.imageUrl;
    job.progress = 100;
  } else if (status === 'processing' && task.imageUrl) {
    job.previewUrl = task.imageUrl;
  }
  if (status === 'failed' || status === 'cancelled') {
    job.error = scrub(
      task.failReason?.trim() ||
        (status === 'cancelled' ? 'The task was cancelled on the relay' : 'The relay reported a failure'),
    );
  }
  const finalPrompt = task.properties?.finalPrompt?.trim();
  if (finalPrompt) job.finalPrompt = scrub(clean(finalPrompt, FINAL_PROMPT_MAX));
  if (describing) {
    job.descriptions = splitDescriptions(scrub(task.promptEn || task.prompt || finalPrompt || ''));
    if (job.descriptions.length === 0) {
      throw new UpstreamError('bad_response', 'The relay reported a finished task without an image');
    }
    job.progress = 100;
  }
  return job;
}

/**
 * A notifyHook body as a hint: the relay signs nothing, so only "look at task X again" is
 * believed. An end (or an unknown status) is worth an early look; mere progress is not.
 */
function readNotifyHook(body: Buffer): WebhookNotice | undefined {
  let hint: z.infer<typeof notifyHookSchema>;
  try {
    hint = notifyHookSchema.parse(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
  const status = hint.status === undefined ? undefined : relayStatus(hint.status);
  const final = hint.status === undefined || (status !== undefined && FINAL_STATUSES.has(status));
  return { kind: 'hint', upstreamId: hint.id, final };
}

export interface MjProxyAdapterOptions {
  /** The relay's base URL including its /mj path. */
  baseUrl: string;
  secret: string;
  http: UpstreamHttpClient;
  name?: string;
  /**
   * Where the relay should POST task changes (our /hooks/mj-proxy/<token>); a function when
   * the address is known only once the server listens.
   */
  notifyHook?: string | (() => string | undefined) | undefined;
}

export function createMjProxyAdapter(options: MjProxyAdapterOptions): UpstreamAdapter {
  const base = options.baseUrl.replace(/\/+$/, '');
  const hook = () => {
    const value = typeof options.notifyHook === 'function' ? options.notifyHook() : options.notifyHook;
    return value ? { notifyHook: value } : {};
  };
  let changeMissing = false;
  const scrub = (text: string) => (options.secret ? text.split(options.secret).join('[redacted]') : text);

  async function call(path: string, init: RequestInit, accept404 = false): Promise<UpstreamReply> {
    const reply = await options.http.request(`${base}${path}`, {
      ...init,
      headers: { 'mj-api-secret': options.secret, accept: 'application/json', 'content-type': 'application/json' },
      maxBytes: MAX_JSON_BYTES,
    });
    if (reply.status === 404 && accept404) return reply;
    const failure = failureForStatus(reply);
    if (failure) throw failure;
    return reply;
  }

  const post = (path: string, body: object, accept404 = false) =>
    call(path, { method: 'POST', body: JSON.stringify({ ...body, ...hook() }) }, accept404);

  /** Newer relays dropped /submit/change for /submit/action with a button's customId. */
  async function actByButton(input: ActionInput): Promise<string> {
    // The grid's buttons name the customId (one more call; the budget counted the action).
    const grid = parseJsonReply(
      await call(`/task/${encodeURIComponent(input.gridId)}/fetch`, { method: 'GET' }),
      buttonsSchema,
      'The relay',
    );
    const button = findButton(grid.buttons, input);
    if (!button) throw new UpstreamError('rejected', `The relay offers no ${input.action} button on this grid`);
    return acceptedTaskId(await post('/submit/action', { taskId: input.gridId, customId: button.customId }), scrub);
  }

  return {
    name: options.name ?? 'mj-proxy',

    inlineRoles: INLINE_ROLES,

    async submit(input: SubmitInput) {
      const { prompt, inline } = preparePrompt(input, { inlineRoles: INLINE_ROLES });
      const base64Array = await Promise.all(inline.map(dataUrl));
      const body = base64Array.length > 0 ? { prompt, base64Array } : { prompt };
      return { id: acceptedTaskId(await post('/submit/imagine', body), scrub), status: 'pending' };
    },

    async describe(image: ImageInput) {
      const base64 = await dataUrl(image);
      return { id: acceptedTaskId(await post('/submit/describe', { base64 }), scrub), status: 'pending' };
    },

    async blend(images: ImageInput[], shape: BlendShape) {
      const base64Array = await Promise.all(images.map(dataUrl));
      const body = { base64Array, dimensions: BLEND_DIMENSIONS[shape] };
      return { id: acceptedTaskId(await post('/submit/blend', body), scrub), status: 'pending' };
    },

    actions: ['upscale', 'variation', 'reroll'],

    async act(input: ActionInput) {
      if (!changeMissing) {
        const reply = await post(
          '/submit/change',
          {
            taskId: input.gridId,
            action: RELAY_ACTIONS[input.action],
            ...(input.action === 'reroll' ? {} : { index: input.index }),
          },
          true,
        );
        if (reply.status !== 404) return { id: acceptedTaskId(reply, scrub), status: 'pending' };
        changeMissing = true;
      }
      return { id: await actByButton(input), status: 'pending' };
    },

    async getJob(id: string): Promise<UpstreamJob> {
      const reply = await call(`/task/${encodeURIComponent(id)}/fetch`, { method: 'GET' });
      if (Buffer.from(reply.body).toString('utf8').trim() === '') throw new UpstreamError('not_found', 'No such task');
      return toUpstreamJob(id, parseJsonReply(reply, taskSchema, 'The relay'), scrub);
    },

    async cancel(id: string) {
      await call(`/task/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    },

    parseWebhook: readNotifyHook,
  };
}
