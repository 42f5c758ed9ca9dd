// POST /api/imagine: validate the submission against the shared schema and start a job.
import express, { type Router } from 'express';
import { imagineRequestSchema } from '../../../shared/schemas/imagine';
import { AppError } from '../errors';
import { toJobView } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';

export function imagineRoutes(jobs: JobService, jsonLimit: string): Router {
  const router = express.Router();
  router.post('/imagine', express.json({ limit: jsonLimit }), async (req, res) => {
    if (!req.is('application/json')) {
      throw new AppError(415, 'unsupported_media_type', 'Send the request body as application/json');
    }
    const input = parseOrThrow(imagineRequestSchema, req.body, 'request body');
    const job = await jobs.submit(ownerOf(req), input);
    res.status(202).location(`/api/jobs/${job.id}`).json(toJobView(job));
  });
  return router;
}
