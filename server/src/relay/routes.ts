// The midjourney-proxy protocol served from our own jobs (docs/upstreams.md, "Serving the
// relay protocol"), under /mj and the /mj-fast, /mj-relax and /mj-turbo prefixes: submissions
// go through the same limits, scheduler and budget as the studio's, tasks are our jobs under
// relay-style numbers, and every answer is the protocol's own (HTTP 200 with a `code`).
import { imagineRequestSchema } from '@shared/schemas/imagine';
import type { JobAction, JobActionRequest } from '@shared/schemas/job';
import { jobActionRequestSchema } from '@shared/schemas/job';
import type { Speed } from '@shared/schemas/params-values';
import { parsePrompt } from '@shared/schemas/prompt-params';
import { blendRequestSchema, describeRequestSchema } from '@shared/schemas/upload';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { DomainError } from '../errors';
import type { JobPresenter } from '../http/job-view';
import { clientAddress } from '../http/owner';
import type { ClientLimits } from '../jobs/client-limits';
import { costOfRequest, type JobService } from '../jobs/job-service';
import type { Scheduling } from '../jobs/scheduling';
import type { UploadService } from '../jobs/upload-service';
import type { JobRecord } from '../store/job-store';
import { accepted, answerFor, type RelayAnswer, refused } from './answers';
import { MODAL_ACTIONS, readCustomId } from './buttons';
import type { ModalBook } from './modal-book';
import { type RelayTask, toRelayTask } from './task-view';

export interface RelayRouteDeps {
  jobs: JobService;
  scheduler: Scheduling;
  limits: ClientLimits;
  uploads: UploadService;
  present: JobPresenter;
  /** The owner a relay request speaks for; throws the 401 for a wrong secret. */
  authenticate: (req: Request) => Promise<string>;
  /** Where this server is reached, for the absolute links in a task. */
  origin: (req: Request) => string;
  /** Absolute links that open a job's kept image and clip without a cookie. */
  links: (origin: string, job: JobRecord) => { imageUrl?: string | undefined; videoUrl?: string | undefined };
  /** Actions waiting for their modal's input, shared by every prefix's router. */
  modals: ModalBook;
  /** The clients' notifyHooks: what is wrong with one, and following a job for it. */
  hooks?: {
    problem: (url: string) => string | undefined;
    track: (jobId: string, url: string, origin: string) => void;
  };
}

/** A job as a task, with the links and the client's state it has. */
export function relayTaskOf(deps: Pick<RelayRouteDeps, 'jobs' | 'present' | 'links'>) {
  return (origin: string, job: JobRecord): RelayTask => {
    const parent = job.parentId ? deps.jobs.find(job.parentId) : undefined;
    return toRelayTask(deps.present(job), {
      taskNumber: deps.jobs.taskNumberOf(job.id),
      ...deps.links(origin, job),
      state: deps.jobs.relayState(job.id),
      parentTaskNumber: parent ? deps.jobs.taskNumberOf(parent.id) : undefined,
    });
  };
}

/** Task numbers are digits, at most 16 of them (below 2^53: clients parse them as numbers). */
const taskNumberSchema = z
  .union([
    z.string().regex(/^\d{1,16}$/),
    z
      .number()
      .int()
      .positive()
      .max(2 ** 53),
  ])
  .transform(Number);
const STATE_MAX = 4_000;
const IMAGE_MAX = 30_000_000;

