// The gallery's view lives in the page's URL, so that a bookmark opens it as it was: the
// filter (utils/job-filter.ts) and the job open in the viewer (`?view=<job id>`). Typing
// replaces the history entry, a filter change or opening the viewer adds one, and Back
// (popstate) brings the earlier view back.
import { useMemo, useSyncExternalStore } from 'react';
import { type JobFilter, readFilter, writeFilter } from '../utils/job-filter';

const VIEW = 'view';
/** history.state of the entry opening the viewer added: closing it is going Back. */
const OPENED = 'mj-studio:viewer';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

const currentSearch = () => window.location.search;

function go(params: URLSearchParams, how: 'push' | 'replace', state: unknown): void {
  const url = new URL(window.location.href);
  url.search = params.toString();
  if (how === 'push') window.history.pushState(state, '', url);
  else window.history.replaceState(state, '', url);
  for (const listener of listeners) listener();
}

const here = () => new URLSearchParams(window.location.search);

export interface GalleryView {
  filter: JobFilter;
  /** The job open in the viewer, if one is. */
  viewing: string | undefined;
  /** `typing`: the search box's words, which replace the entry rather than add one per pause. */
  setFilter: (filter: JobFilter, options?: { typing?: boolean }) => void;
  openViewer: (jobId: string) => void;
  /** Another job in the open viewer: the same history entry. */
  showInViewer: (jobId: string) => void;
  closeViewer: () => void;
}

// Module-level, so that they keep one identity across renders (the search box's pause timer
// depends on its callback).
const setFilter: GalleryView['setFilter'] = (next, options) =>
  options?.typing
    ? go(writeFilter(here(), next), 'replace', window.history.state)
    : go(writeFilter(here(), next), 'push', null);

function openViewer(jobId: string): void {
  const params = here();
  params.set(VIEW, jobId);
  go(params, 'push', OPENED);
}

function showInViewer(jobId: string): void {
  const params = here();
  params.set(VIEW, jobId);
  go(params, 'replace', window.history.state);
}

function closeViewer(): void {
  if (window.history.state === OPENED) {
    window.history.back();
    return;
  }
  // Opened by the URL itself (a bookmark): there is no entry to go back to.
  const params = here();
  params.delete(VIEW);
  go(params, 'replace', null);
}

export function useGalleryView(): GalleryView {
  const search = useSyncExternalStore(subscribe, currentSearch);
  const { filter, viewing } = useMemo(() => {
    const params = new URLSearchParams(search);
    return { filter: readFilter(params), viewing: params.get(VIEW) ?? undefined };
  }, [search]);
  return { filter, viewing, setFilter, openViewer, showInViewer, closeViewer };
}
