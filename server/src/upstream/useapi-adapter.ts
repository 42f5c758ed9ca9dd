// Adapter for useapi.net's Midjourney API v2, a paid service driving the operator's own Midjourney account: Bearer
// auth, imagine, job checks, buttons, its refusals (596: the account needs a human) and replyUrl callbacks as hints.

import type { JobAction } from '@shared/schemas/job';
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
  lenientList,
  parseJsonBody,
  readHint,
  requirePublicLinks,
  type Scrub,
  secretScrubber,
  unexpectedHttp,
} from './adapter-kit';
import {
  MAX_JSON_BYTES,
  parseJsonReply,
  parseRetryAfter,
  type UpstreamHttpClient,
  type UpstreamReply,
} from './http-client';
import { preparePrompt } from './prompt-text';

export const USEAPI_DEFAULT_BASE = 'https://api.useapi.net';

const WHO = 'useapi.net';
/** A full queue without a Retry-After is tried again after this long: a slot frees when a render ends. */
const QUEUE_FULL_RETRY_S = 30;
/** The longest replyUrl the API takes (it answers 413 above). */
const REPLY_URL_MAX = 1024;

/**
 * useapi.net's job ids, e.g. `job:20250822143812123-user:12345-channel:1122334455-bot:midjourney`.
 * They hold colons, so they travel only in a query string (encoded) and in JSON bodies.
 */
const USEAPI_JOB_ID = /^[A-Za-z0-9:._-]{1,256}$/;

const USEAPI_STATUSES = ['created', 'started', 'progress', 'completed', 'moderated', 'failed', 'cancelled'] as const;
type UseapiStatus = (typeof USEAPI_STATUSES)[number];

/** `started`: posted to Discord, not yet drawing; `moderated`: Midjourney refused it on the way. */
const STATUSES: Record<UseapiStatus, UpstreamStatus> = {
  created: 'pending',
  started: 'pending',
  progress: 'processing',
  completed: 'complete',
  moderated: 'failed',
  failed: 'failed',
  cancelled: 'cancelled',
};
const isUseapiStatus = (value: string): value is UseapiStatus => Object.hasOwn(STATUSES, value);

/**
 * The buttons of a finished job that we take, by the label useapi.net lists (and wants back),
 * as our actions. The rest (older models' upscales, Make Square, Remaster, Vary (Region), Custom
 * Zoom, the video buttons) are not offered: they need input or give results we do not read.
 */
const BUTTON_LABELS: readonly { label: string; action: JobAction; index?: number }[] = [
  ...[1, 2, 3, 4].flatMap((index) => [
    { label: `U${index}`, action: 'upscale' as const, index },
    { label: `V${index}`, action: 'variation' as const, index },
  ]),
  { label: '🔄', action: 'reroll' },
  { label: '⬅️', action: 'pan_left' },
  { label: '➡️', action: 'pan_right' },
  { label: '⬆️', action: 'pan_up' },
  { label: '⬇️', action: 'pan_down' },
  { label: 'Vary (Subtle)', action: 'vary_subtle' },
  { label: 'Vary (Strong)', action: 'vary_strong' },
  { label: 'Zoom Out 2x', action: 'zoom_out_2x' },
  { label: 'Zoom Out 1.5x', action: 'zoom_out_1_5x' },
  { label: 'Upscale (Subtle)', action: 'upscale_subtle' },
  { label: 'Upscale (Creative)', action: 'upscale_creative' },
];
/** Emoji come with or without the variation selector; labels are matched without it. */
const bare = (label: string) => label.replace(/\uFE0F/g, '').trim();

/** The action a button label stands for, or undefined for one we do not take. */
function useapiOffer(label: string): UpstreamOffer | undefined {
  const known = BUTTON_LABELS.find((item) => bare(item.label) === bare(label));
  if (!known) return undefined;
  return { action: known.action, ...(known.index === undefined ? {} : { index: known.index }), customId: label };
}

/** The label of the button that takes an action, or undefined where useapi.net has none we know. */
function useapiButton(action: JobAction, index?: number): string | undefined {
  return BUTTON_LABELS.find((item) => item.action === action && item.index === index)?.label;
}

/** The actions useapi.net can take on a grid, whatever one job's buttons say. */
const GRID_ACTIONS: readonly JobAction[] = ['upscale', 'variation', 'reroll'];

const jobIdSchema = z.string().regex(USEAPI_JOB_ID);

/** What an accepted imagine or button press answers (its other fields are not read). */
const acceptedSchema = z.object({
  jobid: jobIdSchema,
  status: z.enum(USEAPI_STATUSES).optional(),
});

