// GET /api/images/:name: a stored result image, to its owner only, with an ETag and
// immutable caching (an image never changes once stored).
import express, { type Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors';
import { downloadName } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';
import { contentTypeFor, IMAGE_NAME_PATTERN, type ImageFiles } from '../store/image-files';

const imageNameSchema = z.string().regex(IMAGE_NAME_PATTERN, 'Not an image name');

export function imageRoutes(jobs: JobService, images: ImageFiles): Router {
  const router = express.Router();
  router.get('/images/:name', (req, res, next) => {
    const name = parseOrThrow(imageNameSchema, req.params.name, 'image name');
    const job = jobs.get(ownerOf(req), name.slice(0, name.lastIndexOf('.')));
    if (job.imageFile !== name) throw new AppError(404, 'not_found', 'No such image');
    if (req.query.download !== undefined) res.attachment(downloadName(job.prompt, name));
    res.sendFile(
      images.pathOf(name),
      {
        cacheControl: false,
        headers: {
          'Cache-Control': 'private, max-age=31536000, immutable',
          'Content-Type': contentTypeFor(name),
          'X-Content-Type-Options': 'nosniff',
        },
      },
      (error) => {
        if (error) next(new AppError(404, 'not_found', 'No such image'));
      },
    );
  });
  return router;
}
