// The built-in simulator's HTTP face: the v7 REST contract (UPSTREAMS.md §1) under /v1 and the
// midjourney-proxy relay protocol (§2) under /mj (grids of four, grid actions, previews), with
// auth, the per-key rate limit, the content filter and real PNG results.
import { timingSafeEqual } from 'node:crypto';
import { ASPECT_RATIOS, QUALITIES } from '@shared/schemas/imagine';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { SimJobView, SimulatorEngine } from './engine';
import { renderGrid, renderLandscape } from './image';
import type { SimulatorNotifier } from './notifier';
import { parseCustomId, toRelayTask } from './relay-task';

const submitSchema = z.object({
  prompt: z.string().trim().min(1).max(4000),
  aspect_ratio: z.enum(ASPECT_RATIOS).default('1:1'),
  quality: z.enum(QUALITIES).default('standard'),
  model: z.literal('v7').optional(),
});

const IMAGE_CACHE_SIZE = 64;

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

export function createSimulatorApp(engine: SimulatorEngine, notifier?: SimulatorNotifier): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const imageCache = new Map<string, Buffer>();
  const expected = Buffer.from(`Bearer ${engine.config.apiKey}`);

  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.status(401).json({ error: 'Invalid or missing API key' });
      return;
    }
    const verdict = engine.takeRateToken(engine.config.apiKey);
    if (!verdict.ok) {
      res.set('Retry-After', String(verdict.retryAfterS));
      res.status(429).json({ error: `Rate limit of ${engine.config.rateLimit} requests per minute exceeded` });
      return;
    }
    next();
  };

  const describe = (req: Request, job: SimJobView) => ({
    job_id: job.id,
    status: job.status,
    progress: job.progress,
    ...(job.status === 'complete' ? { image_url: `${req.protocol}://${req.get('host')}/v1/images/${job.id}.png` } : {}),
    ...(job.error ? { error: job.error } : {}),
  });

  app.post('/v1/imagine', authenticate, express.json({ limit: '32kb' }), (req, res) => {
    const parsed = submitSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((issue) => issue.message).join('; ') });
      return;
    }
    const blocked = engine.blockedWordIn(parsed.data.prompt);
    if (blocked) {
      res.status(422).json({ error: `Prompt refused by the content filter (banned word "${blocked}")` });
      return;
    }
    const job = engine.submit(parsed.data.prompt, parsed.data.aspect_ratio, parsed.data.quality);
    notifier?.track(job.id);
    res.status(200).json({ job_id: job.id, status: job.status });
  });

  app.get('/v1/jobs/:jobId', authenticate, (req, res) => {
    const job = engine.get(String(req.params.jobId));
    if (!job) {
      res.status(404).json({ error: 'Job not found' });
      return;
    }
    res.json(describe(req, job));
  });

  app.post('/v1/jobs/:jobId/cancel', authenticate, (req, res) => {
    const job = engine.cancel(String(req.params.jobId));
    if (!job) {
      res.status(404).json({ error: 'Job not found' });
      return;
    }
    res.json(describe(req, job));
  });

  // The midjourney-proxy protocol (UPSTREAMS.md §2) over the same jobs: `mj-api-secret`
  // auth, answers in HTTP 200 with a `code`, parameters inside the prompt.
  const expectedSecret = Buffer.from(engine.config.apiKey);
  const relayAuth = (req: Request, res: Response, next: NextFunction) => {
    const given = Buffer.from(req.get('mj-api-secret') ?? '');
    if (given.length !== expectedSecret.length || !timingSafeEqual(given, expectedSecret)) {
      res.status(401).json({ code: 401, description: 'Invalid mj-api-secret' });
      return;
    }
    const verdict = engine.takeRateToken(engine.config.apiKey);
    if (!verdict.ok) {
      res
        .set('Retry-After', String(verdict.retryAfterS))
        .status(429)
        .json({ code: 429, description: 'Too many requests' });
      return;
    }
    next();
  };

  /** A relay posts a task's changes to its notifyHook, when one was given. */
  const hookOf = (body: unknown): string | undefined => {
    const hook = z.url({ protocol: /^https?$/ }).safeParse((body as { notifyHook?: unknown } | undefined)?.notifyHook);
    return hook.success ? hook.data : undefined;
  };
  const accepted = (res: Response, job: SimJobView, hook: string | undefined) => {
    if (hook) notifier?.track(job.id, hook);
    res.json({ code: 1, description: 'Submit success', result: job.id, properties: {} });
  };
  const answerAction = (res: Response, verdict: ReturnType<SimulatorEngine['act']>, hook: string | undefined) => {
    if (verdict.ok) accepted(res, verdict.job, hook);
    else res.json({ code: 4, description: verdict.reason, result: null, properties: {} });
  };
  const toTask = (req: Request, job: SimJobView) => toRelayTask(job, `${req.protocol}://${req.get('host')}`);

  app.post('/mj/submit/imagine', relayAuth, express.json({ limit: '32kb' }), (req, res) => {
    const parsed = relayPromptSchema.safeParse(req.body);
    if (!parsed.success) {
      res.json({ code: 4, description: 'Validation error: prompt is required', result: null, properties: {} });
      return;
    }
    const { prompt, aspectRatio, quality } = parsed.data;
    if (!aspectRatio) {
      res.json({ code: 4, description: 'Validation error: unsupported --ar', result: null, properties: {} });
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

  app.post('/mj/submit/change', relayAuth, express.json({ limit: '32kb' }), (req, res, next) => {
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

  app.post('/mj/submit/action', relayAuth, express.json({ limit: '32kb' }), (req, res) => {
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

  app.get('/mj/task/:taskId/fetch', relayAuth, (req, res) => {
    const job = engine.get(String(req.params.taskId));
    // The relay answers an unknown id with an empty body, not a 404.
    if (!job) res.type('json').send('');
    else res.json(toTask(req, job));
  });

  app.post('/mj/task/:taskId/cancel', relayAuth, (req, res) => {
    const job = engine.cancel(String(req.params.taskId));
    res.json(job ? { code: 1, description: 'Cancelled', result: job.id } : { code: 4, description: 'No such task' });
  });

  const picture = (job: SimJobView, scale: number) => {
    const look = { seed: job.seed, wobble: job.wobble };
    return job.grid
      ? renderGrid(job.prompt, job.aspectRatio, job.quality, scale, look)
      : renderLandscape(job.prompt, job.aspectRatio, job.quality, scale, look);
  };
  const cached = (key: string, render: () => Buffer) => {
    let png = imageCache.get(key);
    if (!png) {
      png = render();
      imageCache.set(key, png);
      if (imageCache.size > IMAGE_CACHE_SIZE) imageCache.delete(imageCache.keys().next().value ?? '');
    }
    return png;
  };

  // Images stand in for a CDN: no key and no rate limit, like the real result links.
  app.get('/v1/images/:name', (req, res) => {
    const id = req.params.name.replace(/\.png$/, '');
    const job = engine.get(id);
    if (job?.status !== 'complete') {
      res.status(404).json({ error: 'Image not found' });
      return;
    }
    const png = cached(id, () => picture(job, engine.config.imageScale));
    res.set('Cache-Control', 'public, max-age=86400').type('png').send(png);
  });

  // A relay's in-progress preview: the picture at a resolution that rises with the progress.
  app.get('/v1/previews/:name', (req, res) => {
    const match = /^([A-Za-z0-9_-]+)-(\d{1,3})\.png$/.exec(req.params.name);
    const job = match ? engine.get(match[1] ?? '') : undefined;
    const step = Number(match?.[2]);
    if (!job || job.status === 'pending' || !(step > 0 && step <= 100)) {
      res.status(404).json({ error: 'Preview not found' });
      return;
    }
    const png = cached(`${job.id}-${step}`, () => picture(job, engine.config.imageScale * (0.04 + step / 400)));
    res.set('Cache-Control', 'public, max-age=3600').type('png').send(png);
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'Not found' });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error === 'object' && error && 'status' in error ? Number(error.status) : 500;
    res.status(status >= 400 && status < 600 ? status : 500).json({ error: 'Bad request' });
  });
  return app;
}
