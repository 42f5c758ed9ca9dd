// One job's card: tracks its job through the polling query and shows every state:
// waiting, generating with progress, finished image, upstream failure, connection trouble.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { isTerminalStatus, type JobResponse } from '../../../../../shared/schemas/job';
import { ApiError } from '../../../lib/api-client';
import { jobQueryOptions } from '../api/get-job';
import { formatDuration, useNow } from '../hooks/use-now';
import type { SubmittedJob } from '../submitted-job';

interface JobCardProps {
  job: SubmittedJob;
  onRetry: (job: SubmittedJob) => void;
  onDismiss: (job: SubmittedJob) => void;
  retrying?: boolean;
}

export function JobCard({ job, onRetry, onDismiss, retrying = false }: JobCardProps) {
  const query = useQuery(jobQueryOptions(job.jobId));
  const data = query.data;
  const finished = data ? isTerminalStatus(data.status) : false;
  const fatalError = query.error && !(query.error instanceof ApiError && query.error.retryable) ? query.error : null;
  const running = !finished && !fatalError;
  const now = useNow(running);
  const endedAt = finished ? query.dataUpdatedAt : now;
  const elapsed = formatDuration(endedAt - job.submittedAt);

  return (
    <article className={`job-card status-${data?.status ?? 'pending'}`} aria-label={job.prompt}>
      <JobFrame job={job} data={data} />
      <div className="job-body">
        <p className="job-prompt" title={job.prompt}>
          {job.prompt}
        </p>
        <p className="job-meta">
          {job.aspectRatio} · {job.quality} · {finished ? `took ${elapsed}` : `${elapsed} elapsed`}
        </p>
        <p className="job-status" role="status" aria-live="polite">
          {statusText(data, query.error, fatalError)}
        </p>
        {data?.status === 'processing' && data.progress !== undefined ? (
          <progress className="job-progress" max={100} value={data.progress} aria-label="Generation progress">
            {data.progress}%
          </progress>
        ) : null}
        <div className="job-actions">
          {data?.status === 'complete' && data.image_url ? (
            <a href={data.image_url} target="_blank" rel="noopener">
              Open full size
            </a>
          ) : null}
          {data?.status === 'failed' || fatalError ? (
            <button type="button" onClick={() => onRetry(job)} disabled={retrying}>
              {retrying ? 'Submitting…' : 'Try again'}
            </button>
          ) : null}
          <button type="button" className="quiet" onClick={() => onDismiss(job)} aria-label="Remove from list">
            Remove
          </button>
        </div>
      </div>
    </article>
  );
}

function JobFrame({ job, data }: { job: SubmittedJob; data: JobResponse | undefined }) {
  const [loaded, setLoaded] = useState(false);
  const [broken, setBroken] = useState(false);
  const ratio = job.aspectRatio.replace(':', ' / ');
  const imageUrl = data?.status === 'complete' ? data.image_url : undefined;
  return (
    <div className={`job-frame${loaded ? ' loaded' : ''}`} style={{ aspectRatio: ratio }}>
      {imageUrl && !broken ? (
        <img
          src={imageUrl}
          alt={job.prompt}
          onLoad={() => setLoaded(true)}
          onError={() => setBroken(true)}
          decoding="async"
        />
      ) : null}
      {!loaded ? (
        <div className="job-placeholder" aria-hidden>
          {broken ? 'The image could not be loaded' : data?.status === 'failed' ? 'No image' : null}
        </div>
      ) : null}
    </div>
  );
}

function statusText(data: JobResponse | undefined, error: Error | null, fatalError: Error | null): string {
  if (fatalError) return fatalError.message;
  if (error instanceof ApiError) {
    const wait = error.code === 'rate_limited' && error.retryAfterS ? ` Checking again in ${error.retryAfterS} s.` : '';
    return `${error.message}${wait || ' Retrying…'}`;
  }
  switch (data?.status) {
    case undefined:
      return 'Checking status…';
    case 'pending':
      return 'Waiting in the upstream queue…';
    case 'processing':
      return data.progress !== undefined ? `Generating… ${Math.round(data.progress)}%` : 'Generating…';
    case 'complete':
      return 'Done';
    case 'failed':
      return `Failed: ${data.error ?? 'the upstream gave no reason'}`;
  }
}
