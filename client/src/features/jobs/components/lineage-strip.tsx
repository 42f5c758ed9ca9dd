// In the viewer, a job's family as small thumbnails: the jobs it was made from (the oldest
// first) and those made from it, each labelled with how it was made and opened in the viewer
// on activation. Each thumbnail follows its job (polling while it runs, as a card does).
import type { Job } from '@shared/schemas/job';
import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { jobQueryOptions } from '../api/get-job';
import { lineageQueryOptions } from '../api/get-lineage';
import { actionLabel } from './job-actions';

interface LineageStripProps {
  jobId: string;
  onOpen: (jobId: string) => void;
}

export function LineageStrip({ jobId, onOpen }: LineageStripProps) {
  const lineage = useQuery(lineageQueryOptions(jobId));
  if (lineage.isError) return <p className="viewer-note">Could not load the images related to this one.</p>;
  if (!lineage.data) return null;
  const { ancestors, children } = lineage.data;
  if (ancestors.length === 0 && children.length === 0) return null;
  return (
    <nav className="lineage" aria-label="Related images">
      {ancestors.length > 0 ? <Family title="Made from" jobs={ancestors} onOpen={onOpen} /> : null}
      {children.length > 0 ? <Family title="Made from this" jobs={children} onOpen={onOpen} /> : null}
    </nav>
  );
}

function Family({ title, jobs, onOpen }: { title: string; jobs: Job[]; onOpen: (jobId: string) => void }) {
  const heading = useId();
  return (
    <section className="lineage-family" aria-labelledby={heading}>
      <h3 id={heading}>{title}</h3>
      <ul>
        {jobs.map((job) => (
          <li key={job.job_id}>
            <Thumbnail initial={job} onOpen={onOpen} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function Thumbnail({ initial, onOpen }: { initial: Job; onOpen: (jobId: string) => void }) {
  const { data: job } = useQuery({ ...jobQueryOptions(initial.job_id), initialData: initial, initialDataUpdatedAt: 0 });
  const image = job.status === 'complete' ? job.image_url : undefined;
  return (
    <button type="button" className="lineage-item" onClick={() => onOpen(job.job_id)} title={job.prompt}>
      {image ? (
        <img className="lineage-thumb" src={image} alt="" loading="lazy" decoding="async" />
      ) : (
        <span className="lineage-placeholder" aria-hidden="true" />
      )}
      <span>{actionLabel(job) ?? originOf(job)}</span>
    </button>
  );
}

/** What a job made without an action is: the first grid of a prompt, a blend, a description. */
function originOf(job: Job): string {
  if (job.kind === 'blend') return 'Blend';
  if (job.kind === 'describe') return 'Description';
  return job.output === 'grid' ? 'Grid' : 'Image';
}