const childSchema = z.object({ button: z.string(), jobid: z.string() });

/** A job as GET /v2/jobs/ answers it; replyUrl callbacks carry the same body. */
const jobSchema = z.object({
  jobid: jobIdSchema,
  // Checked by hand, to name an unknown status in the error.
  status: z.string().max(64),
  content: z.string().nullish().catch(undefined),
  // The first attachment is the grid (or, while drawing, Discord's preview).
  attachments: z
    .array(z.object({ url: httpUrl }))
    .nullish()
    .catch(undefined),
  // A malformed list offers nothing rather than failing the job.
  buttons: lenientList(z.string()),
  children: lenientList(childSchema),
  error: z.string().nullish().catch(undefined),
  errorDetails: z.string().nullish().catch(undefined),
});

/** A callback's body: only the job id and its status are read, and only as a hint. */
const callbackSchema = z.object({
  jobid: jobIdSchema,
  status: z.string().max(64).optional().catch(undefined),
});

/** Every refusal's body: `{ error, errorDetails?, code }`. */
const refusalSchema = z.object({
  error: z.string().optional().catch(undefined),
  errorDetails: z.string().optional().catch(undefined),
});

/** Midjourney's "(41%)" in the message useapi.net copies into `content`. */
function progressIn(content: string | null | undefined): number | undefined {
  const matches = [...(content ?? '').matchAll(/\((\d{1,3})%\)/g)];
  const last = matches.at(-1)?.[1];
  return last === undefined ? undefined : Math.min(100, Number(last));
}

function readRefusal(reply: UpstreamReply): string | undefined {
  const refusal = parseJsonBody(reply.body, refusalSchema);
  const text = [refusal?.error, refusal?.errorDetails].filter(Boolean).join(': ');
  return text ? cleanLine(text) : undefined;
}

/** An HTTP refusal as our error; `scrub` takes the token out of anything the API said. */
function failureFor(reply: UpstreamReply, scrub: Scrub): UpstreamError {
  const reason = readRefusal(reply);
  const why = reason ? `: ${scrub(reason)}` : '';
  const extra = { upstreamStatus: reply.status };
  switch (true) {
    case reply.status === 401 || reply.status === 403:
      return new UpstreamError(
        'auth',
        "useapi.net rejected this account's API token; the operator should check the account's secret",
        extra,
      );
    case reply.status === 402:
      return new UpstreamError(
        'account',
        'The useapi.net account cannot take jobs: its subscription has lapsed or it is out of credits',
        extra,
      );
    case reply.status === 596:
      return new UpstreamError(
        'account',
        `The Midjourney account behind useapi.net needs attention: pending moderation or CAPTCHA${why}`,
        extra,
      );
    case reply.status === 404:
      return new UpstreamError('not_found', 'useapi.net has no such job', extra);
    case reply.status === 409:
      return new UpstreamError(
        'rejected',
        `useapi.net refused the button: it was pressed on this job before${why}`,
        extra,
      );
    case reply.status === 422:
      return new UpstreamError('refused', `Midjourney moderated the prompt${why}`, extra);
    case reply.status === 429: {
      const retryAfterS = parseRetryAfter(reply.headers.get('retry-after')) ?? QUEUE_FULL_RETRY_S;
      return new UpstreamError('busy', `The useapi.net account's queue is full; try again in ${retryAfterS} s`, {
        ...extra,
        retryAfterS,
      });
    }
    case reply.status === 400 || reply.status === 412 || reply.status === 413:
      return new UpstreamError('rejected', `useapi.net rejected the request${why}`, extra);
    default:
      return unexpectedHttp(WHO, reply.status, extra);
  }
}

