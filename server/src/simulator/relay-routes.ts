// The simulator's midjourney-proxy face (docs/upstreams.md §2), mounted under /mj: grids of
// four, grid actions, fetch and cancel over the same jobs, every answer HTTP 200 with a `code`.
import { ASPECT_RATIOS } from '@shared/schemas/imagine';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { SimJobView, SimulatorEngine } from './engine';
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

/** A relay prompt carries Midjourney parameters: `--ar W:H` and `--q 2`. */
const relayPromptSchema = z.object({ prompt: z.string().trim().min(1).max(4000) }).transform(({ prompt }) => {
  const ratio = /\s--ar\s+(\d+:\d+)/.exec(prompt)?.[1] ?? '1:1';
  const quality = /\s--q\s+2\b/.test(prompt) ? 'high' : 'standard';
  return {
    prompt: prompt.replace(/\s--\w+\s+\S+/g, '').trim(),
    aspectRatio: ASPECT_RATIOS.find((known) => known === ratio),
    quality,
  } as const;
});

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

  router.post('/submit/imagine', authenticate, json, (req, res) => {
    const parsed = relayPromptSchema.safeParse(req.body);
    if (!parsed.success) {
      res.json(refused('Validation error: prompt is required'));
      return;
    }
    const { prompt, aspectRatio, quality } = parsed.data;
    if (!aspectRatio) {
      res.json(refused('Validation error: unsupported --ar'));
      return;
    }
    const blocked = engine.blockedWordIn(prompt);
    if (blocked) {
      res.json({ code: 24, description: 'Banned prompt', result: null, properties: { bannedWord: blocked } });
      return;
    }
    const hook = hookOf(req.body);
    const job = engine.submit(prompt, aspectRatio, quality, {
      grid: true,
      kind: 'IMAGINE',
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
