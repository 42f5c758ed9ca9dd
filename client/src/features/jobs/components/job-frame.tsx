// The image area of a card: sized by the job's aspect ratio before anything loads, so the
// page never jumps; a placeholder until the image has arrived.
import { useState } from 'react';
import type { Job } from '../../../../../shared/schemas/job';

export function JobFrame({ job }: { job: Job }) {
  const [loaded, setLoaded] = useState(false);
  const [broken, setBroken] = useState(false);
  const imageUrl = job.status === 'complete' ? job.image_url : undefined;
  const note = broken
    ? 'The image could not be loaded'
    : job.status === 'complete' || !isEnded(job)
      ? null
      : 'No image';
  return (
    <div
      className={`job-frame${loaded ? ' loaded' : ''}`}
      style={{ aspectRatio: job.aspect_ratio.replace(':', ' / ') }}
    >
      {imageUrl && !broken ? (
        <img
          src={imageUrl}
          alt={job.prompt}
          onLoad={() => setLoaded(true)}
          onError={() => setBroken(true)}
          decoding="async"
        />
      ) : null}
      {loaded ? null : (
        <div className="job-placeholder" aria-hidden>
          {note}
        </div>
      )}
    </div>
  );
}

const isEnded = (job: Job) => job.status === 'failed' || job.status === 'cancelled';
