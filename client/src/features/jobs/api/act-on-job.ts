// POST /api/jobs/:id/actions: upscale, vary or reroll a finished grid. The new job is linked
// to the grid and goes to the top of the history at once, like a submission.

import type { GridActionRequest } from '@shared/schemas/job';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { addNewJob } from './list-jobs';

export function actOnJob(gridId: string, request: GridActionRequest) {
  return apiRequest(`/api/jobs/${encodeURIComponent(gridId)}/actions`, ({ jobSchema }) => jobSchema, {
    method: 'POST',
    body: JSON.stringify(request),
  });
}

export function useGridAction(gridId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: GridActionRequest) => actOnJob(gridId, request),
    onSuccess: (job) => addNewJob(client, job),
  });
}
