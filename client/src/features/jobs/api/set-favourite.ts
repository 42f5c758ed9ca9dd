// PUT and DELETE /api/jobs/:id/favourite: marks a job as a favourite or unmarks it. The star
// turns at once (the job's cache entry and every list), and turns back if the server refuses.

import type { Job } from '@shared/schemas/job';
import { type QueryClient, useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { jobKeys } from './job-keys';
import { replaceInList, updateInLists } from './list-jobs';

export function setFavourite(jobId: string, favourite: boolean): Promise<Job> {
  return apiRequest(`/api/jobs/${encodeURIComponent(jobId)}/favourite`, ({ jobSchema }) => jobSchema, {
    method: favourite ? 'PUT' : 'DELETE',
  });
}

function markFavourite(client: QueryClient, jobId: string, favourite: boolean): void {
  client.setQueryData<Job>(jobKeys.detail(jobId), (job) => (job ? { ...job, favourite } : job));
  updateInLists(client, jobId, (job) => ({ ...job, favourite }));
}

export function useSetFavourite(jobId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (favourite: boolean) => setFavourite(jobId, favourite),
    // One at a time per job, so that each rollback restores what the click before it left.
    scope: { id: `favourite:${jobId}` },
    onMutate: async (favourite) => {
      // An answer to a poll already under way would put the old star back.
      await client.cancelQueries({ queryKey: jobKeys.detail(jobId) });
      const before = client.getQueryData<Job>(jobKeys.detail(jobId))?.favourite ?? !favourite;
      markFavourite(client, jobId, favourite);
      return { before };
    },
    onError: (_error, _favourite, context) => {
      if (context) markFavourite(client, jobId, context.before);
    },
    onSuccess: (job) => {
      client.setQueryData(jobKeys.detail(job.job_id), job);
      replaceInList(client, job);
    },
    onSettled: () =>
      // "Favourites only" lists now hold one too many or too few; they are fetched again the
      // next time they are shown, not now, while the reader may be stepping through one.
      client.invalidateQueries({
        queryKey: jobKeys.lists(),
        predicate: (query) => {
          const filter = query.queryKey[jobKeys.lists().length];
          return typeof filter === 'object' && filter !== null && 'favourite' in filter && filter.favourite === true;
        },
        refetchType: 'none',
      }),
  });
}
