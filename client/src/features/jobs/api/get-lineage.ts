// GET /api/jobs/:id/lineage: the jobs a job came from (the oldest first) and the jobs made
// from it, for the viewer's strip. addNewJob (list-jobs.ts) marks a parent's lineage stale.

import type { Lineage } from '@shared/schemas/job';
import { queryOptions } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { jobKeys } from './job-keys';

export function getLineage(jobId: string, signal?: AbortSignal): Promise<Lineage> {
  return apiRequest(
    `/api/jobs/${encodeURIComponent(jobId)}/lineage`,
    ({ lineageSchema }) => lineageSchema,
    signal ? { signal } : {},
  );
}

export function lineageQueryOptions(jobId: string) {
  return queryOptions({
    queryKey: jobKeys.lineage(jobId),
    queryFn: ({ signal }) => getLineage(jobId, signal),
  });
}
