// The jobs submitted in this tab, newest first; each card polls on its own.
import type { SubmittedJob } from '../submitted-job';
import { JobCard } from './job-card';

interface JobListProps {
  jobs: SubmittedJob[];
  retryingId: string | null;
  onRetry: (job: SubmittedJob) => void;
  onDismiss: (job: SubmittedJob) => void;
}

export function JobList({ jobs, retryingId, onRetry, onDismiss }: JobListProps) {
  if (jobs.length === 0) {
    return <p className="empty">Your images will appear here. Describe one above to start.</p>;
  }
  return (
    <section className="job-list" aria-label="Generated images">
      {jobs.map((job) => (
        <JobCard
          key={job.jobId}
          job={job}
          onRetry={onRetry}
          onDismiss={onDismiss}
          retrying={retryingId === job.jobId}
        />
      ))}
    </section>
  );
}
