// POST /api/blend: one grid that blends 2 to 5 of the owner's images, in a shape; a job like
// a prompt, at the top of the history at once.

import type { BlendRequest } from '@shared/schemas/upload';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { addNewJob } from './list-jobs';

export function blendImages(request: BlendRequest) {
  return apiRequest('/api/blend', ({ jobSchema }) => jobSchema, { method: 'POST', body: JSON.stringify(request) });
}

export function useBlendImages() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: blendImages,
    onSuccess: (job) => addNewJob(client, job),
  });
}
