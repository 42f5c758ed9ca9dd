// The simulator's midjourney-proxy face (docs/upstreams.md §2), mounted under /mj: grids of
// four, grid actions, fetch and cancel over the same jobs, every answer HTTP 200 with a `code`.
import { parsePrompt } from '@shared/schemas/prompt-params';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { type SimJobView, type SimulatorEngine, shapeOf } from './engine';
import { averageColor, describeImage, seeImages } from './image-input';
import { keyAuth } from './key-auth';
import type { SimulatorNotifier } from './notifier';
import { parseCustomId, toRelayTask } from './relay-task';

const actionSchema = z.object({ taskId: z.string().max(64), customId: z.string().max(300) });

const changeSchema = z
  .object({
    taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    action: z.enum(['UPSCALE', 'VARIATION', 'REROLL']),
    index: z.number().int().min(1).max(4).optional(),
  })
  .refine((body) => body.action === 'REROLL' || body.index !== undefined);

/** A relay prompt carries Midjourney parameters, read with the same table the server writes them with. */
const imagineSchema = z.object({
  prompt: z.string().trim().min(1).max(8000),
  base64Array: z.array(z.string().max(30_000_000)).max(5).optional(),
});
const describeSchema = z.object({ base64: z.string().min(1).max(30_000_000) });
const blendSchema = z.object({
  base64Array: z.array(z.string().max(30_000_000)).min(2).max(5),
  dimensions: z.enum(['PORTRAIT', 'SQUARE', 'LANDSCAPE']).default('SQUARE'),
});
const BLEND_RATIOS = { PORTRAIT: '2:3', SQUARE: '1:1', LANDSCAPE: '3:2' } as const;

/** A relay posts a task's changes to its notifyHook, when one was given. */
const hookSchema = z.object({ notifyHook: z.url({ protocol: /^https?$/ }) });
const hookOf = (body: unknown): string | undefined => hookSchema.safeParse(body).data?.notifyHook;

const refused = (description: string) => ({ code: 4, description, result: null, properties: {} });

