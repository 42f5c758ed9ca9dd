// Adapter for the midjourney-proxy relay protocol (UPSTREAMS.md §2): `mj-api-secret` auth,
// POST /submit/imagine answering `code`s in HTTP 200, GET /task/:id/fetch answering the task
// (an empty body for an unknown id), POST /submit/change for grid actions (or, on newer relays
// without it, /submit/action with the button's customId). Aspect ratio and quality travel as
// prompt parameters.

import type { AspectRatio, Quality } from '@shared/schemas/imagine';
import { JOB_ID_PATTERN } from '@shared/schemas/job';
import { z } from 'zod';
import { UpstreamError } from '../errors';
import type { ActionInput, SubmitInput, UpstreamAdapter, UpstreamJob, UpstreamStatus } from './adapter';
import {
  MAX_JSON_BYTES,
  parseJsonReply,
  parseRetryAfter,
  type UpstreamHttpClient,
  type UpstreamReply,
} from './http-client';

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
export const relayStatus = (status: string): UpstreamStatus | undefined =>
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
  status: z.string().refine((value) => value in STATUSES, 'unknown task status'),
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
});

const buttonsSchema = z.object({
  buttons: z
    .array(z.object({ customId: z.string().min(1).max(300), label: z.string().nullish(), emoji: z.string().nullish() }))
    .nullish()
    .transform((buttons) => buttons ?? []),
});

/** U2 / V2 by label (as Discord shows them), reroll by its customId or 🔄 emoji. */
function buttonMatches(button: z.infer<typeof buttonsSchema>['buttons'][number], input: ActionInput): boolean {
  if (input.action === 'reroll') return /::reroll::/i.test(button.customId) || button.emoji === '🔄';
  const letter = input.action === 'upscale' ? 'U' : 'V';
  return button.label?.trim().toUpperCase() === `${letter}${input.index}`;
}

/** Midjourney's own prompt parameters carry what the v7 contract sends as fields. */
export function promptWithParameters(prompt: string, aspectRatio: AspectRatio, quality: Quality): string {
  const parameters = [aspectRatio === '1:1' ? '' : `--ar ${aspectRatio}`, quality === 'high' ? '--q 2' : '']
    .filter(Boolean)
    .join(' ');
  return parameters ? `${prompt} ${parameters}` : prompt;
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
    if (reply.status === 401 || reply.status === 403) {
      throw new UpstreamError(
        'auth',
        "The relay rejected this server's mj-api-secret; the operator should check MJ_PROXY_SECRET",
      );
    }
    if (reply.status === 429) {
      const retryAfterS = parseRetryAfter(reply.headers.get('retry-after')) ?? QUEUE_FULL_RETRY_S;
      throw new UpstreamError('rate_limited', `The relay is rate limiting; try again in ${retryAfterS} s`, {
        retryAfterS,
      });
    }
    if (reply.status >= 500) throw new UpstreamError('unavailable', `The relay failed with HTTP ${reply.status}`);
    if (reply.status === 404 && accept404) return reply;
    if (reply.status < 200 || reply.status >= 300) {
      throw new UpstreamError('bad_response', `The relay answered with unexpected HTTP ${reply.status}`);
    }
    return reply;
  }

  /** The task id of an accepted submission; every refusal `code` becomes our error. */
  function acceptedTaskId(reply: UpstreamReply): string {
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

  return {
    name: options.name ?? 'mj-proxy',

    async submit(input: SubmitInput) {
      const reply = await call('/submit/imagine', {
        method: 'POST',
        body: JSON.stringify({
          prompt: promptWithParameters(input.prompt, input.aspectRatio, input.quality),
          ...hook(),
        }),
      });
      return { id: acceptedTaskId(reply), status: 'pending' };
    },

    actions: ['upscale', 'variation', 'reroll'],

    async act(input: ActionInput) {
      if (!changeMissing) {
        const reply = await call(
          '/submit/change',
          {
            method: 'POST',
            body: JSON.stringify({
              taskId: input.gridId,
              action: RELAY_ACTIONS[input.action],
              ...(input.action === 'reroll' ? {} : { index: input.index }),
              ...hook(),
            }),
          },
          true,
        );
        if (reply.status !== 404) return { id: acceptedTaskId(reply), status: 'pending' };
        // Newer relays dropped /submit/change for /submit/action with a button's customId.
        changeMissing = true;
      }
      // The grid's buttons name the customId (one more call; the budget counted the action).
      const grid = parseJsonReply(
        await call(`/task/${encodeURIComponent(input.gridId)}/fetch`, { method: 'GET' }),
        buttonsSchema,
        'The relay',
      );
      const customId = grid.buttons.find((button) => buttonMatches(button, input))?.customId;
      if (!customId) throw new UpstreamError('rejected', `The relay offers no ${input.action} button on this grid`);
      const reply = await call('/submit/action', {
        method: 'POST',
        body: JSON.stringify({ taskId: input.gridId, customId, ...hook() }),
      });
      return { id: acceptedTaskId(reply), status: 'pending' };
    },

    async getJob(id: string): Promise<UpstreamJob> {
      const reply = await call(`/task/${encodeURIComponent(id)}/fetch`, { method: 'GET' });
      if (Buffer.from(reply.body).toString('utf8').trim() === '') throw new UpstreamError('not_found', 'No such task');
      const task = parseJsonReply(reply, taskSchema, 'The relay');
      const status = STATUSES[task.status] ?? 'pending';
      const job: UpstreamJob = { id, status };
      if (task.progress !== undefined) job.progress = task.progress;
      if (status === 'complete') {
        if (!task.imageUrl)
          throw new UpstreamError('bad_response', 'The relay reported a finished task without an image');
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
      return job;
    },

    async cancel(id: string) {
      await call(`/task/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    },
  };
}
