// The simulator's v7 REST contract (docs/upstreams.md §1), mounted under /v1: submit, status
// and cancel behind a Bearer key, with the content filter answering 422.
import { QUALITIES } from '@shared/schemas/imagine';
import { parsePrompt } from '@shared/schemas/prompt-params';
import express, { type Request } from 'express';
import { z } from 'zod';
import { type SimJobView, type SimulatorEngine, shapeOf } from './engine';
import { keyAuth } from './key-auth';
import type { SimulatorNotifier } from './notifier';

const submitSchema = z.object({
  prompt: z.string().trim().min(1).max(4000),
  aspect_ratio: z
    .string()
    .regex(/^[1-9]\d{0,4}:[1-9]\d{0,4}$/, 'aspect_ratio must be W:H')
    .default('1:1'),
  quality: z.enum(QUALITIES).default('standard'),
  model: z.enum(['v7', 'v6.1', 'v6', 'niji6']).optional(),
});

/** A job as the v7 status call shows it; the image link points at the image routes. */
const describe = (req: Request, job: SimJobView) => ({
  job_id: job.id,
  status: job.status,
  progress: job.progress,
  ...(job.status === 'complete' ? { image_url: `${req.protocol}://${req.get('host')}/v1/images/${job.id}.png` } : {}),
  ...(job.error ? { error: job.error } : {}),
});

export function v7Routes(engine: SimulatorEngine, notifier?: SimulatorNotifier): express.Router {
  const router = express.Router();
  const authenticate = keyAuth(engine, {
    header: 'authorization',
    prefix: 'Bearer ',
    unauthorized: { error: 'Invalid or missing API key' },
    rateLimited: { error: `Rate limit of ${engine.config.rateLimit} requests per minute exceeded` },
  });

  router.post('/imagine', authenticate, express.json({ limit: '32kb' }), (req, res) => {
    const parsed = submitSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((issue) => issue.message).join('; ') });
      return;
    }
    // The rest of Midjourney's parameters travel in the prompt text.
    const prompt = parsePrompt(parsed.data.prompt);
    if (prompt.issues.length > 0) {
      res.status(400).json({ error: prompt.issues.map((issue) => issue.message).join('; ') });
      return;
    }
    const blocked = engine.blockedWordIn(prompt.text);
    if (blocked) {
      res.status(422).json({ error: `Prompt refused by the content filter (banned word "${blocked}")` });
      return;
    }
    const job = engine.submit(prompt.text, parsed.data.aspect_ratio, parsed.data.quality, shapeOf(prompt.params));
    notifier?.track(job.id);
    res.status(200).json({ job_id: job.id, status: job.status });
  });

  router.get('/jobs/:jobId', authenticate, (req, res) => {
    const job = engine.get(String(req.params.jobId));
    if (!job) {
      res.status(404).json({ error: 'Job not found' });
      return;
    }
    res.json(describe(req, job));
  });

  router.post('/jobs/:jobId/cancel', authenticate, (req, res) => {
    const job = engine.cancel(String(req.params.jobId));
    if (!job) {
      res.status(404).json({ error: 'Job not found' });
      return;
    }
    res.json(describe(req, job));
  });

  return router;
}
