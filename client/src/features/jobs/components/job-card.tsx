// One job's card: tracks its job through the polling query and shows every state (waiting,
// generating with progress and any preview, the kept image, failure, cancellation, connection
// trouble) with the actions that fit it, those its upstream offers included (job-actions.tsx),
// the job it came from, and how it was made (job-details.tsx).

import type { Job } from '@shared/schemas/job';
import { isTerminalStatus } from '@shared/schemas/job-values';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '@/lib/api-client';
import { useContract } from '@/lib/use-contract';
import { useCancelJob } from '../api/cancel-job';
import { useDeleteJob } from '../api/delete-job';
import { jobQueryOptions } from '../api/get-job';
import { useSubmitJob } from '../api/submit-job';
import type { IncomingImage } from '../hooks/use-image-tray';
import { formatDuration, useNow } from '../hooks/use-now';
import { type Draft, draftOf, draftOfPrompt } from '../utils/draft';
import { actionLabel, JobActions } from './job-actions';
import { JobDetails } from './job-details';
import { JobFrame } from './job-frame';

export interface JobCardProps {
  job: Job;
  /** "Use again", or a describe job's "Use this prompt": the prompt box takes the draft. */
  onUseAgain: (draft: Draft) => void;
  /** "Use as image prompt": the prompt box's tray takes the finished image. */
  onUseAsImage?: ((image: IncomingImage['image']) => void) | undefined;
  /** Opens the job in the viewer: its finished image becomes a button. */
  onOpen?: (() => void) | undefined;
}

export function JobCard({ job: initial, onUseAgain, onUseAsImage, onOpen }: JobCardProps) {
  // The history's copy seeds the query; as old as it may be, a running job is asked about at once.
  const query = useQuery({ ...jobQueryOptions(initial.job_id), initialData: initial, initialDataUpdatedAt: 0 });
  const job = query.data;
  const finished = isTerminalStatus(job.status);
  const fatalError = query.error && !(query.error instanceof ApiError && query.error.retryable) ? query.error : null;
  const now = useNow(!finished && !fatalError);
  const cancel = useCancelJob();
  const remove = useDeleteJob();
  const retry = useSubmitJob();
  const contract = useContract();
  const [copied, setCopied] = useState(false);

  const startedAt = Date.parse(job.created_at);
  const elapsed = formatDuration((job.finished_at ? Date.parse(job.finished_at) : now) - startedAt);
  const draft = contract ? draftOf(job, contract.printPrompt) : undefined;
  // A describe job or a blend is not a prompt to send again.
  const fromPrompt = job.kind === 'imagine' || job.kind === 'action';
  const imageUrl = job.status === 'complete' && job.kind !== 'describe' ? job.image_url : undefined;
  const actionError = cancel.error ?? remove.error ?? retry.error;
  const lineage = actionLabel(job);

  async function copyPrompt() {
    await navigator.clipboard?.writeText(job.prompt);
    setCopied(true);
  }

  return (
    <article id={`job-${job.job_id}`} className={`job-card status-${job.status}`} aria-label={job.prompt}>
      <JobFrame job={job} onOpen={onOpen} />
      <div className="job-body">
        {lineage ? (
          <p className="job-lineage">
            {lineage}
            {job.parent_id ? (
              <>
                {' · '}
                <a href={`#job-${job.parent_id}`}>from this {parentOutput(job)}</a>
              </>
            ) : null}
          </p>
        ) : null}
        <p className="job-prompt" title={job.prompt}>
          {job.prompt}
        </p>
        <p className="job-meta">
          {job.aspect_ratio} · {finished ? `took ${elapsed}` : `${elapsed} elapsed`}
          {job.cost !== 1 ? ` · ${job.cost}× cost` : ''}
        </p>
        {contract ? (
          <JobDetails
            job={job}
            printPrompt={contract.printPrompt}
            onUsePrompt={(prompt) => onUseAgain(draftOfPrompt(prompt))}
          />
        ) : null}
        <p className="job-status" role="status" aria-live="polite">
          {statusText(job, query.error, fatalError)}
        </p>
        {job.status === 'processing' && job.progress !== undefined ? (
          <progress className="job-progress" max={100} value={job.progress} aria-label="Generation progress">
            {job.progress}%
          </progress>
        ) : null}
        {job.status === 'complete' ? <JobActions job={job} /> : null}
        {actionError ? (
          <p className="form-error" role="alert">
            {actionError.message}
          </p>
        ) : null}
        <div className="job-actions">
          {job.status === 'complete' && job.video_url ? (
            <a className="button" href={job.video_url} download={job.video_download_name}>
              Download video
            </a>
          ) : null}
          {job.status === 'complete' && job.image_url && !job.video_url ? (
            <>
              <a className="button" href={job.image_url} download={job.download_name}>
                Download
              </a>
              <a href={job.image_url} target="_blank" rel="noopener">
                Full size
              </a>
            </>
          ) : null}
          {!finished ? (
            <button type="button" onClick={() => cancel.mutate(job.job_id)} disabled={cancel.isPending}>
              {cancel.isPending ? 'Cancelling…' : 'Cancel'}
            </button>
          ) : null}
          {fromPrompt && draft && (job.status === 'failed' || job.status === 'cancelled' || fatalError) ? (
            <button type="button" onClick={() => retry.mutate(draft.request)} disabled={retry.isPending}>
              {retry.isPending ? 'Submitting…' : 'Try again'}
            </button>
          ) : null}
        </div>
        <div className="job-actions secondary">
          <button type="button" className="quiet" onClick={copyPrompt} aria-label="Copy prompt">
            {copied ? 'Copied' : 'Copy'}
          </button>
          {fromPrompt && draft ? (
            <button
              type="button"
              className="quiet"
              onClick={() => onUseAgain(draft)}
              aria-label="Use again, with this prompt"
            >
              Use again
            </button>
          ) : null}
          {imageUrl && onUseAsImage ? (
            <button
              type="button"
              className="quiet"
              onClick={() => onUseAsImage({ ref: { job_id: job.job_id }, url: imageUrl, name: job.prompt })}
            >
              Use as image prompt
            </button>
          ) : null}
          <button
            type="button"
            className="quiet"
            onClick={() => remove.mutate(job.job_id)}
            disabled={remove.isPending}
            aria-label="Remove from history"
          >
            Remove
          </button>
        </div>
      </div>
    </article>
  );
}

/** What the job this one was made from is: U/V/reroll act on a grid, Extend on a video. */
function parentOutput({ action = 'reroll' }: Job): string {
  if (action === 'upscale' || action === 'variation' || action === 'reroll') return 'grid';
  return action.startsWith('extend') ? 'video' : 'image';
}

function statusText(job: Job, error: Error | null, fatalError: Error | null): string {
  if (fatalError) return fatalError.message;
  if (error instanceof ApiError) {
    const wait = error.code === 'rate_limited' && error.retryAfterS ? ` Checking again in ${error.retryAfterS} s.` : '';
    return `${error.message}${wait || ' Retrying…'}`;
  }
  switch (job.status) {
    case 'queued':
      return job.queue_position !== undefined
        ? `Queued for the upstream, position ${job.queue_position}`
        : 'Queued for the upstream';
    case 'pending':
      return 'Waiting in the upstream queue…';
    case 'processing':
      return job.progress !== undefined ? `Generating… ${Math.round(job.progress)}%` : 'Generating…';
    case 'complete':
      return 'Done';
    case 'failed':
      return `Failed: ${job.error ?? 'the upstream gave no reason'}`;
    case 'cancelled':
      return 'Cancelled';
  }
}
