// GET /api/images/:name and /api/videos/:name: a stored result image or clip, to its owner
// only, with an ETag, ranges (a video seeks by them) and immutable caching. A range beyond it is a 416.
import { imageNameSchema, videoNameSchema } from '@shared/schemas/job';
import type { Router } from 'express';
import { downloadName } from '../http/job-view';
import { ownerOf } from '../http/owner';
import { sendImageFile } from '../http/send-image';
import { parseOrThrow } from '../http/validate';
import type { JobService } from '../jobs/job-service';

export function imageRoutes(router: Router, jobs: JobService): void {
  router.get('/images/:name', (req, res, next) => {
    const name = parseOrThrow(imageNameSchema, req.params.name, 'image name');
    const image = jobs.keptImage(ownerOf(req), name);
    if (req.query.download !== undefined) res.attachment(downloadName(image.job.prompt, name));
    sendImageFile(res, next, image.file, image.contentType, 'private, max-age=31536000, immutable');
  });

  router.get('/videos/:name', (req, res, next) => {
    const name = parseOrThrow(videoNameSchema, req.params.name, 'video name');
    const video = jobs.keptVideo(ownerOf(req), name);
    if (req.query.download !== undefined) res.attachment(downloadName(video.job.prompt, name));
    sendImageFile(res, next, video.file, video.contentType, 'private, max-age=31536000, immutable');
  });
}
