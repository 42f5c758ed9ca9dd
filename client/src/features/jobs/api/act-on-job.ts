// POST /api/jobs/:id/actions: one of the actions a finished job offers (upscale, vary, zoom,
// pan, animate, extend, a grid's U/V/reroll). The new job is linked to the one it came from
// and goes to the top of the history at once, like a submission.

import type { JobActionRequest } from '@shared/schemas/job';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { addNewJob } from './list-jobs';

export function actOnJob(jobId: string, request: JobActionRequest) {
  return apiRequest(`/api/jobs/${encodeURIComponent(jobId)}/actions`, ({ jobSchema }) => jobSchema, {
    method: 'POST',
    body: JSON.stringify(request),
  });
}

export function useJobAction(jobId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: JobActionRequest) => actOnJob(jobId, request),
    onSuccess: (job) => addNewJob(client, job),
  });
}
