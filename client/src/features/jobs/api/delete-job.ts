// DELETE /api/jobs/:id: removes a job and its image from the history.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { jobKeys } from './job-keys';
import { removeFromList } from './list-jobs';

export function deleteJob(jobId: string) {
  return apiRequest(`/api/jobs/${encodeURIComponent(jobId)}`, ({ noContentSchema }) => noContentSchema, {
    method: 'DELETE',
  });
}

export function useDeleteJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: deleteJob,
    onSuccess: (_answer, jobId) => {
      removeFromList(client, jobId);
      client.removeQueries({ queryKey: jobKeys.detail(jobId) });
    },
  });
}