const imagineSchema = z.object({
  prompt: z.string({ error: 'prompt is required' }),
  base64Array: z.array(z.string().max(IMAGE_MAX)).max(5).nullish(),
  notifyHook: z.string().max(2_000).nullish(),
  state: z.string().max(STATE_MAX).nullish(),
});
const changeSchema = z.object({
  taskId: taskNumberSchema,
  action: z.enum(['UPSCALE', 'VARIATION', 'REROLL']),
  index: z.union([z.number(), z.string().regex(/^\d$/).transform(Number)]).nullish(),
  notifyHook: z.string().max(2_000).nullish(),
  state: z.string().max(STATE_MAX).nullish(),
});
const simpleChangeSchema = z.object({
  content: z.string().max(100),
  notifyHook: z.string().max(2_000).nullish(),
  state: z.string().max(STATE_MAX).nullish(),
});
const actionSchema = z.object({
  taskId: taskNumberSchema,
  customId: z.string().max(200),
  notifyHook: z.string().max(2_000).nullish(),
  state: z.string().max(STATE_MAX).nullish(),
});
const modalSchema = z.object({
  taskId: taskNumberSchema,
  notifyHook: z.string().max(2_000).nullish(),
  prompt: z.string().max(8_000).nullish(),
  maskBase64: z.string().max(IMAGE_MAX).nullish(),
});
const describeSchema = z.object({
  base64: z.string().max(IMAGE_MAX),
  state: z.string().max(STATE_MAX).nullish(),
  notifyHook: z.string().max(2_000).nullish(),
});
const blendSchema = z.object({
  base64Array: z.array(z.string().max(IMAGE_MAX)).min(2).max(5),
  dimensions: z
    .string()
    .transform((text) => text.trim().toUpperCase())
    .pipe(z.enum(['PORTRAIT', 'SQUARE', 'LANDSCAPE']))
    .nullish(),
  state: z.string().max(STATE_MAX).nullish(),
  notifyHook: z.string().max(2_000).nullish(),
});
/** A gateway asks for every unfinished task of a channel at once: ids read one by one, bad ones skipped. */
const idsSchema = z.object({ ids: z.array(z.unknown()).max(1_000) });
const taskNumberIn = (value: unknown): number | undefined => {
  const parsed = taskNumberSchema.safeParse(typeof value === 'string' ? value.trim() : value);
  return parsed.success ? parsed.data : undefined;
};

const CHANGE_ACTIONS: Record<'UPSCALE' | 'VARIATION' | 'REROLL', JobAction> = {
  UPSCALE: 'upscale',
  VARIATION: 'variation',
  REROLL: 'reroll',
};

/** An action waiting for its modal's input, by the number the client was given (in memory). */
export interface PendingModal {
  owner: string;
  parentId: string;
  action: JobAction;
  state?: string | undefined;
  hook?: string | undefined;
  /** When the window opened (a task's submitTime). */
  openedAt: number;
  /** The prompt the window starts from (a client shows it for editing). */
  prompt: string;
}

/** The prompt with the prefix's speed, unless it names one itself (read with the shared table). */
function withSpeed(prompt: string, speed: Speed | undefined): string {
  if (!speed || parsePrompt(prompt).params.speed !== undefined) return prompt;
  return `${prompt} --${speed}`;
}

/** A base64 image as relays take it: a data URL or the bare base64. */
const bytesOf = (base64: string): Buffer => Buffer.from(base64.replace(/^data:[^;,]*;base64,/, ''), 'base64');

