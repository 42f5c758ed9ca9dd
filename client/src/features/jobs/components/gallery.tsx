// The owner's history: every job, newest first, narrowed by the search box and the filters
// (the view lives in the URL: use-gallery-view.ts), loaded a page at a time as the reader
// scrolls (or presses "Load more"); each card polls on its own, and opens in the viewer.

import type { Job } from '@shared/schemas/job';
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { type ReactNode, useCallback, useEffect, useRef } from 'react';
import { useLazyModule } from '@/lib/lazy-module';
import { jobListQueryOptions } from '../api/list-jobs';
import { useGalleryView } from '../hooks/use-gallery-view';
import { isFiltered } from '../utils/job-filter';
import { viewerChunk } from './gallery-chunks';
import { JobCard, type JobCardProps } from './job-card';
import { SearchBar } from './search-bar';
import type { ViewerProps } from './viewer';

type GalleryProps = Pick<JobCardProps, 'onUseAgain' | 'onUseAsImage'>;

export function Gallery({ onUseAgain, onUseAsImage }: GalleryProps) {
  const { filter, viewing, setFilter, openViewer, showInViewer, closeViewer } = useGalleryView();
  // While another view loads, the one before stays (dimmed) rather than a blank page.
  const list = useInfiniteQuery({ ...jobListQueryOptions(filter), placeholderData: keepPreviousData });
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const jobs = list.data?.pages.flatMap((page) => page.jobs) ?? [];
  const filtered = isFiltered(filter);

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

  const loadMore = useCallback(async () => {
    // Joins a page already on its way (the sentinel's) rather than asking for it again.
    const result = await fetchNextPage({ cancelRefetch: false });
    return result.data?.pages.flatMap((page) => page.jobs) ?? [];
  }, [fetchNextPage]);

  const viewer = viewing ? (
    <LazyViewer
      jobId={viewing}
      jobs={jobs}
      hasMore={hasNextPage}
      listPending={list.isPending}
      loadMore={loadMore}
      onShow={showInViewer}
      onClose={closeViewer}
      onUseAsImage={onUseAsImage}
    />
  ) : null;
  // A first visit's empty history has nothing to search yet.
  const searchBar =
    filtered || list.isPending || jobs.length > 0 ? <SearchBar filter={filter} onChange={setFilter} /> : null;

  // Keyed apart: a new paragraph appears where the old one was, rather than one that moves.
  let content: ReactNode;
  if (list.isPending) {
    content = (
      <p key="loading" className="empty">
        Loading your images…
      </p>
    );
  } else if (list.isError) {
    content = (
      <p className="form-error" role="alert">
        Could not load your history: {list.error.message}{' '}
        <button type="button" onClick={() => void list.refetch()}>
          Retry
        </button>
      </p>
    );
  } else if (jobs.length === 0) {
    content = filtered ? (
      <p key="no-match" className="empty">
        No images match.{' '}
        <button type="button" onClick={() => setFilter({})}>
          Clear the search and filters
        </button>
      </p>
    ) : (
      <p key="empty" className="empty">
        Your images will appear here. Describe one above to start.
      </p>
    );
  } else {
    content = (
      <>
        <section
          className="job-list"
          aria-label="Your images"
          aria-busy={list.isPlaceholderData || undefined}
          // The viewer's chunk is asked for as the reader reaches for a card, so that it opens at once.
          onPointerEnter={preloadViewer}
          onFocus={preloadViewer}
        >
          {jobs.map((job) => (
            <Slot key={job.job_id} job={job}>
              <JobCard
                job={job}
                onUseAgain={onUseAgain}
                onUseAsImage={onUseAsImage}
                onOpen={() => openViewer(job.job_id)}
              />
            </Slot>
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

  return (
    <>
      {searchBar}
      {content}
      {viewer}
    </>
  );
}

/** A card's place in the list, with a star on a favourite (the card itself does not show one). */
function Slot({ job, children }: { job: Job; children: ReactNode }) {
  return (
    <div className="job-slot">
      {job.favourite ? (
        <span className="favourite-mark" title="Favourite">
          <span aria-hidden="true">★</span>
          <span className="visually-hidden">Favourite:</span>
        </span>
      ) : null}
      {children}
    </div>
  );
}

const preloadViewer = () => void viewerChunk.load().catch(() => undefined);

/** The viewer, once its chunk has arrived (it is asked for when a job is first opened). */
function LazyViewer(props: ViewerProps) {
  const Viewer = useLazyModule(viewerChunk)?.Viewer;
  return Viewer ? <Viewer {...props} /> : null;
}
