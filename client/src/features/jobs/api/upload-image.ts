// POST /api/uploads: one image, sent as its own bytes with its own type (not a form). The
// answer names it for the submissions that use it: image prompt, style or omni reference,
// describe, blend.

import { useMutation } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';

export function uploadImage(file: Blob) {
  return apiRequest('/api/uploads', ({ uploadSchema }) => uploadSchema, { method: 'POST', body: file });
}

export function useUploadImage() {
  return useMutation({ mutationFn: uploadImage });
}
