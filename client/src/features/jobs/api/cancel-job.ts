// POST /api/jobs/:id/cancel: stops a running job; its card stops polling at once.

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { jobKeys } from './job-keys';
import { replaceInList } from './list-jobs';

export function cancelJob(jobId: string) {
  return apiRequest(`/api/jobs/${encodeURIComponent(jobId)}/cancel`, ({ jobSchema }) => jobSchema, { method: 'POST' });
}

export function useCancelJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: cancelJob,
    onSuccess: (job) => {
      client.setQueryData(jobKeys.detail(job.job_id), job);
      replaceInList(client, job);
    },
  });
}
