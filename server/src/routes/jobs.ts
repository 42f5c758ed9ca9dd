// GET /api/jobs/:jobId and its image. The id is checked against the shared strict pattern
// before it goes anywhere near an upstream URL; the image is served from our own origin.
import express, { type Router } from 'express';
import { type JobResponse, jobIdSchema } from '../../../shared/schemas/job';
import { AppError } from '../errors';
import { parseOrThrow } from '../http/validate';
import type { UpstreamAdapter } from '../upstream/adapter';
import type { ImageFetcher } from '../upstream/image-fetcher';
import type { ResultLinks } from '../upstream/result-links';

export interface JobRoutesDeps {
  upstream: UpstreamAdapter;
  images: ImageFetcher;
  links: ResultLinks;
}

export function jobRoutes({ upstream, images, links }: JobRoutesDeps): Router {
  const router = express.Router();

  router.get('/jobs/:jobId', async (req, res) => {
    const jobId = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    const job = await upstream.getJob(jobId);
    if (job.imageUrl) links.remember(jobId, job.imageUrl);
    const body: JobResponse = { job_id: jobId, status: job.status };
    if (job.progress !== undefined) body.progress = job.progress;
    if (job.status === 'complete') body.image_url = `/api/jobs/${jobId}/image`;
    if (job.error) body.error = job.error;
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.get('/jobs/:jobId/image', async (req, res) => {
    const jobId = parseOrThrow(jobIdSchema, req.params.jobId, 'job id');
    let url = links.lookup(jobId);
    if (!url) {
      const job = await upstream.getJob(jobId);
      if (job.status !== 'complete' || !job.imageUrl) {
        throw new AppError(404, 'not_found', 'This job has no image yet');
      }
      url = job.imageUrl;
      links.remember(jobId, url);
    }
    const image = await images.fetch(url);
    res
      .set('Cache-Control', 'private, max-age=31536000, immutable')
      .set('X-Content-Type-Options', 'nosniff')
      .type(image.contentType)
      .send(Buffer.from(image.body));
  });

  return router;
}
