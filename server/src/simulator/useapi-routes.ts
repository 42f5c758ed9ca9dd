// The simulator's useapi.net face (Midjourney API v2), mounted under /useapi: imagine, job checks and
// button presses over the engine's jobs, with useapi.net's job ids, statuses, refusals and account queue.

import { randomBytes } from 'node:crypto';
import type { JobAction } from '@shared/schemas/job';
import { parsePrompt } from '@shared/schemas/prompt-params';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { offeredActions, type SimJobView, type SimStatus, type SimulatorEngine, shapeOf } from './engine';
import { keyAuth } from './key-auth';
import type { SimulatorNotifier } from './notifier';

/** The simulated Midjourney account: its Discord channel, server and user. */
const SIM_CHANNEL = '1122334455667788990';
const SIM_SERVER = '998877665544332211';
const SIM_USER = '1234567890';
/** How many unfinished jobs the account runs at once where a call names no maxJobs (Midjourney's fast limit). */
const DEFAULT_MAX_JOBS = 3;
/** The longest replyUrl and replyRef the API takes. */
const REPLY_MAX = 1024;
/** Jobs whose useapi.net details (channel, button, children) are remembered. */
const DETAILS_MAX = 10_000;
/** Discord's preview sharpens in steps of this much progress. */
const PREVIEW_STEP = 20;

