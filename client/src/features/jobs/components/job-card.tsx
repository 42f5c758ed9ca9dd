// One job's card: tracks its job through the polling query and shows every state (waiting,
// generating with progress and any preview, the kept image, failure, cancellation, connection
// trouble) with the actions that fit it, grid actions included, and the grid it came from.

import type { ImagineRequest } from '@shared/schemas/imagine';
import type { Job } from '@shared/schemas/job';
import { isTerminalStatus } from '@shared/schemas/job-values';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '@/lib/api-client';
import { useCancelJob } from '../api/cancel-job';
import { useDeleteJob } from '../api/delete-job';
import { jobQueryOptions } from '../api/get-job';
import { useSubmitJob } from '../api/submit-job';
import { formatDuration, useNow } from '../hooks/use-now';
import { actionLabel, GridActions } from './grid-actions';
import { JobFrame } from './job-frame';

interface JobCardProps {
  job: Job;
  onUseAgain: (draft: ImagineRequest) => void;
}

export function JobCard({ job: initial, onUseAgain }: JobCardProps) {
  // The history's copy seeds the query; as old as it may be, a running job is asked about at once.
  const query = useQuery({ ...jobQueryOptions(initial.job_id), initialData: initial, initialDataUpdatedAt: 0 });
  const job = query.data;
  const finished = isTerminalStatus(job.status);
  const fatalError = query.error && !(query.error instanceof ApiError && query.error.retryable) ? query.error : null;
  const now = useNow(!finished && !fatalError);
  const cancel = useCancelJob();
  const remove = useDeleteJob();
  const retry = useSubmitJob();
  const [copied, setCopied] = useState(false);

  const startedAt = Date.parse(job.created_at);
  const elapsed = formatDuration((job.finished_at ? Date.parse(job.finished_at) : now) - startedAt);
  const draft: ImagineRequest = { prompt: job.prompt, aspect_ratio: job.aspect_ratio, quality: job.quality };
  const actionError = cancel.error ?? remove.error ?? retry.error;
  const lineage = actionLabel(job);

  async function copyPrompt() {
    await navigator.clipboard?.writeText(job.prompt);
    setCopied(true);
  }

  return (
    <article id={`job-${job.job_id}`} className={`job-card status-${job.status}`} aria-label={job.prompt}>
      <JobFrame job={job} />
      <div className="job-body">
        {lineage ? (
          <p className="job-lineage">
            {lineage}
            {job.parent_id ? (
              <>
                {' · '}
                <a href={`#job-${job.parent_id}`}>from this grid</a>
              </>
            ) : null}
          </p>
        ) : null}
        <p className="job-prompt" title={job.prompt}>
          {job.prompt}
        </p>
        <p className="job-meta">
          {job.aspect_ratio} · {job.quality} · {finished ? `took ${elapsed}` : `${elapsed} elapsed`}
        </p>
        <p className="job-status" role="status" aria-live="polite">
          {statusText(job, query.error, fatalError)}
        </p>
        {job.status === 'processing' && job.progress !== undefined ? (
          <progress className="job-progress" max={100} value={job.progress} aria-label="Generation progress">
            {job.progress}%
          </progress>
        ) : null}
        {job.status === 'complete' ? <GridActions job={job} /> : null}
        {actionError ? (
          <p className="form-error" role="alert">
            {actionError.message}
          </p>
        ) : null}
        <div className="job-actions">
          {job.status === 'complete' && job.image_url ? (
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
          {job.status === 'failed' || job.status === 'cancelled' || fatalError ? (
            <button type="button" onClick={() => retry.mutate(draft)} disabled={retry.isPending}>
              {retry.isPending ? 'Submitting…' : 'Try again'}
            </button>
          ) : null}
        </div>
        <div className="job-actions secondary">
          <button type="button" className="quiet" onClick={copyPrompt} aria-label="Copy prompt">
            {copied ? 'Copied' : 'Copy'}
          </button>
          <button
            type="button"
            className="quiet"
            onClick={() => onUseAgain(draft)}
            aria-label="Use again, with this prompt"
          >
            Use again
          </button>
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
