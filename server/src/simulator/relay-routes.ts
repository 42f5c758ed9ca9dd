// The simulator's midjourney-proxy face (docs/upstreams.md §2), mounted under /mj: grids of
// four, every V7 action by its button (with the modal step where Midjourney asks for more),
// videos, fetch and cancel over the same jobs, every answer HTTP 200 with a `code`.

import { randomBytes } from 'node:crypto';
import type { JobAction } from '@shared/schemas/job-values';
import { parsePrompt } from '@shared/schemas/prompt-params';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { type SimJobView, type SimulatorEngine, shapeOf } from './engine';
import { averageColor, describeImage, seeImages } from './image-input';
import { keyAuth } from './key-auth';
import type { SimulatorNotifier } from './notifier';
import { parseCustomId, toModalTask, toRelayTask } from './relay-task';

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

const modalSchema = z.object({
  taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  prompt: z.string().max(8000).optional(),
  maskBase64: z.string().max(4_000_000).optional(),
});

/** An action waiting for the modal's input: which task, which action, where to post changes. */
interface PendingModal {
  parentId: string;
  action: JobAction;
  index?: number | undefined;
  kind: string;
  prompt: string;
  notifyHook?: string | undefined;
}
/** Modals nobody confirms are forgotten after this many. */
const MODALS_MAX = 1_000;
/** The actions that always ask for more input; with Remix mode on, the variations and rerolls too. */
const MODAL_ACTIONS: ReadonlySet<JobAction> = new Set(['vary_region', 'zoom_custom']);
const REMIX_ACTIONS: ReadonlySet<JobAction> = new Set(['variation', 'reroll', 'vary_subtle', 'vary_strong']);

/** Custom Zoom's factor, written as --zoom in the modal's prompt. */
function readZoom(prompt: string): number | undefined {
  const match = /--zoom\s+(\d+(?:\.\d+)?)/.exec(prompt);
  return match ? Number(match[1]) : undefined;
}

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
  const modals = new Map<string, PendingModal>();
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
    const ours = action === 'UPSCALE' ? 'upscale' : action === 'VARIATION' ? 'variation' : 'reroll';
    answerAction(res, engine.act(taskId, ours, { index, notifyHook: hook }), hook);
  });

  router.post('/submit/action', authenticate, json, (req, res) => {
    const parsed = actionSchema.safeParse(req.body);
    const wanted = parsed.success ? parseCustomId(parsed.data.customId) : undefined;
    if (!parsed.success || !wanted || wanted.gridId !== parsed.data.taskId) {
      res.json({ code: 4, description: 'Validation error: taskId and a customId of its buttons', result: null });
      return;
    }
    const hook = hookOf(req.body);
    const parent = engine.get(wanted.gridId);
    // Midjourney opens a window for these: the relay answers 21 and waits for /submit/modal.
    if (parent && (MODAL_ACTIONS.has(wanted.action) || (engine.config.remixMode && REMIX_ACTIONS.has(wanted.action)))) {
      const refusal = engine.refusal(wanted.gridId, wanted.action, wanted.index);
      if (refusal) {
        res.json(refused(refusal));
        return;
      }
      const id = randomBytes(12).toString('base64url');
      const kind = wanted.action === 'vary_region' ? 'INPAINT' : wanted.action === 'zoom_custom' ? 'ZOOM' : 'VARIATION';
      modals.set(id, {
        parentId: parent.id,
        action: wanted.action,
        index: wanted.index,
        kind,
        prompt: parent.prompt,
        notifyHook: hook,
      });
      if (modals.size > MODALS_MAX) modals.delete(modals.keys().next().value ?? '');
      res.json({ code: 21, description: 'Waiting for window confirm', result: id, properties: { remix: true } });
      return;
    }
    answerAction(res, engine.act(wanted.gridId, wanted.action, { index: wanted.index, notifyHook: hook }), hook);
  });

  // The modal's input: a new prompt (Remix, a region's; a Custom Zoom's carries --zoom) and a mask.
  router.post('/submit/modal', authenticate, images, (req, res) => {
    const parsed = modalSchema.safeParse(req.body);
    const pending = parsed.success ? modals.get(parsed.data.taskId) : undefined;
    if (!parsed.success || !pending) {
      res.json(refused('Validation error: taskId of a task waiting for its window'));
      return;
    }
    const { taskId, prompt = '', maskBase64 } = parsed.data;
    // --zoom belongs to the modal, not to the prompt's parameters.
    const reading = parsePrompt(prompt.replace(/--zoom\s+\S+/g, ' '));
    if (reading.issues.length > 0) {
      res.json(refused(`Invalid parameter: ${reading.issues.map((issue) => issue.message).join('; ')}`));
      return;
    }
    const blocked = engine.blockedWordIn(reading.text);
    if (blocked) {
      res.json({ code: 24, description: 'Banned prompt', result: null, properties: { bannedWord: blocked } });
      return;
    }
    const mask = maskBase64?.replace(/^data:image\/png;base64,/, '');
    if (
      pending.action === 'vary_region' &&
      !(mask && Buffer.from(mask, 'base64').subarray(1, 4).toString() === 'PNG')
    ) {
      res.json(refused('Validation error: maskBase64 must be a PNG'));
      return;
    }
    const zoom = pending.action === 'zoom_custom' ? readZoom(prompt) : undefined;
    const verdict = engine.act(pending.parentId, pending.action, {
      id: taskId,
      index: pending.index,
      prompt: reading.text || undefined,
      mask,
      zoom,
      notifyHook: pending.notifyHook,
    });
    if (verdict.ok) modals.delete(taskId);
    if (verdict.ok && pending.notifyHook) notifier?.track(verdict.job.id, pending.notifyHook);
    if (verdict.ok) res.json({ code: 1, description: 'Submit success', result: verdict.job.id, properties: {} });
    else res.json(refused(verdict.reason));
  });

  router.get('/task/:taskId/fetch', authenticate, (req, res) => {
    const id = String(req.params.taskId);
    const job = engine.get(id);
    const modal = modals.get(id);
    // The relay answers an unknown id with an empty body, not a 404.
    if (job) res.json(toTask(req, job));
    else if (modal) res.json(toModalTask(id, modal.kind, modal.prompt));
    else res.type('json').send('');
  });

  router.post('/task/:taskId/cancel', authenticate, (req, res) => {
    const job = engine.cancel(String(req.params.taskId));
    res.json(job ? { code: 1, description: 'Cancelled', result: job.id } : { code: 4, description: 'No such task' });
  });

  return router;
}