/** useapi.net's job statuses for the engine's (it also has `created`, and `moderated` for a refused prompt). */
const STATUS: Record<SimStatus, 'started' | 'progress' | 'completed' | 'failed' | 'cancelled'> = {
  pending: 'started',
  processing: 'progress',
  complete: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/**
 * The buttons a finished job shows and the simulated account takes, by the labels useapi.net's v2 docs list (the
 * emoji with their variation selector). The fake's own table, not the adapter's, so the two can disagree and a test
 * then shows it. Vary (Region), Custom Zoom, Make Square and the video buttons are not simulated.
 */
const BUTTONS: Readonly<Record<string, { action: JobAction; index?: number }>> = {
  U1: { action: 'upscale', index: 1 },
  U2: { action: 'upscale', index: 2 },
  U3: { action: 'upscale', index: 3 },
  U4: { action: 'upscale', index: 4 },
  V1: { action: 'variation', index: 1 },
  V2: { action: 'variation', index: 2 },
  V3: { action: 'variation', index: 3 },
  V4: { action: 'variation', index: 4 },
  '\u{1F504}': { action: 'reroll' },
  '\u2B05\uFE0F': { action: 'pan_left' },
  '\u27A1\uFE0F': { action: 'pan_right' },
  '\u2B06\uFE0F': { action: 'pan_up' },
  '\u2B07\uFE0F': { action: 'pan_down' },
  'Vary (Subtle)': { action: 'vary_subtle' },
  'Vary (Strong)': { action: 'vary_strong' },
  'Zoom Out 2x': { action: 'zoom_out_2x' },
  'Zoom Out 1.5x': { action: 'zoom_out_1_5x' },
  'Upscale (Subtle)': { action: 'upscale_subtle' },
  'Upscale (Creative)': { action: 'upscale_creative' },
};
/** A pressed label is taken with or without the emoji's variation selector (U+FE0F). */
const withoutSelector = (label: string) => label.replace(/\uFE0F/g, '').trim();
/** The label of the button that runs an action on a finished job, where the simulator has one. */
const labelFor = (action: JobAction, index?: number) =>
  Object.entries(BUTTONS).find(([, button]) => button.action === action && button.index === index)?.[0];
/** What a pressed button runs, or undefined for a label the simulator does not know. */
const pressed = (label: string) =>
  Object.entries(BUTTONS).find(([known]) => withoutSelector(known) === withoutSelector(label))?.[1];

const replySchema = {
  replyUrl: z.string().optional(),
  replyRef: z.string().optional(),
};
const imagineSchema = z.object({
  prompt: z.string().trim().min(1).max(5000),
  channel: z
    .string()
    .regex(/^\d{1,32}$/)
    .optional(),
  maxJobs: z.number().int().min(1).max(15).optional(),
  ...replySchema,
});
const buttonSchema = z.object({
  jobid: z.string().min(1).max(256),
  button: z.string().min(1).max(64),
  maxJobs: z.number().int().min(1).max(15).optional(),
  ...replySchema,
});

/** What useapi.net keeps of a job besides the engine's view. */
interface Details {
  channel: string;
  maxJobs: number;
  created: string;
  replyUrl?: string | undefined;
  replyRef?: string | undefined;
  button?: string | undefined;
  parentJobId?: string | undefined;
  children: { button: string; jobid: string; messageId: string }[];
}

/** A moderated imagine: useapi.net keeps it as a job that ended before it began. */
interface Moderated {
  prompt: string;
  error: string;
  created: string;
  channel: string;
}

const JOBID = /^job:([A-Za-z0-9_-]{1,128})-channel:(\d{1,32})-bot:midjourney$/;
const jobidOf = (id: string, channel: string) => `job:${id}-channel:${channel}-bot:midjourney`;

export function useapiRoutes(engine: SimulatorEngine, _notifier?: SimulatorNotifier): express.Router {
  const router = express.Router();
  const authenticate = keyAuth(engine, {
    header: 'authorization',
    prefix: 'Bearer ',
    unauthorized: { error: 'Unauthorized', code: 401 },
    rateLimited: { error: `Rate limit of ${engine.config.rateLimit} requests per minute exceeded`, code: 429 },
  });
  const json = express.json({ limit: '32kb' });
  const details = new Map<string, Details>();
  const moderated = new Map<string, Moderated>();
  /** The engine ids of the account's jobs that may still be running. */
  const active = new Set<string>();

  const refuse = (res: Response, status: number, error: string, extra: object = {}) => {
    res.status(status).json({ error, ...extra, code: status });
  };
  const origin = (req: Request) => `${req.protocol}://${req.get('host')}`;
  const remember = <T>(map: Map<string, T>, key: string, value: T) => {
    map.set(key, value);
    if (map.size > DETAILS_MAX) map.delete(map.keys().next().value ?? '');
  };

  /** The jobids of the channel's running jobs (finished ones leave the set as they are seen). */
  const running = (channel: string): string[] => {
    const busy: string[] = [];
    for (const id of active) {
      const job = engine.get(id);
      if (!job || job.status === 'complete' || job.status === 'failed' || job.status === 'cancelled') {
        active.delete(id);
      } else if ((details.get(id)?.channel ?? SIM_CHANNEL) === channel) {
        busy.push(jobidOf(id, channel));
      }
    }
    return busy;
  };
  /** 429 when the account already runs `maxJobs` jobs; true when the call may go on. */
  const queueHasRoom = (res: Response, channel: string, maxJobs: number): boolean => {
    const busy = running(channel);
    if (busy.length < maxJobs) return true;
    refuse(res, 429, `Account ${channel} is busy executing ${busy.length} jobs`, { executingJobs: busy });
    return false;
  };
  const replyTooLong = (res: Response, body: { replyUrl?: string | undefined; replyRef?: string | undefined }) => {
    if ((body.replyUrl?.length ?? 0) <= REPLY_MAX && (body.replyRef?.length ?? 0) <= REPLY_MAX) return false;
    refuse(res, 413, 'replyUrl or replyRef is too long');
    return true;
  };

  /** The buttons Discord shows under a finished job, by the labels useapi.net lists. */
  const buttonsOf = (job: SimJobView): string[] =>
    offeredActions(job).flatMap(({ action, index }) => labelFor(action, index) ?? []);

  /** A job as GET /v2/jobs/ answers it; its images are the simulator's own /v1 links. */
  const view = (req: Request, job: SimJobView, channel: string) => {
    const kept = details.get(job.id);
    // The engine's moderation pass is Midjourney's: useapi.net calls that job moderated.
    const status = job.status === 'failed' && /moderation/i.test(job.error ?? '') ? 'moderated' : STATUS[job.status];
    const step = Math.floor(job.progress / PREVIEW_STEP) * PREVIEW_STEP;
    const file =
      job.status === 'complete'
        ? `${origin(req)}/v1/images/${job.id}.png`
        : job.status === 'processing' && step > 0
          ? `${origin(req)}/v1/previews/${job.id}-${step}.png`
          : undefined;
    const progress =
      job.status === 'pending'
        ? '(Waiting to start)'
        : job.status === 'processing'
          ? `(${job.progress}%) (fast)`
          : '(fast)';
    return {
      jobid: jobidOf(job.id, channel),
      verb: kept?.button ? 'button' : 'imagine',
      status,
      created: kept?.created ?? new Date(job.startsAt).toISOString(),
      updated: new Date().toISOString(),
      prompt: job.prompt,
      ...(kept?.button ? { button: kept.button, parentJobId: kept.parentJobId } : {}),
      channel,
      server: SIM_SERVER,
      maxJobs: kept?.maxJobs ?? DEFAULT_MAX_JOBS,
      ...(kept?.replyUrl ? { replyUrl: kept.replyUrl } : {}),
      ...(kept?.replyRef ? { replyRef: kept.replyRef } : {}),
      messageId: job.id,
      content: `**${job.prompt}** - <@${SIM_USER}> ${progress}`,
      timestamp: new Date(job.startsAt).toISOString(),
      ...(file
        ? {
            attachments: [
              { id: job.id, url: file, proxy_url: file, filename: `${job.id}.png`, content_type: 'image/png' },
            ],
          }
        : {}),
      ...(job.status === 'complete' ? { buttons: buttonsOf(job), children: kept?.children ?? [] } : {}),
      ...(job.status === 'failed' ? { error: job.error ?? 'The render failed' } : {}),
      code: 200,
    };
  };

  router.post('/v2/jobs/imagine', authenticate, json, (req, res) => {
    const body = imagineSchema.safeParse(req.body);
    if (!body.success) {
      refuse(res, 400, 'Required param prompt is missing or invalid');
      return;
    }
    if (replyTooLong(res, body.data)) return;
    const parsed = parsePrompt(body.data.prompt);
    if (parsed.issues.length > 0) {
      refuse(res, 400, `Invalid parameter: ${parsed.issues.map((issue) => issue.message).join('; ')}`);
      return;
    }
    const channel = body.data.channel ?? SIM_CHANNEL;
    const maxJobs = body.data.maxJobs ?? DEFAULT_MAX_JOBS;
    const created = new Date().toISOString();
    const blocked = engine.blockedWordIn(parsed.text);
    if (blocked) {
      const jobid = jobidOf(randomBytes(12).toString('base64url'), channel);
      const error = `Banned prompt detected: "${blocked}"`;
      remember(moderated, jobid, { prompt: body.data.prompt, error, created, channel });
      refuse(res, 422, error, { jobid, status: 'moderated' });
      return;
    }
    if (!queueHasRoom(res, channel, maxJobs)) return;
    const job = engine.submit(
      parsed.text,
      parsed.params.aspect_ratio ?? '1:1',
      (parsed.params.quality ?? 1) >= 2 ? 'high' : 'standard',
      { ...shapeOf(parsed.params), grid: true, kind: 'IMAGINE', finalPrompt: body.data.prompt },
    );
    active.add(job.id);
    remember(details, job.id, {
      channel,
      maxJobs,
      created,
      replyUrl: body.data.replyUrl,
      replyRef: body.data.replyRef,
      children: [],
    });
    res.json(view(req, job, channel));
  });

  router.post('/v2/jobs/button', authenticate, json, (req, res) => {
    const body = buttonSchema.safeParse(req.body);
    if (!body.success) {
      refuse(res, 412, 'jobid or button value is missing');
      return;
    }
    if (replyTooLong(res, body.data)) return;
    const { jobid, button } = body.data;
    const match = JOBID.exec(jobid);
    const parent = match ? engine.get(match[1] ?? '') : undefined;
    if (!match || !parent) {
      refuse(res, 404, `Unable to locate job ${jobid}`);
      return;
    }
    const offer = pressed(button);
    const refusal = offer ? engine.refusal(parent.id, offer.action, offer.index) : 'unknown button';
    if (!offer || refusal) {
      refuse(res, 400, `Button ${button} not supported or not found in jobid buttons array`);
      return;
    }
    const kept = details.get(parent.id);
    const channel = match[2] ?? SIM_CHANNEL;
    const maxJobs = body.data.maxJobs ?? kept?.maxJobs ?? DEFAULT_MAX_JOBS;
    // Midjourney upscales a grid's image once; the API answers with the job that did.
    const earlier = kept?.children.find((child) => child.button === button);
    if (earlier && offer.action === 'upscale') {
      refuse(res, 409, `Button ${button} already executed by job ${earlier.jobid}`, { button, jobid: earlier.jobid });
      return;
    }
    if (!queueHasRoom(res, channel, maxJobs)) return;
    const verdict = engine.act(parent.id, offer.action, { index: offer.index });
    if (!verdict.ok) {
      refuse(res, 400, verdict.reason);
      return;
    }
    const child = verdict.job;
    const childJobid = jobidOf(child.id, channel);
    const created = new Date().toISOString();
    active.add(child.id);
    remember(details, child.id, {
      channel,
      maxJobs,
      created,
      replyUrl: body.data.replyUrl,
      replyRef: body.data.replyRef,
      button,
      parentJobId: jobid,
      children: [],
    });
    const parentDetails = kept ?? { channel, maxJobs, created, children: [] };
    parentDetails.children.push({ button, jobid: childJobid, messageId: child.id });
    remember(details, parent.id, parentDetails);
    res.json({
      jobid: childJobid,
      verb: 'button',
      status: STATUS[child.status],
      created,
      updated: created,
      button,
      parentJobId: jobid,
      channel,
      server: SIM_SERVER,
      maxJobs,
      code: 200,
    });
  });

  router.get('/v2/jobs', authenticate, (req, res) => {
    const jobid = req.query.jobid;
    if (typeof jobid !== 'string' || !jobid) {
      refuse(res, 400, 'Query param jobid not provided');
      return;
    }
    const refused = moderated.get(jobid);
    if (refused) {
      res.json({
        jobid,
        verb: 'imagine',
        status: 'moderated',
        created: refused.created,
        updated: refused.created,
        prompt: refused.prompt,
        channel: refused.channel,
        server: SIM_SERVER,
        error: refused.error,
        code: 200,
      });
      return;
    }
    const match = JOBID.exec(jobid);
    const job = match ? engine.get(match[1] ?? '') : undefined;
    if (!match || !job) {
      refuse(res, 404, `Unable to locate job ${jobid}`);
      return;
    }
    res.json(view(req, job, match[2] ?? SIM_CHANNEL));
  });

  return router;
}
