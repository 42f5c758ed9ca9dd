// Sends one of our image files: ETag, Last-Modified and ranges from express's sendFile, our
// cache policy and nosniff; a range beyond the file is a 416 and a missing file a 404, both
// in the one error shape and without the image's headers.
import type { NextFunction, Response } from 'express';
import { AppError } from '../errors';

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

export function sendImageFile(
  res: Response,
  next: NextFunction,
  file: string,
  contentType: string,
  cacheControl: string,
): void {
  res.sendFile(
    file,
    {
      cacheControl: false,
      headers: { 'Cache-Control': cacheControl, 'Content-Type': contentType, 'X-Content-Type-Options': 'nosniff' },
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
}
