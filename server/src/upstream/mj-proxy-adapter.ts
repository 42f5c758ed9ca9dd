// Adapter for the midjourney-proxy relay protocol (docs/upstreams.md#the-midjourney-proxy-relay):
// `mj-api-secret` auth, POST /submit/imagine answering `code`s in HTTP 200, GET /task/:id/fetch
// answering the task (an empty body for an unknown id) with its buttons (read as our actions),
// POST /submit/change for the classic grid actions and /submit/action with a button's customId
// for the rest (followed by /submit/modal where the relay asks for more input: code 21), the
// notifyHook's bodies, describe, blend, and video clips. Parameters travel in the prompt text; our images as
// base64Array where the protocol takes them, else as links.

import { GRID_ACTIONS, JOB_ID_PATTERN, type JobAction } from '@shared/schemas/job';
import type { BlendShape, ReferenceRole } from '@shared/schemas/upload';
import { z } from 'zod';
import { UpstreamError } from '../errors';
import type {
  ActionInput,
  ImageInput,
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
  httpUrl,
  isFinal,
  lenientList,
  ownEntry,
  rateLimited,
  readHint,
  type Scrub,
  secretScrubber,
  unexpectedHttp,
} from './adapter-kit';
import { MAX_JSON_BYTES, parseJsonReply, type UpstreamHttpClient, type UpstreamReply } from './http-client';
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

/** Our status for a relay status, or undefined for one the protocol does not define. */
const relayStatus = (status: string): UpstreamStatus | undefined => ownEntry(STATUSES, status);

/** The actions /submit/change takes, by the relay's names. */
const CHANGE_ACTIONS: Partial<Record<JobAction, string>> = {
  upscale: 'UPSCALE',
  variation: 'VARIATION',
  reroll: 'REROLL',
};

/**
 * Discord's button ids as relays pass them on, read as our actions (the first that matches).
 * Buttons we do not know (bookmarks, links, older models' upscales) are not offered.
 */
const BUTTONS: readonly { pattern: RegExp; action: JobAction | ((match: RegExpExecArray) => JobAction) }[] = [
  { pattern: /^MJ::JOB::upsample::([1-4])::/, action: 'upscale' },
  { pattern: /^MJ::JOB::variation::([1-4])::/, action: 'variation' },
  { pattern: /^MJ::JOB::reroll::/, action: 'reroll' },
  { pattern: /^MJ::JOB::upsample_v[\d_.]+_2x_subtle::/, action: 'upscale_subtle' },
  { pattern: /^MJ::JOB::upsample_v[\d_.]+_2x_creative::/, action: 'upscale_creative' },
  { pattern: /^MJ::JOB::low_variation::/, action: 'vary_subtle' },
  { pattern: /^MJ::JOB::high_variation::/, action: 'vary_strong' },
  { pattern: /^MJ::Inpaint::/, action: 'vary_region' },
  { pattern: /^MJ::Outpaint::50::/, action: 'zoom_out_2x' },
  { pattern: /^MJ::Outpaint::75::/, action: 'zoom_out_1_5x' },
  { pattern: /^MJ::CustomZoom::/, action: 'zoom_custom' },
  { pattern: /^MJ::JOB::pan_(left|right|up|down)::/, action: (match) => `pan_${match[1]}` as JobAction },
  { pattern: /^MJ::JOB::animate_(high|low)_extend::/, action: (match) => `extend_${match[1]}` as JobAction },
  { pattern: /^MJ::JOB::animate_(high|low)::/, action: (match) => `animate_${match[1]}` as JobAction },
];

/** The actions a relay must ask more for (code 21 and a modal) before it may run them. */
const MODAL_ACTIONS: ReadonlySet<JobAction> = new Set(['vary_region', 'zoom_custom']);

