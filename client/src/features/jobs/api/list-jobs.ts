// GET /api/jobs: the owner's history, newest first, one cursor page at a time, narrowed by a
// filter (each filter is cached on its own), and the helpers that keep every cached list in
// step with what the cards learn.

import type { Job, JobList } from '@shared/schemas/job';
import { JOB_PAGE_DEFAULT } from '@shared/schemas/job-values';
import { type InfiniteData, infiniteQueryOptions, type Query, type QueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { filterQuery, type JobFilter, normaliseFilter } from '../utils/job-filter';
import { jobKeys } from './job-keys';

export function listJobs(filter: JobFilter, cursor: string | undefined, signal?: AbortSignal): Promise<JobList> {
  const params = filterQuery(filter);
  params.set('limit', String(JOB_PAGE_DEFAULT));
  if (cursor) params.set('cursor', cursor);
  return apiRequest(`/api/jobs?${params}`, ({ jobListSchema }) => jobListSchema, signal ? { signal } : {});
}

export function jobListQueryOptions(filter: JobFilter = {}) {
  const clean = normaliseFilter(filter);
  return infiniteQueryOptions({
    queryKey: jobKeys.list(clean),
    queryFn: ({ pageParam, signal }) => listJobs(clean, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

type ListData = InfiniteData<JobList, string | undefined>;

/** The whole history's list: `jobKeys.list({})`, or the bare `jobKeys.lists()` older code seeded. */
const isWholeHistory = (query: Query) => {
  const filter = query.queryKey[jobKeys.lists().length];
  return filter === undefined || (typeof filter === 'object' && filter !== null && Object.keys(filter).length === 0);
};

/**
 * A job the server just started (a prompt or an action): its own cache entry, first in the
 * whole history, and a fresh look for every filtered list, since only the server can say
 * whether it matches one (words of the prompt are matched its way). The job it was made
 * from has a new child.
 */
export function addNewJob(client: QueryClient, job: Job): void {
  client.setQueryData(jobKeys.detail(job.job_id), job);
  client.setQueriesData<ListData>({ queryKey: jobKeys.lists(), predicate: isWholeHistory }, (data) => {
    if (!data) return data;
    const [first, ...rest] = data.pages;
    const firstPage = first ?? { jobs: [], next_cursor: null };
    return { ...data, pages: [{ ...firstPage, jobs: [job, ...firstPage.jobs] }, ...rest] };
  });
  void client.invalidateQueries({ queryKey: jobKeys.lists(), predicate: (query) => !isWholeHistory(query) });
  if (job.parent_id) void client.invalidateQueries({ queryKey: jobKeys.lineage(job.parent_id) });
}

/** Changes one job wherever a cached list holds it (every filter's). */
export function updateInLists(client: QueryClient, jobId: string, update: (job: Job) => Job): void {
  client.setQueriesData<ListData>({ queryKey: jobKeys.lists() }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            jobs: page.jobs.map((item) => (item.job_id === jobId ? update(item) : item)),
          })),
        }
      : data,
  );
}

// A job that stops matching a filtered list (it finished, in a "Generating" list) stays there
// until that list is next fetched: the reader sees it change rather than vanish.
export function replaceInList(client: QueryClient, job: Job): void {
  updateInLists(client, job.job_id, () => job);
}

export function removeFromList(client: QueryClient, jobId: string): void {
  client.setQueriesData<ListData>({ queryKey: jobKeys.lists() }, (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({ ...page, jobs: page.jobs.filter((item) => item.job_id !== jobId) })),
        }
      : data,
  );
}