/** A job's answer in our terms: a finished one must name its image; its buttons become offers. */
function toUpstreamJob(id: string, answer: z.infer<typeof jobSchema>, scrub: Scrub): UpstreamJob {
  if (!isUseapiStatus(answer.status)) {
    throw new UpstreamError('bad_response', `useapi.net sent an unknown job status "${cleanLine(answer.status, 64)}"`);
  }
  const status = STATUSES[answer.status];
  const job: UpstreamJob = { id, status };
  const image = answer.attachments?.[0]?.url;
  if (status === 'pending' || status === 'processing') {
    const progress = progressIn(answer.content);
    if (progress !== undefined) job.progress = progress;
    if (answer.status === 'progress' && image) job.previewUrl = image;
  }
  if (status === 'complete') {
    if (!image) throw new UpstreamError('bad_response', 'useapi.net reported a finished job without an image');
    job.imageUrl = image;
    job.progress = 100;
    // An upscale pressed before is refused (409): not offered again.
    const pressed = new Set((answer.children ?? []).map((child) => bare(child.button)));
    const offers = (answer.buttons ?? []).flatMap((label) => {
      const offer = useapiOffer(label);
      return offer && !(offer.action === 'upscale' && pressed.has(bare(label))) ? [offer] : [];
    });
    // No buttons at all: the job service falls back on what the job is.
    if (answer.buttons?.length) job.offers = offers;
  }
  if (status === 'failed' || status === 'cancelled') {
    const reason = cleanLine([answer.error, answer.errorDetails].filter(Boolean).join(': '));
    const fallback =
      answer.status === 'moderated'
        ? 'Midjourney moderated this job'
        : status === 'cancelled'
          ? 'The job was cancelled on useapi.net'
          : 'useapi.net reported a failure';
    job.error = scrub(
      answer.status === 'moderated' && reason ? `Midjourney moderated this job: ${reason}` : reason || fallback,
    );
  }
  return job;
}

/**
 * A replyUrl callback as a hint: useapi.net signs nothing, so only "look at job X again" is
 * believed. An end (or a status we do not know) is worth an early look; mere progress is not.
 */
function readCallback(body: Buffer): WebhookNotice | undefined {
  return readHint(body, callbackSchema, (hint) => {
    const running = hint.status === 'created' || hint.status === 'started' || hint.status === 'progress';
    return { upstreamId: hint.jobid, final: !running };
  });
}

export interface UseapiAdapterOptions {
  /** The API's origin (USEAPI_DEFAULT_BASE); the adapter appends /v2/... */
  baseUrl: string;
  /** The useapi.net API token. */
  secret: string;
  http: UpstreamHttpClient;
  name?: string;
  /**
   * Where useapi.net should POST job changes (its replyUrl); a function when the address is
   * known only once the server listens.
   */
  webhookUrl?: CallbackUrl;
  /** The Discord channel of the Midjourney account to use, where the useapi.net account has several. */
  channel?: string | undefined;
}

export function createUseapiAdapter(options: UseapiAdapterOptions): UpstreamAdapter {
  const base = options.baseUrl.replace(/\/+$/, '');
  const scrub = secretScrubber(options.secret);
  const reply = () => {
    const url = callbackUrlNow(options.webhookUrl);
    return url && url.length <= REPLY_URL_MAX ? { replyUrl: url } : {};
  };

  async function call(path: string, init: RequestInit): Promise<UpstreamReply> {
    const answer = await options.http.request(`${base}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${options.secret}`,
        accept: 'application/json',
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      maxBytes: MAX_JSON_BYTES,
    });
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw failureFor(answer, scrub);
  }

  async function start(path: string, body: object): Promise<{ id: string; status: UpstreamStatus }> {
    const answer = parseJsonReply(
      await call(path, { method: 'POST', body: JSON.stringify({ ...body, ...reply() }) }),
      acceptedSchema,
      WHO,
    );
    return { id: answer.jobid, status: answer.status ? STATUSES[answer.status] : 'pending' };
  }

  return {
    name: options.name ?? 'useapi',

    imagineOutput: 'grid',

    gridActions: GRID_ACTIONS,

    async submit(input: SubmitInput) {
      // useapi.net fetches every image itself: it takes none as bytes.
      requirePublicLinks(
        input.images,
        (role) => `useapi.net needs a public link to the ${role} image, and this server has none to give`,
      );
      const { prompt } = preparePrompt(input);
      return start('/v2/jobs/imagine', { prompt, ...(options.channel ? { channel: options.channel } : {}) });
    },

    async act(input: ActionInput) {
      if (input.remix) throw new UpstreamError('rejected', 'useapi.net takes no new prompt with a button here');
      const offered = input.customId ? useapiOffer(input.customId) : undefined;
      const button =
        offered && offered.action === input.action && offered.index === input.index
          ? input.customId
          : useapiButton(input.action, input.index);
      if (!button) throw new UpstreamError('rejected', `useapi.net has no button for ${input.action}`);
      return start('/v2/jobs/button', { jobid: input.gridId, button });
    },

    async getJob(id: string): Promise<UpstreamJob> {
      const answer = await call(`/v2/jobs/?jobid=${encodeURIComponent(id)}`, { method: 'GET' });
      return toUpstreamJob(id, parseJsonReply(answer, jobSchema, WHO), scrub);
    },

    parseWebhook: readCallback,
  };
}
