// POST /api/imagine: validate the submission against the shared schema and hand it upstream.
import express, { type Router } from 'express';
import { imagineRequestSchema } from '../../../shared/schemas/imagine';
import type { SubmitJobResponse } from '../../../shared/schemas/job';
import { AppError } from '../errors';
import { parseOrThrow } from '../http/validate';
import type { UpstreamAdapter } from '../upstream/adapter';

export function imagineRoutes(upstream: UpstreamAdapter, jsonLimit: string): Router {
  const router = express.Router();
  router.post('/imagine', express.json({ limit: jsonLimit }), async (req, res) => {
    if (!req.is('application/json')) {
      throw new AppError(415, 'unsupported_media_type', 'Send the request body as application/json');
    }
    const input = parseOrThrow(imagineRequestSchema, req.body, 'request body');
    const job = await upstream.submit({
      prompt: input.prompt,
      aspectRatio: input.aspect_ratio,
      quality: input.quality,
    });
    req.log.info({ job_id: job.id, upstream: upstream.name }, 'job submitted');
    const body: SubmitJobResponse = { job_id: job.id, status: job.status };
    res.status(202).location(`/api/jobs/${job.id}`).json(body);
  });
  return router;
}
