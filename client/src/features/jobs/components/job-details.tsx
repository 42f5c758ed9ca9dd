// What a card says about how its job was made: the effective parameters in one line (as a
// prompt writes them), the images it used in their roles, the prompt as the upstream ran it,
// and, for a finished describe job, its candidate prompts, each ready to use.
import type { Job } from '@shared/schemas/job';
import { useId } from 'react';
import type { Contract } from '@/lib/api-client';
import { ROLE_LABELS } from '../utils/tray-image';

interface JobDetailsProps {
  job: Job;
  printPrompt: Contract['printPrompt'];
  onUsePrompt: (prompt: string) => void;
}

export function JobDetails({ job, printPrompt, onUsePrompt }: JobDetailsProps) {
  const id = useId();
  const params = printPrompt({ text: '', params: job.params });
  // A describe job's one image is its picture (job-frame.tsx).
  const references = job.kind === 'describe' ? [] : (job.references ?? []);
  const descriptions = job.kind === 'describe' && job.status === 'complete' ? (job.descriptions ?? []) : [];
  return (
    <>
      {params ? (
        <p className="job-params">
          <code>{params}</code>
        </p>
      ) : null}
      {references.length > 0 ? (
        <ul className="job-refs" aria-label="Images used">
          {references.map((reference, index) => (
            <li key={`${reference.role}:${reference.upload_id ?? reference.job_id ?? reference.url}`}>
              <img
                className="job-ref-thumb"
                src={reference.url}
                alt={`${ROLE_LABELS[reference.role]} ${index + 1}`}
                decoding="async"
              />
              <span>{ROLE_LABELS[reference.role]}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {job.final_prompt ? (
        <details className="job-final">
          <summary>Prompt as run</summary>
          <p>{job.final_prompt}</p>
        </details>
      ) : null}
      {descriptions.length > 0 ? (
        <ol className="job-descriptions" aria-label="Prompts for this image">
          {descriptions.map((description, index) => (
            // The upstream's four answers, in its order; two may read the same.
            // biome-ignore lint/suspicious/noArrayIndexKey: the place is the identity here.
            <li key={index}>
              <p id={`${id}-${index}`}>{description}</p>
              <button type="button" onClick={() => onUsePrompt(description)} aria-describedby={`${id}-${index}`}>
                Use this prompt
              </button>
            </li>
          ))}
        </ol>
      ) : null}
    </>
  );
}
