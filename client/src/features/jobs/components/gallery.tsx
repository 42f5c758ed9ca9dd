// The owner's history: every job, newest first, loaded a page at a time as the reader
// scrolls (or presses "Load more"); each card polls on its own.

import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { jobListQueryOptions } from '../api/list-jobs';
import { JobCard, type JobCardProps } from './job-card';

export function Gallery({ onUseAgain, onUseAsImage }: Pick<JobCardProps, 'onUseAgain' | 'onUseAsImage'>) {
  const history = useInfiniteQuery(jobListQueryOptions());
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;

  useEffect(() => {
    const element = sentinel.current;
    if (!element || !hasNextPage || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: '600px' },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Keyed apart: a new paragraph appears where the old one was, rather than one that moves.
  if (history.isPending) {
    return (
      <p key="loading" className="empty">
        Loading your images…
      </p>
    );
  }
  if (history.isError) {
    return (
      <p className="form-error" role="alert">
        Could not load your history: {history.error.message}{' '}
        <button type="button" onClick={() => void history.refetch()}>
          Retry
        </button>
      </p>
    );
  }
  const jobs = history.data.pages.flatMap((page) => page.jobs);
  if (jobs.length === 0) {
    return (
      <p key="empty" className="empty">
        Your images will appear here. Describe one above to start.
      </p>
    );
  }
  return (
    <>
      <section className="job-list" aria-label="Your images">
        {jobs.map((job) => (
          <JobCard key={job.job_id} job={job} onUseAgain={onUseAgain} onUseAsImage={onUseAsImage} />
        ))}
      </section>
      <div ref={sentinel} className="load-more">
        {hasNextPage ? (
          <button type="button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
            {isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        ) : null}
      </div>
    </>
  );
}
