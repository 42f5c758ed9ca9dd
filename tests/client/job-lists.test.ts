import type { Job, JobList } from '@shared/schemas/job';
import type { InfiniteData } from '@tanstack/react-query';
import { expect, test } from 'vitest';
import { jobKeys } from '@/features/jobs/api/job-keys';
import { addNewJob, removeFromList, replaceInList } from '@/features/jobs/api/list-jobs';
import { makeJob } from '../mocks/api';
import { freshQueryClient } from './helpers';

const VIDEOS = { output: ['video' as const] };

function cachedLists(jobs: Job[]) {
  const client = freshQueryClient();
  const data = { pages: [{ jobs, next_cursor: null }], pageParams: [undefined] };
  client.setQueryData(jobKeys.list({}), data);
  client.setQueryData(jobKeys.list(VIDEOS), data);
  const ids = (filter: object) =>
    client
      .getQueryData<InfiniteData<JobList>>(jobKeys.list(filter))
      ?.pages.flatMap((page) => page.jobs.map((job) => job.job_id));
  return { client, ids };
}

test('a new job goes first in the whole history, and each filtered list is to be fetched again', () => {
  const { client, ids } = cachedLists([makeJob('old', { output: 'video' })]);

  addNewJob(client, makeJob('new'));

  expect(ids({})).toEqual(['new', 'old']);
  expect(ids(VIDEOS)).toEqual(['old']);
  expect(client.getQueryState(jobKeys.list(VIDEOS))?.isInvalidated).toBe(true);
  expect(client.getQueryState(jobKeys.list({}))?.isInvalidated).toBe(false);
  expect(client.getQueryData(jobKeys.detail('new'))).toMatchObject({ job_id: 'new' });
});

test('a job the cards learn about is replaced in every cached list, and a removed one leaves them all', () => {
  const { client, ids } = cachedLists([makeJob('a', { output: 'video' }), makeJob('b', { output: 'video' })]);

  replaceInList(client, makeJob('a', { output: 'video', status: 'complete' }));
  removeFromList(client, 'b');

  for (const filter of [{}, VIDEOS]) {
    expect(ids(filter)).toEqual(['a']);
    expect(client.getQueryData<InfiniteData<JobList>>(jobKeys.list(filter))?.pages[0]?.jobs[0]?.status).toBe(
      'complete',
    );
  }
});
