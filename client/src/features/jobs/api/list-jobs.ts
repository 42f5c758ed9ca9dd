// GET /api/jobs: the owner's history, newest first, one cursor page at a time, and the
// helpers that keep that cached history in step with what the cards learn.

import type { Job, JobList } from '@shared/schemas/job';
import { JOB_PAGE_DEFAULT } from '@shared/schemas/job-values';
import { type InfiniteData, infiniteQueryOptions, type QueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { jobKeys } from './job-keys';

export function listJobs(cursor: string | undefined, signal?: AbortSignal): Promise<JobList> {
  const params = new URLSearchParams({ limit: String(JOB_PAGE_DEFAULT) });
  if (cursor) params.set('cursor', cursor);
  return apiRequest(`/api/jobs?${params}`, ({ jobListSchema }) => jobListSchema, signal ? { signal } : {});
}

export function jobListQueryOptions() {
  return infiniteQueryOptions({
    queryKey: jobKeys.lists(),
    queryFn: ({ pageParam, signal }) => listJobs(pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

type ListData = InfiniteData<JobList, string | undefined>;

function prependToList(client: QueryClient, job: Job): void {
  client.setQueryData<ListData>(jobKeys.lists(), (data) => {
    if (!data) return data;
    const [first, ...rest] = data.pages;
    const firstPage = first ?? { jobs: [], next_cursor: null };
    return { ...data, pages: [{ ...firstPage, jobs: [job, ...firstPage.jobs] }, ...rest] };
  });
}

/** A job the server just started (a prompt or a grid action): its own cache entry, and first in the history. */
export function addNewJob(client: QueryClient, job: Job): void {
  client.setQueryData(jobKeys.detail(job.job_id), job);
  prependToList(client, job);
}

export function replaceInList(client: QueryClient, job: Job): void {
  client.setQueryData<ListData>(jobKeys.lists(), (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            jobs: page.jobs.map((item) => (item.job_id === job.job_id ? job : item)),
          })),
        }
      : data,
  );
}

export function removeFromList(client: QueryClient, jobId: string): void {
  client.setQueryData<ListData>(jobKeys.lists(), (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({ ...page, jobs: page.jobs.filter((item) => item.job_id !== jobId) })),
        }
      : data,
  );
}
