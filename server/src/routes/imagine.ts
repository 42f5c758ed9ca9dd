// POST /api/imagine and POST /api/jobs/:id/actions: validate against the shared schema, check
// the client's limits, record the job, and hand it to the scheduler (sent at once when the
// budget allows, else queued).
import { imagineRequestSchema } from '@shared/schemas/imagine';
import { jobActionRequestSchema, jobIdSchema, MASK_MAX_BYTES } from '@shared/schemas/job';
import { blendRequestSchema, describeRequestSchema } from '@shared/schemas/upload';
import express, { type Request, type Response, type Router } from 'express';
import { AppError } from '../errors';
import type { JobPresenter } from '../http/job-view';
import { clientAddress, ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { ClientLimits } from '../jobs/client-limits';
import { costOfRequest, type JobService } from '../jobs/job-service';
import type { Scheduling } from '../jobs/scheduling';

export interface ImagineRouteDeps {
  jobs: JobService;
  scheduler: Scheduling;
  limits: ClientLimits;
  present: JobPresenter;
  jsonLimit: string;
}

export function imagineRoutes(router: Router, { jobs, scheduler, limits, present, jsonLimit }: ImagineRouteDeps): void {
  const json = express.json({ limit: jsonLimit });
  const requireJson = (req: Request) => {
    if (!req.is('application/json')) {
      throw new AppError(415, 'unsupported_media_type', 'Send the request body as application/json');
    }
  };

  /**
   * Within the owner's limits (a costlier job counts more): records the job, hands it to the
   * scheduler, answers 202.
   */
  const start = async (
    req: Request,
    res: Response,
    cost: (owner: string) => number,
    record: (owner: string) => ReturnType<JobService['record']> | Promise<ReturnType<JobService['record']>>,
  ) => {
    const owner = ownerOf(req);
    await limits.admit({ owner, address: clientAddress(req) }, cost(owner));
    const job = await scheduler.admit(await record(owner));
    res.status(202).location(`/api/jobs/${job.id}`).json(present(job));
  };
  const standard = () => 1;

  router.post('/imagine', json, async (req, res) => {
    requireJson(req);
    const input = parseOrThrow(imagineRequestSchema, req.body, 'request body');
    await start(
      req,
      res,
      () => costOfRequest(input),
      (owner) => jobs.record(owner, input),
    );
  });

  // A Vary (Region) mask travels in the body: room for it, and no more.
  const actionJson = express.json({ limit: Math.ceil((MASK_MAX_BYTES * 4) / 3) + 16 * 1024 });

  // An action the finished job offers (upscale, vary, zoom, pan, animate ...): a new job
  // linked to it, queued like a prompt. Every 400 first (the schema reads a Remix prompt's
  // parameters), then the 404 or 409, then the limits, which a mask's decoding counts as an upload.
  router.post('/jobs/:jobId/actions', actionJson, async (req, res) => {
    const parentId = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    requireJson(req);
    const input = parseOrThrow(jobActionRequestSchema, req.body, 'request body');
    const plan = jobs.planAction(ownerOf(req), parentId, input);
    let mask: Buffer | undefined;
    if (input.mask !== undefined) {
      await limits.admitUpload({ owner: ownerOf(req), address: clientAddress(req) });
      mask = await jobs.checkMask(input.mask);
    }
    await start(
      req,
      res,
      () => plan.cost,
      (owner) => jobs.recordAction(owner, plan, input, mask),
    );
  });

  // Four candidate prompts for one of the owner's images (an upload or a finished job).
  router.post('/describe', json, async (req, res) => {
    requireJson(req);
    const input = parseOrThrow(describeRequestSchema, req.body, 'request body');
    await start(req, res, standard, (owner) => jobs.recordDescribe(owner, input));
  });

  // A grid that blends 2 to 5 of the owner's images.
  router.post('/blend', json, async (req, res) => {
    requireJson(req);
    const input = parseOrThrow(blendRequestSchema, req.body, 'request body');
    await start(req, res, standard, (owner) => jobs.recordBlend(owner, input));
  });
}
