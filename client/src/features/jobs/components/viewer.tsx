// The full-screen viewer, a chunk of its own (gallery-chunks.ts): one job large, with what can
// be done with it, and the jobs of the current list before and after it (← →, a swipe, or the
// buttons; the next page is loaded at the end of the one loaded). A modal dialog: it takes the
// focus, keeps Tab inside, closes on Escape, and gives the focus back to the card it was
// opened from (or to the card of the job it shows by then).
import type { Job } from '@shared/schemas/job';
import { useQuery } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { jobQueryOptions } from '../api/get-job';
import type { IncomingImage } from '../hooks/use-image-tray';
import { FavouriteButton } from './favourite-button';
import { actionLabel, JobActions } from './job-actions';
import { LineageStrip } from './lineage-strip';
import { ViewerStage } from './viewer-stage';

export interface ViewerProps {
  jobId: string;
  /** The current list's jobs, as far as it is loaded, in its order. */
  jobs: Job[];
  hasMore: boolean;
  /** The list's first page is on its way: the job may be on it, and need not be asked for alone. */
  listPending: boolean;
  /** Loads the list's next page; answers the list's jobs with it. */
  loadMore: () => Promise<Job[]>;
  /** Shows another job in the viewer. */
  onShow: (jobId: string) => void;
  onClose: () => void;
  onUseAsImage?: ((image: IncomingImage['image']) => void) | undefined;
}

const FOCUSABLE =
  'button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), a[href], video[controls], [tabindex]:not([tabindex="-1"])';

/** Keys that belong to the control that has them: typing, a list's choice, a video's seeking. */
const KEEPS_KEYS = 'input, textarea, select, video, [contenteditable]:not([contenteditable="false"])';

