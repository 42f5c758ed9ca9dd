// GET /api/images/:name: a stored result image, to its owner only, with an ETag and
// immutable caching (an image never changes once stored).
import { imageNameSchema } from '@shared/schemas/job';
import express, { type Router } from 'express';
import { AppError } from '../errors';
import { downloadName } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';

export function imageRoutes(router: Router, jobs: JobService): void {
  router.get('/images/:name', (req, res, next) => {
    const name = parseOrThrow(imageNameSchema, req.params.name, 'image name');
    const image = jobs.keptImage(ownerOf(req), name);
    if (req.query.download !== undefined) res.attachment(downloadName(image.job.prompt, name));
    res.sendFile(
      image.file,
      {
        cacheControl: false,
        headers: {
          'Cache-Control': 'private, max-age=31536000, immutable',
          'Content-Type': image.contentType,
          'X-Content-Type-Options': 'nosniff',
        },
      },
      (error) => {
        if (error) next(new AppError(404, 'not_found', 'No such image'));
      },
    );
  });
}