export function relayRoutes(engine: SimulatorEngine, notifier?: SimulatorNotifier): express.Router {
  const router = express.Router();
  const authenticate = keyAuth(engine, {
    header: 'mj-api-secret',
    unauthorized: { code: 401, description: 'Invalid mj-api-secret' },
    rateLimited: { code: 429, description: 'Too many requests' },
  });
  const json = express.json({ limit: '32kb' });

  const accepted = (res: Response, job: SimJobView, hook: string | undefined) => {
    if (hook) notifier?.track(job.id, hook);
    res.json({ code: 1, description: 'Submit success', result: job.id, properties: {} });
  };
  const answerAction = (res: Response, verdict: ReturnType<SimulatorEngine['act']>, hook: string | undefined) => {
    if (verdict.ok) accepted(res, verdict.job, hook);
    else res.json(refused(verdict.reason));
  };
  const toTask = (req: Request, job: SimJobView) => toRelayTask(job, `${req.protocol}://${req.get('host')}`);

  // Images come as base64: allow their size (a real relay allows tens of megabytes).
  const images = express.json({ limit: '64mb' });

  router.post('/submit/imagine', authenticate, images, async (req, res) => {
    const body = imagineSchema.safeParse(req.body);
    if (!body.success) {
      res.json(refused('Validation error: prompt is required'));
      return;
    }
    const parsed = parsePrompt(body.data.prompt);
    if (parsed.issues.length > 0) {
      res.json(refused(`Invalid parameter: ${parsed.issues.map((issue) => issue.message).join('; ')}`));
      return;
    }
    const blocked = engine.blockedWordIn(parsed.text);
    if (blocked) {
      res.json({ code: 24, description: 'Banned prompt', result: null, properties: { bannedWord: blocked } });
      return;
    }
    const seen = body.data.base64Array?.length ? await seeImages(body.data.base64Array) : [];
    if (!seen) {
      res.json(refused('Validation error: base64Array holds an image that cannot be read'));
      return;
    }
    const shape = shapeOf(parsed.params);
    if (seen.length > 0) shape.style = { ...shape.style, tint: averageColor(seen) };
    const hook = hookOf(req.body);
    const job = engine.submit(
      parsed.text,
      parsed.params.aspect_ratio ?? '1:1',
      (parsed.params.quality ?? 1) >= 2 ? 'high' : 'standard',
      { ...shape, grid: true, kind: 'IMAGINE', finalPrompt: body.data.prompt, ...(hook ? { notifyHook: hook } : {}) },
    );
    accepted(res, job, hook);
  });

  router.post('/submit/describe', authenticate, images, async (req, res) => {
    const body = describeSchema.safeParse(req.body);
    const seen = body.success ? await seeImages([body.data.base64]) : undefined;
    const image = seen?.[0];
    if (!image) {
      res.json(refused('Validation error: base64 must be a PNG, JPEG or WebP image'));
      return;
    }
    const hook = hookOf(req.body);
    const descriptions = describeImage(image);
    const job = engine.submit('describe', `${image.width}:${image.height}`, 'standard', {
      kind: 'DESCRIBE',
      grid: false,
      descriptions: [descriptions],
      finalPrompt: descriptions,
      style: { tint: image.color },
      ...(hook ? { notifyHook: hook } : {}),
    });
    accepted(res, job, hook);
  });

  router.post('/submit/blend', authenticate, images, async (req, res) => {
    const body = blendSchema.safeParse(req.body);
    const seen = body.success ? await seeImages(body.data.base64Array) : undefined;
    if (!body.success || !seen) {
      res.json(refused('Validation error: base64Array needs 2 to 5 PNG, JPEG or WebP images'));
      return;
    }
    const hook = hookOf(req.body);
    const job = engine.submit('blend', BLEND_RATIOS[body.data.dimensions], 'standard', {
      kind: 'BLEND',
      grid: true,
      style: { tint: averageColor(seen) },
      ...(hook ? { notifyHook: hook } : {}),
    });
    accepted(res, job, hook);
  });

  router.post('/submit/change', authenticate, json, (req, res, next) => {
    // Newer relays have only /submit/action.
    if (!engine.config.changeRoute) {
      next();
      return;
    }
    const parsed = changeSchema.safeParse(req.body);
    if (!parsed.success) {
      res.json({ code: 4, description: 'Validation error: taskId, action and index are required', result: null });
      return;
    }
    const { taskId, action, index } = parsed.data;
    const hook = hookOf(req.body);
    answerAction(res, engine.act(taskId, action, index, hook), hook);
  });

  router.post('/submit/action', authenticate, json, (req, res) => {
    const parsed = actionSchema.safeParse(req.body);
    const wanted = parsed.success ? parseCustomId(parsed.data.customId) : undefined;
    if (!parsed.success || !wanted || wanted.gridId !== parsed.data.taskId) {
      res.json({ code: 4, description: 'Validation error: taskId and a customId of its buttons', result: null });
      return;
    }
    const hook = hookOf(req.body);
    const index = wanted.kind === 'REROLL' ? undefined : wanted.index;
    answerAction(res, engine.act(wanted.gridId, wanted.kind, index, hook), hook);
  });

  router.get('/task/:taskId/fetch', authenticate, (req, res) => {
    const job = engine.get(String(req.params.taskId));
    // The relay answers an unknown id with an empty body, not a 404.
    if (!job) res.type('json').send('');
    else res.json(toTask(req, job));
  });

  router.post('/task/:taskId/cancel', authenticate, (req, res) => {
    const job = engine.cancel(String(req.params.taskId));
    res.json(job ? { code: 1, description: 'Cancelled', result: job.id } : { code: 4, description: 'No such task' });
  });

  return router;
}
