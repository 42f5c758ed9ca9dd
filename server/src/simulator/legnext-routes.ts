// The simulator's Legnext face (docs/upstreams.md#paid-hosted-apis), mounted under /legnext: diffusion,
// job status and a grid's upscale, variation and reroll behind `x-api-key`, in Legnext's job object.

import { randomUUID } from 'node:crypto';
import type { JobAction } from '@shared/schemas/job-values';
import { parsePrompt } from '@shared/schemas/prompt-params';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { offeredActions, type SimJobView, type SimKind, type SimulatorEngine, shapeOf } from './engine';
import { keyAuth } from './key-auth';
import type { SimulatorNotifier } from './notifier';

const TEXT_MAX = 8_192;
const jobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
/** Callbacks are accepted as Legnext accepts them; the simulator pushes none (it is polled). */
const callbackSchema = z.url({ protocol: /^https?$/ }).optional();

const diffusionSchema = z.object({ text: z.string().trim().min(1).max(TEXT_MAX), callback: callbackSchema });
const upscaleSchema = z.object({
  jobId: jobIdSchema,
  imageNo: z.number().int().min(0).max(3),
  type: z.union([z.literal(0), z.literal(1)]),
  callback: callbackSchema,
});
const variationSchema = upscaleSchema.extend({ remixPrompt: z.string().trim().min(1).max(TEXT_MAX).optional() });
const rerollSchema = z.object({ jobId: jobIdSchema, callback: callbackSchema });

const STATUSES: Record<SimJobView['status'], string> = {
  pending: 'pending',
  processing: 'processing',
  complete: 'completed',
  failed: 'failed',
  // Legnext cannot cancel; a job the engine cancelled shows as failed.
  cancelled: 'failed',
};
const TASK_TYPES: Partial<Record<SimKind, string>> = {
  IMAGINE: 'diffusion',
  UPSCALE: 'upscale',
  VARIATION: 'variation',
  REROLL: 'reroll',
};
const GRID_ACTIONS: ReadonlySet<JobAction> = new Set(['upscale', 'variation', 'reroll']);

