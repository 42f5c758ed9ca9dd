// The simulator's Apiframe v2 face (docs/upstreams.md#paid-hosted-apis), mounted under /apiframe: Midjourney's
// generate and follow-up actions behind X-API-Key, UUID jobs, Idempotency-Key replays, moderation as a FAILED job.
import { randomUUID } from 'node:crypto';
import type { JobAction } from '@shared/schemas/job-values';
import { parsePrompt } from '@shared/schemas/prompt-params';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { type SimJobView, type SimulatorEngine, shapeOf } from './engine';
import { keyAuth } from './key-auth';
import type { SimulatorNotifier } from './notifier';

const STATUS: Record<SimJobView['status'], string> = {
  pending: 'QUEUED',
  processing: 'PROCESSING',
  complete: 'COMPLETED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
};
const MODERATION_ERROR = 'Provider returned an error: content policy violation';
/** Credits per job, as Apiframe prices Midjourney; a failed job is refunded. */
const CREDITS = { grid: 16, upsample: 4 } as const;
/** Moderated jobs and Idempotency-Keys remembered before the oldest are forgotten. */
const REMEMBERED_MAX = 10_000;

const webhookFields = {
  webhookUrl: z.url().optional(),
  webhookEvents: z
    .array(z.enum(['progress', 'completed', 'failed']))
    .min(1)
    .optional(),
};
const promptSchema = z.string().min(1).max(2000);
const generateSchema = z.strictObject({
  model: z.literal('midjourney'),
  prompt: promptSchema,
  midjourneyParams: z.strictObject({ aspect_ratio: z.string().regex(/^\d+:\d+$/) }).optional(),
  ...webhookFields,
});
const parentJobId = z.uuid();
const index = z.number().int().min(1).max(4);
const actionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('upsample'), parentJobId, index, ...webhookFields }),
  z.strictObject({ action: z.literal('variation'), parentJobId, index, ...webhookFields }),
  z.strictObject({
    action: z.literal('inpaint'),
    parentJobId,
    mask: z.string().min(1).max(12_000_000),
    prompt: promptSchema.optional(),
    ...webhookFields,
  }),
  z.strictObject({
    action: z.literal('outpaint'),
    parentJobId,
    zoomRatio: z.union([z.literal(1.5), z.literal(2)]),
    ...webhookFields,
  }),
  z.strictObject({
    action: z.literal('pan'),
    parentJobId,
    direction: z.enum(['up', 'down', 'left', 'right']),
    ...webhookFields,
  }),
]);
type ActionBody = z.infer<typeof actionSchema>;

/** Our action for Apiframe's. */
function oursOf(body: ActionBody): JobAction {
  switch (body.action) {
    case 'upsample':
      return 'upscale';
    case 'variation':
      return 'variation';
    case 'inpaint':
      return 'vary_region';
    case 'outpaint':
      return body.zoomRatio === 2 ? 'zoom_out_2x' : 'zoom_out_1_5x';
    case 'pan':
      return `pan_${body.direction}`;
  }
}

/** Zod's issues in Apiframe's validation envelope: messages keyed by the field's path. */
function invalid(res: Response, issues: readonly { path: readonly PropertyKey[]; message: string }[]): void {
  const details: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = issue.path.map(String).join('.') || 'body';
    details[field] = [...(details[field] ?? []), issue.message];
  }
  res.status(400).json({ error: 'Validation failed', details });
}

