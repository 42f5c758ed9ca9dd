// POST /api/imagine: validate the submission against the shared schema, record the job,
// and hand it to the scheduler (sent at once when the budget allows, else queued).
import express, { type Router } from 'express';
import { imagineRequestSchema } from '../../../shared/schemas/imagine';
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
  router.post('/imagine', express.json({ limit: jsonLimit }), async (req, res) => {
    if (!req.is('application/json')) {
      throw new AppError(415, 'unsupported_media_type', 'Send the request body as application/json');
    }
    const input = parseOrThrow(imagineRequestSchema, req.body, 'request body');
    const owner = ownerOf(req);
    await limits(owner);
    const job = await scheduler.admit(jobs.record(owner, input));
    res.status(202).location(`/api/jobs/${job.id}`).json(viewFor(job, scheduler));
  });
  return router;
}