export function Viewer({ jobId, jobs, hasMore, listPending, loadMore, onShow, onClose, onUseAsImage }: ViewerProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const query = useQuery({
    ...jobQueryOptions(jobId),
    // The list's copy shows at once; a job that is not on the loaded pages is asked for.
    initialData: () => jobs.find((item) => item.job_id === jobId),
    initialDataUpdatedAt: 0,
    enabled: !listPending,
  });
  const job = query.data;

  const [selected, setSelected] = useState<number>();
  const [copied, setCopied] = useState<{ jobId: string; ok: boolean }>();
  const [loadingMore, setLoadingMore] = useState(false);
  // A grid's choice belongs to that grid.
  const [selectedFor, setSelectedFor] = useState(jobId);
  if (selectedFor !== jobId) {
    setSelectedFor(jobId);
    setSelected(undefined);
  }

  const index = jobs.findIndex((item) => item.job_id === jobId);
  const previous = index > 0 ? jobs[index - 1] : undefined;
  const next = index >= 0 ? jobs[index + 1] : undefined;
  const canGoOn = next !== undefined || (index >= 0 && index === jobs.length - 1 && hasMore);
  const isGrid = job?.output === 'grid' && job.status === 'complete' && job.image_url !== undefined;

  // The job shown now, for the focus given back on closing and for a page that arrives late.
  const shown = useRef(jobId);
  // Set by "Use as image prompt": what to do once the viewer has gone (the prompt box takes the focus).
  const afterClose = useRef<() => void>(undefined);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    const openedWith = shown.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    // showModal() makes the rest of the page inert; where it is missing (jsdom) the Tab trap
    // below still keeps the focus inside.
    if (typeof element.showModal === 'function') {
      if (!element.open) element.showModal();
    } else element.setAttribute('open', '');
    element.focus();
    document.documentElement.classList.add('viewer-open');
    return () => {
      document.documentElement.classList.remove('viewer-open');
      const then = afterClose.current;
      if (then) {
        afterClose.current = undefined;
        then();
        return;
      }
      const card = document.getElementById(`job-${shown.current}`);
      const back =
        shown.current === openedWith && opener?.isConnected && opener !== document.body
          ? opener
          : (card?.querySelector<HTMLElement>(FOCUSABLE) ?? (opener?.isConnected ? opener : null));
      back?.focus();
    };
  }, []);

  // After the opening effect above, so that it finds the dialog open and the focus in it.
  useEffect(() => {
    shown.current = jobId;
    // A control that went with the job it belonged to (a thumbnail of its family) took the focus with it.
    const element = dialog.current;
    if (element && !element.contains(document.activeElement)) element.focus();
  }, [jobId]);

  function goBack() {
    if (previous) onShow(previous.job_id);
  }

  async function goOn() {
    if (next) {
      onShow(next.job_id);
      return;
    }
    if (!canGoOn || loadingMore) return;
    setLoadingMore(true);
    try {
      const all = await loadMore();
      const at = all.findIndex((item) => item.job_id === jobId);
      const after = at >= 0 ? all[at + 1] : undefined;
      // Unless the reader has moved on meanwhile.
      if (after && shown.current === jobId) onShow(after.job_id);
    } finally {
      setLoadingMore(false);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLDialogElement>) {
    // Handled already (an action's own dialog closing on Escape, its Tab trap).
    if (event.defaultPrevented) return;
    const target = event.target instanceof HTMLElement ? event.target : null;
    // Keys inside an action's dialog are that dialog's.
    if (target && target.closest('dialog') !== dialog.current) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      onClose();
      return;
    }
    if (event.key === 'Tab') {
      trapTab(event);
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || target?.closest(KEEPS_KEYS)) return;
    if (event.key === 'ArrowLeft' && previous) {
      event.preventDefault();
      goBack();
    } else if (event.key === 'ArrowRight' && canGoOn) {
      event.preventDefault();
      void goOn();
    } else if (isGrid && /^[1-4]$/.test(event.key)) {
      event.preventDefault();
      setSelected(Number(event.key));
    }
  }

  function trapTab(event: KeyboardEvent<HTMLDialogElement>) {
    const element = dialog.current;
    if (!element) return;
    const focusable = [...element.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const edge = event.shiftKey ? focusable[0] : focusable.at(-1);
    if (
      document.activeElement === edge ||
      document.activeElement === element ||
      !element.contains(document.activeElement)
    ) {
      event.preventDefault();
      (event.shiftKey ? focusable.at(-1) : focusable[0])?.focus();
    }
  }

  async function copyPrompt(of: Job) {
    try {
      await navigator.clipboard.writeText(of.final_prompt ?? of.prompt);
      setCopied({ jobId: of.job_id, ok: true });
    } catch {
      setCopied({ jobId: of.job_id, ok: false });
    }
  }

  function offerAsImage(of: Job, url: string) {
    if (!onUseAsImage) return;
    afterClose.current = () => onUseAsImage({ ref: { job_id: of.job_id }, url, name: of.prompt });
    onClose();
  }

  const referenceUrl = job?.status === 'complete' && job.kind !== 'describe' ? job.image_url : undefined;
  const madeBy = job ? actionLabel(job) : undefined;
  const note = copied?.jobId === jobId ? (copied.ok ? 'Copied' : 'Could not copy the prompt') : '';

  return (
    <dialog
      ref={dialog}
      className="viewer"
      aria-modal="true"
      aria-labelledby={titleId}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        // Ours to close: the browser's own closing would leave the URL saying it is open.
        event.preventDefault();
        onClose();
      }}
    >
      <header className="viewer-bar">
        <h2 id={titleId} className="viewer-title">
          {job?.prompt || 'Image'}
        </h2>
        {index >= 0 ? (
          <p className="viewer-position">
            {index + 1} of {jobs.length}
            {hasMore ? '+' : ''}
          </p>
        ) : null}
        <button type="button" className="viewer-close" onClick={onClose} aria-label="Close viewer">
          <span aria-hidden="true">✕</span>
        </button>
      </header>

      {job ? (
        <ViewerStage
          job={job}
          selected={selected}
          onSelect={setSelected}
          onSwipe={(direction) => (direction === 'next' ? void goOn() : goBack())}
        >
          {/* aria-disabled, not disabled: the last image's Next keeps the focus it has. */}
          <button type="button" className="viewer-step previous" onClick={goBack} aria-disabled={!previous}>
            <span aria-hidden="true">‹</span>
            <span className="visually-hidden">Previous image</span>
          </button>
          <button
            type="button"
            className="viewer-step next"
            onClick={() => void goOn()}
            aria-disabled={!canGoOn}
            aria-busy={loadingMore || undefined}
          >
            <span aria-hidden="true">›</span>
            <span className="visually-hidden">Next image</span>
          </button>
        </ViewerStage>
      ) : (
        <div className="viewer-stage">
          {query.isError ? (
            <p className="form-error" role="alert">
              Could not load this image: {query.error.message}
            </p>
          ) : (
            <p className="viewer-note">Loading…</p>
          )}
        </div>
      )}

      {job ? (
        <div className="viewer-panel">
          {madeBy ? <p className="job-lineage">{madeBy}</p> : null}
          <p className="viewer-meta">
            {job.aspect_ratio} · {new Date(job.created_at).toLocaleString()}
          </p>
          {isGrid ? (
            <p className="viewer-meta">
              {selected ? `Image ${selected} of 4 chosen: its actions below` : 'Press 1 to 4 to choose an image'}
            </p>
          ) : null}
          <div className="viewer-tools">
            {job.status === 'complete' && job.video_url ? (
              <a className="button" href={job.video_url} download={job.video_download_name}>
                Download video
              </a>
            ) : job.status === 'complete' && job.image_url ? (
              <a className="button" href={job.image_url} download={job.download_name}>
                Download image
              </a>
            ) : null}
            <button type="button" onClick={() => void copyPrompt(job)}>
              Copy prompt
            </button>
            {referenceUrl && onUseAsImage ? (
              <button type="button" onClick={() => offerAsImage(job, referenceUrl)}>
                Use as image prompt
              </button>
            ) : null}
            <FavouriteButton job={job} />
            <span className="viewer-note" role="status">
              {note}
            </span>
          </div>
          {job.descriptions?.length ? (
            <ol className="job-descriptions">
              {job.descriptions.map((text) => (
                <li key={text}>{text}</li>
              ))}
            </ol>
          ) : null}
          {job.status === 'complete' ? <JobActions job={job} index={isGrid ? selected : undefined} /> : null}
          <LineageStrip jobId={job.job_id} onOpen={onShow} />
        </div>
      ) : null}
    </dialog>
  );
}
