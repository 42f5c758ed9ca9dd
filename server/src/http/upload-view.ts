// How a kept upload looks to its owner: our id, our URL, its size and type.
import type { Upload } from '@shared/schemas/upload';
import type { UploadRecord } from '../store/job-store';

export const toUploadView = (upload: UploadRecord): Upload => ({
  upload_id: upload.id,
  url: `/api/uploads/${upload.id}/image`,
  width: upload.width,
  height: upload.height,
  content_type: upload.contentType,
  bytes: upload.bytes,
  created_at: new Date(upload.createdAt).toISOString(),
});
