// Images as input: POST /api/uploads takes the image itself as the body (PNG, JPEG or WebP,
// judged by its bytes), GET and DELETE /api/uploads/:id and its image, all to the owner only;
// GET /media/<folder>/<name>?e=&s= opens one of our images to an upstream holding a signed link.
import { UPLOAD_BODY_TYPES, UPLOAD_IMAGE_TYPES, uploadIdSchema } from '@shared/schemas/upload';
import express, { type Router } from 'express';
import { AppError } from '../errors';
import { clientAddress, ownerOf } from '../http/owner';
import { sendImageFile } from '../http/send-image';
import { toUploadView } from '../http/upload-view';
import { parseOrThrow } from '../http/validate';
import type { ClientLimits } from '../jobs/client-limits';
import type { MediaFile, UploadService } from '../jobs/upload-service';

export function uploadRoutes(router: Router, uploads: UploadService, limits: ClientLimits): void {
  // A little over the limit, so that the image check (not the body parser) names the limit.
  const raw = express.raw({ type: () => true, limit: uploads.limits.maxBytes + 1024 });

  router.post('/uploads', async (req, res, next) => {
    const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!(UPLOAD_BODY_TYPES as readonly string[]).includes(type)) {
      throw new AppError(
        415,
        'unsupported_media_type',
        `Send the image itself as the body, with a Content-Type of ${UPLOAD_IMAGE_TYPES.join(', ')} (not a form)`,
      );
    }
    await limits.admitUpload({ owner: ownerOf(req), address: clientAddress(req) });
    raw(req, res, async (error?: unknown) => {
      if (error) return next(error);
      try {
        if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
          throw new AppError(400, 'invalid_request', 'The body is empty: send the image', {
            fields: [{ path: 'file', message: 'Send the image' }],
          });
        }
        const upload = await uploads.save(ownerOf(req), req.body);
        res.status(201).location(`/api/uploads/${upload.id}`).json(toUploadView(upload));
      } catch (failure) {
        next(failure);
      }
    });
  });

  router.get('/uploads/:uploadId', (req, res) => {
    const id = parseOrThrow(uploadIdSchema, req.params.uploadId, 'upload id');
    res.set('Cache-Control', 'no-store').json(toUploadView(uploads.get(ownerOf(req), id)));
  });

  router.get('/uploads/:uploadId/image', (req, res, next) => {
    const id = parseOrThrow(uploadIdSchema, req.params.uploadId, 'upload id');
    const { file, contentType } = uploads.fileOf(ownerOf(req), id);
    sendImageFile(res, next, file, contentType, 'private, max-age=31536000, immutable');
  });

  router.delete('/uploads/:uploadId', async (req, res) => {
    const id = parseOrThrow(uploadIdSchema, req.params.uploadId, 'upload id');
    await uploads.remove(ownerOf(req), id);
    res.status(204).end();
  });
}

/**
 * The signed links an upstream fetches our images with, and the share links relay-protocol
 * clients show (no cookie, no session: the signature is the key).
 */
export function mediaRoutes(uploads: UploadService, shared?: (name: string, key: string) => MediaFile): Router {
  const router = express.Router();
  router.get('/share/:name', (req, res, next) => {
    if (!shared) throw new AppError(404, 'not_found', 'No such file');
    const key = typeof req.query.k === 'string' ? req.query.k : '';
    const media = shared(req.params.name, key);
    // Any page may draw it (a chat UI puts it on a canvas); the link is the capability. Cached
    // a day, not for good: deleting the job revokes its links, within that day at the latest.
    res.set('Access-Control-Allow-Origin', '*').set('Cross-Origin-Resource-Policy', 'cross-origin');
    sendImageFile(res, next, media.file, media.contentType, 'public, max-age=86400');
  });
  router.get('/:folder/:name', (req, res, next) => {
    const folder = req.params.folder;
    if (folder !== 'uploads' && folder !== 'images') throw new AppError(404, 'not_found', 'No such file');
    const { e, s } = req.query;
    const media = uploads.mediaFile(
      folder,
      req.params.name,
      typeof e === 'string' ? e : '',
      typeof s === 'string' ? s : '',
    );
    sendImageFile(res, next, media.file, media.contentType, 'private, max-age=3600');
  });
  return router;
}
