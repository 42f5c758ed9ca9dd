// GET /api/jobs/:id and the polling policy that belongs to the job query: poll while the job
// runs, stop once it has ended or after an error that asking again cannot fix, and after a
// 429 wait as long as the server said. What polling learns also goes into the cached history.

import type { Job } from '@shared/schemas/job';
import { isTerminalStatus, POLL_MAX_MS, POLL_MIN_MS } from '@shared/schemas/job-values';
import { type Query, queryOptions } from '@tanstack/react-query';
import { ApiError, apiRequest } from '@/lib/api-client';
import { jobKeys } from './job-keys';
import { replaceInList } from './list-jobs';

export const POLL_INTERVAL_MS = 2_000;
export const ERROR_BACKOFF_MS = 5_000;
const DEFAULT_RETRY_AFTER_S = 10;

export function getJob(jobId: string, signal?: AbortSignal): Promise<Job> {
  return apiRequest(`/api/jobs/${encodeURIComponent(jobId)}`, ({ jobSchema }) => jobSchema, signal ? { signal } : {});
}

export function nextPollDelay(query: Query<Job, Error>): number | false {
  const { data, error } = query.state;
  if (error) {
    if (!(error instanceof ApiError) || !error.retryable) return false;
    if (error.code === 'rate_limited') return (error.retryAfterS ?? DEFAULT_RETRY_AFTER_S) * 1000;
    return ERROR_BACKOFF_MS;
  }
  if (data && isTerminalStatus(data.status)) return false;
  // The server knows when it will next hear from the upstream; asking before then is wasted.
  if (data?.poll_after_ms !== undefined) return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, data.poll_after_ms));
  return POLL_INTERVAL_MS;
}

export function jobQueryOptions(jobId: string) {
  return queryOptions({
    queryKey: jobKeys.detail(jobId),
    queryFn: async ({ client, signal }) => {
      const job = await getJob(jobId, signal);
      // The history holds the same job: keep it in step, once per answer, here where the answer arrives.
      replaceInList(client, job);
      return job;
    },
    refetchInterval: nextPollDelay,
    // Errors are handled by the polling policy above, not by blind immediate retries.
    retry: false,
    // A finished job never changes again: never refetch it on focus or remount.
    staleTime: (query) => (query.state.data && isTerminalStatus(query.state.data.status) ? Infinity : 0),
  });
}
