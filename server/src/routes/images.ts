// GET /api/images/:name: a stored result image, to its owner only, with an ETag and
// immutable caching (an image never changes once stored). A range beyond it is a 416.
import { imageNameSchema } from '@shared/schemas/job';
import type { Router } from 'express';
import { AppError } from '../errors';
import { downloadName } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';

const IMAGE_HEADERS = [
  'Cache-Control',
  'Content-Type',
  'Content-Disposition',
  'ETag',
  'Last-Modified',
  'Accept-Ranges',
];

const statusOf = (error: unknown): unknown =>
  typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;

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
      (error: unknown) => {
        // Nothing can be said once the image has begun (the client went away, say).
        if (!error || res.headersSent) return;
        // send had set the image's headers before it gave up; an error answer is not the image.
        for (const header of IMAGE_HEADERS) res.removeHeader(header);
        res.setHeader('Cache-Control', 'no-store');
        if (statusOf(error) === 416) {
          // send left `Content-Range: bytes */<size>`, which a 416 should carry.
          next(new AppError(416, 'invalid_request', 'The requested range is outside the image'));
        } else {
          res.removeHeader('Content-Range');
          next(new AppError(404, 'not_found', 'No such image'));
        }
      },
    );
  });
}