export function relayRoutes(deps: RelayRouteDeps, speed?: Speed): Router {
  const { jobs, scheduler, limits, uploads, authenticate } = deps;
  const router = express.Router();
  const json = express.json({ limit: '64kb' });
  // Images come as base64 (a third larger): one for describe and a modal's mask, five at most.
  const image = express.json({ limit: '16mb' });
  const images = express.json({ limit: '64mb' });
  const { modals } = deps;
  // Who is asking is settled before any body is read: nobody unknown makes us parse megabytes.
  const owners = new WeakMap<Request, string>();
  router.use(async (req, _res, next) => {
    owners.set(req, await authenticate(req));
    next();
  });
  const ownerOf = (req: Request): string => {
    const owner = owners.get(req);
    if (owner === undefined) throw new Error('the relay router authenticates every request first');
    return owner;
  };

  const task = relayTaskOf(deps);
  const taskOf = (req: Request, job: JobRecord): RelayTask => task(deps.origin(req), job);

  /** A client's notifyHook, checked before anything is recorded ("" is none, as clients send it). */
  const hookOf = (value: string | null | undefined): string | undefined => {
    if (!value) return undefined;
    const problem = deps.hooks?.problem(value);
    if (problem) throw new DomainError('invalid', `Validation error: notifyHook ${problem}`);
    return value;
  };

  /** Runs a submission: any refusal becomes the protocol's code; a bug stays a 500. */
  const submit =
    (handler: (req: Request, owner: string) => Promise<RelayAnswer>) => async (req: Request, res: Response) => {
      const owner = ownerOf(req);
      try {
        res.json(await handler(req, owner));
      } catch (error) {
        const answer = answerFor(error);
        if (!answer) throw error;
        res.json(answer);
      }
    };

  /** Admits a recorded job: its number, and how many wait before it for budget. */
  const started = async (
    req: Request,
    job: JobRecord,
    state: string | null | undefined,
    hook?: string | undefined,
    onAdmitted?: () => void,
  ): Promise<RelayAnswer> => {
    const admitted = await scheduler.admit(job);
    onAdmitted?.();
    if (state !== null && state !== undefined) jobs.setRelayState(admitted.id, state);
    if (hook) deps.hooks?.track(admitted.id, hook, deps.origin(req));
    const position = admitted.status === 'queued' ? scheduler.queuePosition(admitted.id) : undefined;
    return accepted(jobs.taskNumberOf(admitted.id), position);
  };

  /**
   * Keeps the images as uploads for `use`, which records the job; if anything refuses it
   * (an unreadable image among them, a limit), the images kept so far go too.
   */
  const withImages = async <T>(
    req: Request,
    owner: string,
    list: readonly string[],
    use: (refs: { upload_id: string }[]) => Promise<T>,
  ): Promise<T> => {
    const saved: string[] = [];
    try {
      for (const base64 of list) {
        await limits.admitUpload({ owner, address: clientAddress(req) });
        saved.push((await uploads.save(owner, bytesOf(base64))).id);
      }
      return await use(saved.map((id) => ({ upload_id: id })));
    } catch (error) {
      for (const id of saved) await uploads.remove(owner, id).catch(() => undefined);
      throw error;
    }
  };

  const ownJob = (owner: string, taskNumber: number): JobRecord => {
    const id = jobs.jobIdOfTaskNumber(taskNumber);
    const job = id ? jobs.find(id) : undefined;
    // Unknown and another owner's read alike.
    if (!job || job.ownerId !== owner) throw new DomainError('not_found', 'No such task');
    return job;
  };

  const act = async (
    req: Request,
    owner: string,
    parent: JobRecord,
    request: JobActionRequest,
    state?: string | null,
    hook?: string | undefined,
    onAdmitted?: () => void,
  ) => {
    const plan = jobs.planAction(owner, parent.id, request);
    let mask: Buffer | undefined;
    if (request.mask !== undefined) {
      await limits.admitUpload({ owner, address: clientAddress(req) });
      mask = await jobs.checkMask(request.mask);
    }
    await limits.admit({ owner, address: clientAddress(req) }, plan.cost);
    return started(req, await jobs.recordAction(owner, plan, request, mask), state, hook, onAdmitted);
  };

  const actionRequest = (input: Record<string, unknown>): JobActionRequest => {
    const parsed = jobActionRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new DomainError('invalid', `Validation error: ${parsed.error.issues[0]?.message ?? 'bad action'}`);
    return parsed.data;
  };

  router.post(
    '/submit/imagine',
    images,
    submit(async (req, owner) => {
      const body = imagineSchema.safeParse(req.body);
      if (!body.success) return refused('Validation error: prompt is required');
      const hook = hookOf(body.data.notifyHook);
      const prompt = withSpeed(body.data.prompt, speed);
      // The prompt is judged before any image is kept.
      const bare = imagineRequestSchema.safeParse({ prompt });
      if (!bare.success) return refused(`Validation error: ${bare.error.issues.map((i) => i.message).join('; ')}`);
      await limits.admit({ owner, address: clientAddress(req) }, costOfRequest(bare.data));
      return withImages(req, owner, body.data.base64Array ?? [], async (image_prompts) => {
        const request = imagineRequestSchema.safeParse({ prompt, image_prompts });
        if (!request.success)
          return refused(`Validation error: ${request.error.issues.map((i) => i.message).join('; ')}`);
        return started(req, jobs.record(owner, request.data), body.data.state, hook);
      });
    }),
  );

  router.post(
    '/submit/change',
    json,
    submit(async (req, owner) => {
      const body = changeSchema.safeParse(req.body);
      if (!body.success) return refused('Validation error: taskId, action and index are required');
      const action = CHANGE_ACTIONS[body.data.action];
      const index = action === 'reroll' ? {} : { index: body.data.index ?? undefined };
      const hook = hookOf(body.data.notifyHook);
      return act(
        req,
        owner,
        ownJob(owner, body.data.taskId),
        actionRequest({ action, ...index }),
        body.data.state,
        hook,
      );
    }),
  );

  router.post(
    '/submit/simple-change',
    json,
    submit(async (req, owner) => {
      const body = simpleChangeSchema.safeParse(req.body);
      const match = body.success ? /^\s*(\d{1,16})\s+(?:([UV])([1-4])|R)\s*$/i.exec(body.data.content) : null;
      if (!body.success || !match) return refused('Validation error: content is "<taskId> U1..U4", "V1..V4" or "R"');
      const letter = match[2]?.toUpperCase();
      const request = letter
        ? actionRequest({ action: letter === 'U' ? 'upscale' : 'variation', index: Number(match[3]) })
        : actionRequest({ action: 'reroll' });
      return act(req, owner, ownJob(owner, Number(match[1])), request, body.data.state, hookOf(body.data.notifyHook));
    }),
  );

  router.post(
    '/submit/action',
    json,
    submit(async (req, owner) => {
      const body = actionSchema.safeParse(req.body);
      const wanted = body.success ? readCustomId(body.data.customId) : undefined;
      if (!body.success || !wanted || wanted.taskId !== String(body.data.taskId)) {
        return refused('Validation error: taskId and a customId of its buttons');
      }
      const parent = ownJob(owner, body.data.taskId);
      if (MODAL_ACTIONS.has(wanted.offer.action)) {
        // Midjourney opens a window for these: answer 21 and wait for /submit/modal.
        jobs.checkAction(owner, parent.id, wanted.offer.action);
        const number = await modals.open({
          owner,
          parentId: parent.id,
          action: wanted.offer.action,
          state: body.data.state ?? undefined,
          hook: hookOf(body.data.notifyHook),
          openedAt: Date.now(),
          prompt: parent.prompt,
        });
        return {
          code: 21,
          description: 'Waiting for window confirm',
          result: String(number),
          properties: { finalPrompt: parent.prompt },
        };
      }
      return act(req, owner, parent, actionRequest({ ...wanted.offer }), body.data.state, hookOf(body.data.notifyHook));
    }),
  );

  router.post(
    '/submit/modal',
    image,
    submit(async (req, owner) => {
      const body = modalSchema.safeParse(req.body);
      // Taken at once, and only by its owner: a retry reaching another instance meanwhile
      // finds no window.
      const pending = body.success ? await modals.take(body.data.taskId, owner) : undefined;
      if (!body.success || !pending) {
        return refused('Validation error: taskId of a task waiting for its window');
      }
      const taskId = body.data.taskId;
      const text = body.data.prompt ?? '';
      const zoom = /--zoom\s+(\d+(?:\.\d+)?)/.exec(text)?.[1];
      const prompt = text.replace(/--zoom\s+\S+/g, ' ').trim();
      const mask = body.data.maskBase64
        ? `data:image/png;base64,${body.data.maskBase64.replace(/^data:[^;,]*;base64,/, '')}`
        : undefined;
      const request = actionRequest({
        action: pending.action,
        ...(prompt ? { prompt } : {}),
        ...(pending.action === 'vary_region' && mask ? { mask } : {}),
        ...(pending.action === 'zoom_custom' && zoom ? { zoom: Number(zoom) } : {}),
      });
      let admitted = false;
      try {
        return await act(req, owner, jobs.get(owner, pending.parentId), request, pending.state, pending.hook, () => {
          admitted = true;
        });
      } catch (error) {
        // Refused before anything was sent (a limit, an invalid mask, a full queue): the window
        // stays open for a retry. Once admitted, never: a retry would act twice.
        if (!admitted) {
          // Should that fail too (Redis away), the client's answer is still the first error.
          await modals.restore(taskId, pending).catch(() => undefined);
        }
        throw error;
      }
    }),
  );

  router.post(
    '/submit/describe',
    image,
    submit(async (req, owner) => {
      const body = describeSchema.safeParse(req.body);
      if (!body.success) return refused('Validation error: base64 is required');
      const hook = hookOf(body.data.notifyHook);
      await limits.admit({ owner, address: clientAddress(req) }, 1);
      return withImages(req, owner, [body.data.base64], async ([image]) =>
        started(req, jobs.recordDescribe(owner, describeRequestSchema.parse({ image })), body.data.state, hook),
      );
    }),
  );

  router.post(
    '/submit/blend',
    images,
    submit(async (req, owner) => {
      const body = blendSchema.safeParse(req.body);
      if (!body.success)
        return refused('Validation error: base64Array needs 2 to 5 images, dimensions PORTRAIT, SQUARE or LANDSCAPE');
      const hook = hookOf(body.data.notifyHook);
      const shape = (body.data.dimensions ?? 'SQUARE').toLowerCase();
      await limits.admit({ owner, address: clientAddress(req) }, 1);
      return withImages(req, owner, body.data.base64Array, async (refs) =>
        started(req, jobs.recordBlend(owner, blendRequestSchema.parse({ images: refs, shape })), body.data.state, hook),
      );
    }),
  );

  router.post(
    '/submit/shorten',
    json,
    submit(async () => refused('Shorten is not supported by this server')),
  );

  router.get('/task/:taskId/fetch', async (req, res) => {
    const owner = ownerOf(req);
    const number = taskNumberSchema.safeParse(req.params.taskId);
    const id = number.success ? jobs.jobIdOfTaskNumber(number.data) : undefined;
    const job = id ? jobs.find(id) : undefined;
    const pending = number.success ? await modals.get(number.data) : undefined;
    // A relay answers an unknown id with an empty body, not a 404.
    if (job && job.ownerId === owner) res.json(taskOf(req, job));
    else if (pending && pending.owner === owner) res.json(modalTask(number.data as number, pending));
    else res.type('json').send('');
  });

  router.post('/task/list-by-condition', json, async (req, res) => {
    const owner = ownerOf(req);
    const body = idsSchema.safeParse(req.body);
    const tasks = (body.success ? body.data.ids : []).flatMap((value) => {
      const number = taskNumberIn(value);
      const id = number === undefined ? undefined : jobs.jobIdOfTaskNumber(number);
      const job = id ? jobs.find(id) : undefined;
      return job && job.ownerId === owner ? [taskOf(req, job)] : [];
    });
    res.json(tasks);
  });

  router.get('/task/list', async (req, res) => {
    const owner = ownerOf(req);
    res.json(jobs.list(owner, { limit: 100 }).jobs.map((job) => taskOf(req, job)));
  });

  router.get('/task/queue', async (req, res) => {
    const owner = ownerOf(req);
    const running = jobs.list(owner, { limit: 100, status: ['queued', 'pending', 'processing'] }).jobs;
    res.json(running.map((job) => taskOf(req, job)));
  });

  router.get('/task/:taskId/image-seed', async (req, res) => {
    const owner = ownerOf(req);
    const number = taskNumberSchema.safeParse(req.params.taskId);
    const id = number.success ? jobs.jobIdOfTaskNumber(number.data) : undefined;
    const job = id ? jobs.find(id) : undefined;
    if (!job || job.ownerId !== owner) {
      res.json(refused('No such task'));
      return;
    }
    const seed = job.params.seed;
    res.json(
      seed === undefined
        ? refused('The seed of this task is not known')
        : { code: 1, description: 'Success', result: String(seed), properties: {} },
    );
  });

  // A body that is not JSON, or too large, is answered in the protocol's terms too.
  router.use((error: unknown, req: Request, res: Response, next: (error?: unknown) => void) => {
    const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : undefined;
    if (type !== 'entity.parse.failed' && type !== 'entity.too.large') return next(error);
    if (req.path === '/task/list-by-condition') res.json([]);
    else
      res.json(
        refused(
          type === 'entity.too.large'
            ? 'Validation error: the body is too large'
            : 'Validation error: the body is not JSON',
        ),
      );
  });

  return router;
}

/** A task waiting for its modal, as fetch shows it. */
function modalTask(number: number, pending: PendingModal): RelayTask {
  return {
    id: String(number),
    action: pending.action === 'vary_region' ? 'INPAINT' : 'ZOOM',
    status: 'MODAL',
    prompt: pending.prompt,
    promptEn: pending.prompt,
    description: 'Waiting for window confirm',
    state: pending.state ?? null,
    submitTime: pending.openedAt,
    startTime: null,
    finishTime: null,
    progress: '0%',
    imageUrl: '',
    videoUrl: null,
    failReason: null,
    properties: {},
    buttons: [],
  };
}