/** Our reading of a relay's buttons: each known one once (the first of a kind and index wins). */
export function offersOf(buttons: readonly { customId: string }[]): UpstreamOffer[] {
  const offers: UpstreamOffer[] = [];
  for (const { customId } of buttons) {
    for (const button of BUTTONS) {
      const match = button.pattern.exec(customId);
      if (!match) continue;
      const action = typeof button.action === 'function' ? button.action(match) : button.action;
      const index = action === 'upscale' || action === 'variation' ? Number(match[1]) : undefined;
      if (!offers.some((offer) => offer.action === action && offer.index === index)) {
        offers.push({ action, ...(index === undefined ? {} : { index }), customId });
      }
      break;
    }
  }
  return offers;
}

const submitAnswerSchema = z.object({
  code: z.number().int(),
  description: z.string().nullish(),
  result: z.union([z.string(), z.number()]).nullish(),
  properties: z
    .object({ bannedWord: z.string().nullish(), numberOfQueues: z.number().nullish() })
    .passthrough()
    .nullish(),
});

const buttonSchema = z.object({
  customId: z.string().min(1).max(300),
  label: z.string().nullish(),
  emoji: z.string().nullish(),
});
const buttonsSchema = z.object({
  buttons: z
    .array(buttonSchema)
    .nullish()
    .transform((buttons) => buttons ?? []),
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
    .union([z.literal(''), httpUrl])
    .nullish()
    .transform((value) => value || undefined),
  failReason: z.string().nullish(),
  // A video task's clip: `videoUrl`, or the first of `videoUrls` (relays spell it both ways).
  videoUrl: z
    .union([z.literal(''), httpUrl])
    .nullish()
    .catch(undefined)
    .transform((value) => value || undefined),
  videoUrls: z
    .array(z.union([z.string(), z.object({ url: z.string() }).transform((item) => item.url)]))
    .nullish()
    .catch(undefined),
  // A malformed button list offers nothing rather than failing the task.
  buttons: lenientList(buttonSchema),
  action: z.string().nullish(),
  prompt: z.string().nullish(),
  promptEn: z.string().nullish(),
  properties: z.object({ finalPrompt: z.string().nullish() }).passthrough().nullish(),
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

/** The HTTP-level failures of any relay call: auth, rate limits, server faults, surprises. */
function failureForStatus(reply: UpstreamReply): UpstreamError | undefined {
  if (reply.status === 401 || reply.status === 403) {
    return new UpstreamError(
      'auth',
      "The relay rejected this server's mj-api-secret; the operator should check MJ_PROXY_SECRET",
    );
  }
  if (reply.status === 429) return rateLimited('The relay', reply.headers.get('retry-after'));
  if (reply.status < 200 || reply.status >= 300) return unexpectedHttp('The relay', reply.status);
  return undefined;
}

/** The task id of an accepted submission; every refusal `code` becomes our error. */
function acceptedTaskId(reply: UpstreamReply, scrub: Scrub): string {
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
      throw new UpstreamError('busy', `The relay's queue is full; try again in ${QUEUE_FULL_RETRY_S} s`, {
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
function toUpstreamJob(id: string, task: z.infer<typeof taskSchema>, scrub: Scrub): UpstreamJob {
  const status = relayStatus(task.status) ?? 'pending';
  const job: UpstreamJob = { id, status };
  if (task.progress !== undefined) job.progress = task.progress;
  // A describe task finishes with prompts and no image; some relays leave out its action.
  const describing =
    status === 'complete' &&
    (task.action === 'DESCRIBE' || (!task.imageUrl && !task.videoUrl && !task.videoUrls?.length));
  const videoUrl = task.videoUrl ?? task.videoUrls?.find((url) => httpUrl.safeParse(url).success);
  if (status === 'complete' && !describing) {
    if (!task.imageUrl && !videoUrl) {
      throw new UpstreamError('bad_response', 'The relay reported a finished task without an image');
    }
    if (task.imageUrl) job.imageUrl = task.imageUrl;
    if (videoUrl) job.videoUrl = videoUrl;
    // No buttons (an older relay, or an empty list): the job service falls back on what the
    // job is (a grid offers /submit/change's three).
    if (task.buttons?.length) job.offers = offersOf(task.buttons);
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
  return readHint(body, notifyHookSchema, (hint) => ({
    upstreamId: hint.id,
    final: hint.status === undefined || isFinal(relayStatus(hint.status)),
  }));
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
  notifyHook?: CallbackUrl;
}

export function createMjProxyAdapter(options: MjProxyAdapterOptions): UpstreamAdapter {
  const base = options.baseUrl.replace(/\/+$/, '');
  const hook = () => {
    const value = callbackUrlNow(options.notifyHook);
    return value ? { notifyHook: value } : {};
  };
  let changeMissing = false;
  // The secret, and the relay's button ids (they name Discord messages), never leave in our words.
  const withoutSecret = secretScrubber(options.secret);
  const scrub: Scrub = (text) => withoutSecret(text).replace(/MJ::\S+/g, '[button]');

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

  /** The offer's customId: kept from the job's report, else read from the job's buttons now. */
  async function customIdFor(input: ActionInput): Promise<string> {
    if (input.customId) return input.customId;
    // Jobs finished before their buttons were kept: one more call (the budget counted the action).
    const task = parseJsonReply(
      await call(`/task/${encodeURIComponent(input.gridId)}/fetch`, { method: 'GET' }),
      buttonsSchema,
      'The relay',
    );
    const offer = offersOf(task.buttons).find(
      (item) => item.action === input.action && item.index === (input.index ?? undefined),
    );
    if (!offer?.customId) throw new UpstreamError('rejected', `The relay offers no ${input.action} on this task`);
    return offer.customId;
  }

  /**
   * /submit/action with the button's customId. Code 21 means the relay waits for a modal's
   * input (a region's mask, a zoom, Remix's prompt): it is sent at once, as one step.
   */
  async function actByButton(input: ActionInput): Promise<string> {
    if (input.action === 'vary_region' && !input.mask)
      throw new UpstreamError('rejected', 'Vary (Region) needs a mask');
    if (input.action === 'zoom_custom' && input.zoom === undefined) {
      throw new UpstreamError('rejected', 'Custom Zoom needs a zoom factor');
    }
    const customId = await customIdFor(input);
    const reply = await post('/submit/action', { taskId: input.gridId, customId });
    const answer = parseJsonReply(reply, submitAnswerSchema, 'The relay');
    if (answer.code !== 21) {
      const id = acceptedTaskId(reply, scrub);
      // Started without asking for what it needs: whatever runs is not what the job says.
      if (MODAL_ACTIONS.has(input.action)) {
        throw new UpstreamError(
          'bad_response',
          `The relay started ${input.action} (task ${id}) without asking for its ${input.action === 'vary_region' ? 'mask' : 'zoom'}`,
        );
      }
      return id;
    }
    const modalId = String(answer.result ?? '');
    if (!JOB_ID_PATTERN.test(modalId)) {
      throw new UpstreamError('bad_response', 'The relay asked for more input without a usable task id');
    }
    const prompt = [
      input.prompt ?? '',
      input.zoom === undefined ? '' : `--zoom ${input.zoom.toFixed(2).replace(/\.?0+$/, '')}`,
    ]
      .filter(Boolean)
      .join(' ');
    const maskBase64 = input.mask ? `data:image/png;base64,${(await input.mask.load()).toString('base64')}` : undefined;
    return acceptedTaskId(
      await post('/submit/modal', {
        taskId: modalId,
        ...(prompt ? { prompt } : {}),
        ...(maskBase64 ? { maskBase64 } : {}),
      }),
      scrub,
    );
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

    imagineOutput: 'grid',

    gridActions: GRID_ACTIONS,

    async act(input: ActionInput) {
      // The classic three go through /submit/change, which older relays alone have; a Remix
      // prompt needs the button's modal, so those go by button too.
      const change = CHANGE_ACTIONS[input.action];
      if (change && !input.remix && !changeMissing) {
        const reply = await post(
          '/submit/change',
          { taskId: input.gridId, action: change, ...(input.action === 'reroll' ? {} : { index: input.index }) },
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
