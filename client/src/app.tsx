// The page: the prompt form above the list of this tab's jobs.
import { useState } from 'react';
import { useSubmitJob } from './features/jobs/api/submit-job';
import { JobList } from './features/jobs/components/job-list';
import { PromptForm } from './features/jobs/components/prompt-form';
import type { SubmittedJob } from './features/jobs/submitted-job';

export function App() {
  const [jobs, setJobs] = useState<SubmittedJob[]>([]);
  const retry = useSubmitJob();
  const [retryingId, setRetryingId] = useState<string | null>(null);

  const add = (job: SubmittedJob) => setJobs((current) => [job, ...current]);
  const dismiss = (job: SubmittedJob) => setJobs((current) => current.filter((item) => item.jobId !== job.jobId));
  const retryJob = (job: SubmittedJob) => {
    setRetryingId(job.jobId);
    retry.mutate(
      { prompt: job.prompt, aspect_ratio: job.aspectRatio, quality: job.quality },
      {
        onSuccess: (answer) =>
          setJobs((current) =>
            current.map((item) =>
              item.jobId === job.jobId ? { ...job, jobId: answer.job_id, submittedAt: Date.now() } : item,
            ),
          ),
        onSettled: () => setRetryingId(null),
      },
    );
  };

  return (
    <div className="shell">
      <header className="top">
        <h1>mj-studio</h1>
        <p className="tagline">Midjourney through your own server</p>
      </header>
      <main>
        <PromptForm onSubmitted={add} />
        {retry.error ? (
          <p className="form-error" role="alert">
            Could not resubmit: {retry.error.message}
          </p>
        ) : null}
        <JobList jobs={jobs} retryingId={retryingId} onRetry={retryJob} onDismiss={dismiss} />
      </main>
    </div>
  );
}