/** A Map that forgets its oldest entries past a bound. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.set(key, value);
  while (map.size > REMEMBERED_MAX) map.delete(map.keys().next().value ?? '');
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

// Webhook pushing is not simulated here: `webhookUrl` is accepted and ignored.
export function apiframeRoutes(engine: SimulatorEngine, _notifier?: SimulatorNotifier): express.Router {
  const router = express.Router();
  const authenticate = keyAuth(engine, {
    header: 'x-api-key',
    unauthorized: { error: 'Invalid API key' },
    rateLimited: { error: 'Rate limit exceeded' },
  });
  /** Jobs the provider refused: they exist, and fail at once. */
  const moderated = new Map<string, number>();
  /** Idempotency-Key -> the request it came with and the job it made. */
  const replays = new Map<string, { body: string; jobId: string }>();

  const statusOf = (id: string) => (moderated.has(id) ? 'FAILED' : STATUS[engine.get(id)?.status ?? 'pending']);

  /** Answers a replayed Idempotency-Key (true), or refuses a malformed one; false: go on. */
  const replayed = (req: Request, res: Response): boolean => {
    const key = req.get('idempotency-key');
    if (key === undefined) return false;
    if (key.length < 1 || key.length > 255) {
      res.status(400).json({ error: 'Idempotency-Key must be 1 to 255 characters' });
      return true;
    }
    const seen = replays.get(key);
    if (!seen) return false;
    if (seen.body !== JSON.stringify(req.body)) {
      res.status(409).json({ error: 'Idempotency-Key was already used with a different request body' });
    } else {
      res.status(202).json({ jobId: seen.jobId, status: statusOf(seen.jobId) });
    }
    return true;
  };
  /** A new job: queued, as Apiframe answers every accepted submission (a moderated one too). */
  const accepted = (req: Request, res: Response, jobId: string) => {
    const key = req.get('idempotency-key');
    if (key) remember(replays, key, { body: JSON.stringify(req.body), jobId });
    res.status(202).json({ jobId, status: moderated.has(jobId) ? 'QUEUED' : statusOf(jobId) });
  };
  const moderate = (req: Request, res: Response) => {
    const id = randomUUID();
    remember(moderated, id, Date.now());
    accepted(req, res, id);
  };

  router.post('/v2/images/generate', authenticate, express.json({ limit: '32kb' }), (req, res) => {
    if (replayed(req, res)) return;
    const parsed = generateSchema.safeParse(req.body);
    if (!parsed.success) {
      invalid(res, parsed.error.issues);
      return;
    }
    // Midjourney's parameters travel in the prompt text, read with the table the server writes them with.
    const prompt = parsePrompt(parsed.data.prompt);
    if (prompt.issues.length > 0) {
      invalid(
        res,
        prompt.issues.map((issue) => ({ path: ['prompt'], message: issue.message })),
      );
      return;
    }
    if (engine.blockedWordIn(prompt.text)) {
      moderate(req, res);
      return;
    }
    const ratio = prompt.params.aspect_ratio ?? parsed.data.midjourneyParams?.aspect_ratio ?? '1:1';
    const job = engine.submit(
      prompt.text,
      ratio,
      (prompt.params.quality ?? 1) >= 2 ? 'high' : 'standard',
      { ...shapeOf(prompt.params), grid: true, kind: 'IMAGINE', finalPrompt: parsed.data.prompt },
      randomUUID(),
    );
    accepted(req, res, job.id);
  });

  // A mask travels as base64: allow its size.
  router.post('/v2/images/midjourney/action', authenticate, express.json({ limit: '16mb' }), (req, res) => {
    if (replayed(req, res)) return;
    const parsed = actionSchema.safeParse(req.body);
    if (!parsed.success) {
      invalid(res, parsed.error.issues);
      return;
    }
    const body = parsed.data;
    const parent = engine.get(body.parentJobId);
    if (!parent && !moderated.has(body.parentJobId)) {
      res.status(404).json({ error: 'Parent job not found' });
      return;
    }
    if (parent?.status !== 'complete') {
      res.status(400).json({ error: 'Parent job must have status COMPLETED' });
      return;
    }
    const action = oursOf(body);
    const reason = engine.refusal(parent.id, action, 'index' in body ? body.index : undefined);
    if (reason) {
      res.status(400).json({ error: `${body.action} is not available for this job: ${reason}` });
      return;
    }
    let mask: string | undefined;
    let regionPrompt: string | undefined;
    if (body.action === 'inpaint') {
      mask = body.mask.replace(/^data:image\/[a-z]+;base64,/, '');
      if (Buffer.from(mask, 'base64').subarray(1, 4).toString() !== 'PNG') {
        invalid(res, [{ path: ['mask'], message: 'mask must be a base64 PNG' }]);
        return;
      }
      const reading = body.prompt === undefined ? undefined : parsePrompt(body.prompt);
      if (reading && engine.blockedWordIn(reading.text)) {
        moderate(req, res);
        return;
      }
      regionPrompt = reading?.text || undefined;
    }
    const verdict = engine.act(parent.id, action, {
      index: 'index' in body ? body.index : undefined,
      mask,
      prompt: regionPrompt,
      id: randomUUID(),
    });
    if (!verdict.ok) {
      res.status(400).json({ error: verdict.reason });
      return;
    }
    accepted(req, res, verdict.job.id);
  });

  router.get('/v2/jobs/:id', authenticate, (req, res) => {
    const id = String(req.params.id);
    if (!z.uuid().safeParse(id).success) {
      res.status(400).json({ error: 'id must be a UUID' });
      return;
    }
    const refusedAt = moderated.get(id);
    if (refusedAt !== undefined) {
      res.json({
        id,
        status: 'FAILED',
        model: 'midjourney',
        progress: 0,
        result: null,
        error: MODERATION_ERROR,
        creditCost: 0,
        webhookStatus: null,
        createdAt: iso(refusedAt),
        completedAt: iso(refusedAt),
      });
      return;
    }
    const job = engine.get(id);
    if (!job) {
      res.status(404).json({ error: 'Job not found' });
      return;
    }
    const origin = `${req.protocol}://${req.get('host')}`;
    const image = `${origin}/v1/images/${job.id}.png`;
    const done = job.status === 'complete' || job.status === 'failed' || job.status === 'cancelled';
    res.json({
      id: job.id,
      status: STATUS[job.status],
      model: 'midjourney',
      progress: job.progress,
      // The simulator serves a grid as one picture: its four cells have no links of their own.
      result: job.status !== 'complete' ? null : job.grid ? { images: [], gridUrl: image } : { images: [image] },
      error: job.error ?? null,
      creditCost: job.status === 'failed' ? 0 : job.grid ? CREDITS.grid : CREDITS.upsample,
      webhookStatus: null,
      createdAt: iso(job.startsAt),
      completedAt: done ? iso(engine.endOf(job.id)) : null,
      expired: false,
    });
  });

  return router;
}
