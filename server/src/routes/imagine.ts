// POST /api/imagine and POST /api/jobs/:id/actions: validate against the shared schema, record
// the job, and hand it to the scheduler (sent at once when the budget allows, else queued).
import express, { type Request, type Router } from 'express';
import { imagineRequestSchema } from '../../../shared/schemas/imagine';
import { gridActionRequestSchema, jobIdSchema } from '../../../shared/schemas/job';
import { AppError } from '../errors';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';
import type { UpstreamScheduler } from '../jobs/upstream-scheduler';
import { viewFor } from './jobs';

export function imagineRoutes(
  jobs: JobService,
  scheduler: UpstreamScheduler,
  limits: (owner: string) => Promise<void>,
  jsonLimit: string,
): Router {
  const router = express.Router();
  const json = express.json({ limit: jsonLimit });
  const requireJson = (req: Request) => {
    if (!req.is('application/json')) {
      throw new AppError(415, 'unsupported_media_type', 'Send the request body as application/json');
    }
  };

  router.post('/imagine', json, async (req, res) => {
    requireJson(req);
    const input = parseOrThrow(imagineRequestSchema, req.body, 'request body');
    const owner = ownerOf(req);
    await limits(owner);
    const job = await scheduler.admit(jobs.record(owner, input));
    res
      .status(202)
      .location(`/api/jobs/${job.id}`)
      .json(viewFor(job, jobs, scheduler));
  });

  // Upscale, vary or reroll a finished grid: a new job linked to it, queued like a prompt.
  router.post('/jobs/:jobId/actions', json, async (req, res) => {
    const gridId = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    requireJson(req);
    const input = parseOrThrow(gridActionRequestSchema, req.body, 'request body');
    const owner = ownerOf(req);
    await limits(owner);
    const job = await scheduler.admit(jobs.recordAction(owner, gridId, input));
    res
      .status(202)
      .location(`/api/jobs/${job.id}`)
      .json(viewFor(job, jobs, scheduler));
  });
  return router;
}