/** Legnext's error object; `code` 0 and empty words while nothing went wrong. */
const errorObject = (code: number, message: string) => ({ code, message, raw_message: message, detail: null });
const iso = (ms: number) => new Date(Math.max(0, ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Legnext writes a time not yet reached as the zero time. */
const NOT_YET = '0001-01-01T00:00:00Z';

/** What a finished grid offers, in Legnext's `available_actions` (grid images 0-3). */
function availableActions(job: SimJobView) {
  const offers = offeredActions(job).filter((offer) => GRID_ACTIONS.has(offer.action));
  const numbers = (action: JobAction) =>
    offers.filter((offer) => offer.action === action).map((offer) => (offer.index ?? 1) - 1);
  return {
    upscale: numbers('upscale'),
    variation: numbers('variation'),
    reroll: offers.some((offer) => offer.action === 'reroll'),
  };
}

/** A simulated job as Legnext's job object; `origin` is where the simulator serves images. */
function toTask(job: SimJobView, origin: string) {
  const status = STATUSES[job.status];
  const done = job.status === 'complete';
  const failed = status === 'failed';
  // The grid (or the one image) is served by the image routes; the simulator has no per-image
  // links for a grid's four, so `image_urls` stays null as Legnext's does before a job ends.
  const output = done
    ? {
        image_url: `${origin}/v1/images/${job.id}.png`,
        image_urls: null,
        seed: job.seed,
        ...(job.grid ? { available_actions: availableActions(job) } : {}),
      }
    : failed
      ? null
      : { image_url: '', image_urls: null, seed: '' };
  const started = job.status !== 'pending';
  return {
    job_id: job.id,
    model: 'midjourney',
    task_type: TASK_TYPES[job.kind] ?? 'diffusion',
    status,
    config: { service_mode: 'public', webhook_config: { endpoint: '', secret: '' } },
    input: null,
    output,
    meta: {
      started_at: started ? iso(job.startsAt) : NOT_YET,
      ended_at: done || failed ? iso(job.endsAt) : NOT_YET,
      usage: { type: 'point', frozen: 80, consume: done ? 80 : 0 },
    },
    detail: null,
    logs: [],
    error: failed ? errorObject(500, job.error ?? 'Generation failed') : errorObject(0, ''),
  };
}

export function legnextRoutes(engine: SimulatorEngine, _notifier?: SimulatorNotifier): express.Router {
  const router = express.Router();
  const authenticate = keyAuth(engine, {
    header: 'x-api-key',
    unauthorized: errorObject(401, 'Invalid API key'),
    rateLimited: errorObject(429, `Rate limit of ${engine.config.rateLimit} requests per minute exceeded`),
  });
  const json = express.json({ limit: '64kb' });
  const origin = (req: Request) => `${req.protocol}://${req.get('host')}`;

  const invalid = (res: Response, message: string) => {
    res.status(400).json(errorObject(400, `Invalid request parameters: ${message}`));
  };
  /** Legnext's content refusal: a failed job object with no id, HTTP 403. */
  const sensitive = (res: Response, word: string) => {
    const message = `Sensitive content detected ("${word}"), please modify your prompt`;
    res.status(403).json({
      job_id: '',
      model: '',
      task_type: '',
      status: 'failed',
      config: { service_mode: '', webhook_config: { endpoint: '', secret: '' } },
      input: null,
      output: null,
      meta: null,
      detail: null,
      logs: null,
      error: errorObject(403, message),
    });
  };
  const issuesOf = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);

  /** An action on a finished grid: the engine's verdict as Legnext answers it. */
  const act = (req: Request, res: Response, parentId: string, action: JobAction, index?: number, prompt?: string) => {
    const refusal = engine.refusal(parentId, action, index);
    if (refusal === 'No such task') {
      res.status(404).json(errorObject(404, 'Job not found'));
      return;
    }
    if (refusal) {
      invalid(res, refusal);
      return;
    }
    const verdict = engine.act(parentId, action, { index, prompt, id: randomUUID() });
    if (verdict.ok) res.json(toTask(verdict.job, origin(req)));
    else invalid(res, verdict.reason);
  };

  router.post('/api/v1/diffusion', authenticate, json, (req, res) => {
    const body = diffusionSchema.safeParse(req.body);
    if (!body.success) {
      invalid(res, issuesOf(body.error).join('; '));
      return;
    }
    const parsed = parsePrompt(body.data.text);
    if (parsed.issues.length > 0) {
      invalid(res, parsed.issues.map((issue) => issue.message).join('; '));
      return;
    }
    const blocked = engine.blockedWordIn(parsed.text);
    if (blocked) {
      sensitive(res, blocked);
      return;
    }
    const job = engine.submit(
      parsed.text,
      parsed.params.aspect_ratio ?? '1:1',
      (parsed.params.quality ?? 1) >= 2 ? 'high' : 'standard',
      { ...shapeOf(parsed.params), grid: true, kind: 'IMAGINE', finalPrompt: body.data.text },
      randomUUID(),
    );
    res.json(toTask(job, origin(req)));
  });

  router.post('/api/v1/upscale', authenticate, json, (req, res) => {
    const body = upscaleSchema.safeParse(req.body);
    if (!body.success) {
      invalid(res, issuesOf(body.error).join('; '));
      return;
    }
    // Subtle (0) and Creative (1) draw the same tile here.
    act(req, res, body.data.jobId, 'upscale', body.data.imageNo + 1);
  });

  router.post('/api/v1/variation', authenticate, json, (req, res) => {
    const body = variationSchema.safeParse(req.body);
    if (!body.success) {
      invalid(res, issuesOf(body.error).join('; '));
      return;
    }
    let prompt: string | undefined;
    if (body.data.remixPrompt) {
      const remix = parsePrompt(body.data.remixPrompt);
      if (remix.issues.length > 0) {
        invalid(res, remix.issues.map((issue) => issue.message).join('; '));
        return;
      }
      const blocked = engine.blockedWordIn(remix.text);
      if (blocked) {
        sensitive(res, blocked);
        return;
      }
      prompt = remix.text || undefined;
    }
    act(req, res, body.data.jobId, 'variation', body.data.imageNo + 1, prompt);
  });

  router.post('/api/v1/reroll', authenticate, json, (req, res) => {
    const body = rerollSchema.safeParse(req.body);
    if (!body.success) {
      invalid(res, issuesOf(body.error).join('; '));
      return;
    }
    act(req, res, body.data.jobId, 'reroll');
  });

  router.get('/api/v1/job/:jobId', authenticate, (req, res) => {
    const job = engine.get(String(req.params.jobId));
    if (!job) {
      res.status(404).json(errorObject(404, 'Job not found'));
      return;
    }
    res.json(toTask(job, origin(req)));
  });

  // A body that is not JSON (or too large) gets Legnext's error object, not the app's.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = typeof error === 'object' && error && 'status' in error ? Number(error.status) : 500;
    if (status === 400 || status === 413) res.status(status).json(errorObject(status, 'Invalid request body'));
    else next(error);
  });

  return router;
}
