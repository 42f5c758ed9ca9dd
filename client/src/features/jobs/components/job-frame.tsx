// The image area of a card: sized by the job's aspect ratio before anything loads, so the
// page never jumps; a placeholder (or the upstream's preview) until the image has arrived;
// on a grid, the numbers of its four images. A describe job shows the image it describes, a
// finished video plays (muted, looping, its first frame as poster until it does).

import type { Job } from '@shared/schemas/job';
import { GRID_INDEXES } from '@shared/schemas/job-values';
import { useState } from 'react';

/** `onOpen`, where given, makes the finished image a button that opens the job (the viewer). */
export function JobFrame({ job, onOpen }: { job: Job; onOpen?: (() => void) | undefined }) {
  const [loaded, setLoaded] = useState(false);
  const [broken, setBroken] = useState(false);
  const described = job.kind === 'describe' ? job.references?.[0]?.url : undefined;
  const imageUrl = described ?? (job.status === 'complete' ? job.image_url : undefined);
  // A running job's low-resolution preview, where the upstream shows one; it sharpens as the
  // job goes on, and gives way to the real image.
  const previewUrl = !imageUrl && !isEnded(job) ? job.preview_url : undefined;
  const videoUrl = job.status === 'complete' ? job.video_url : undefined;
  const note = broken
    ? 'The image could not be loaded'
    : job.status === 'complete' || !isEnded(job) || described
      ? null
      : 'No image';
  const picture =
    imageUrl && !broken ? (
      <img
        src={imageUrl}
        alt={job.prompt}
        onLoad={() => setLoaded(true)}
        onError={() => setBroken(true)}
        decoding="async"
      />
    ) : null;
  return (
    <div
      className={`job-frame${loaded ? ' loaded' : ''}${described ? ' described' : ''}`}
      style={{ aspectRatio: job.aspect_ratio.replace(':', ' / ') }}
    >
      {videoUrl ? (
        <video
          src={videoUrl}
          poster={imageUrl}
          aria-label={job.prompt}
          controls
          muted
          loop
          playsInline
          preload="metadata"
        />
      ) : picture && onOpen ? (
        <button type="button" className="job-open" onClick={onOpen} title="Open in the viewer">
          {picture}
        </button>
      ) : (
        picture
      )}
      {loaded || previewUrl || videoUrl ? null : (
        <div className="job-placeholder" aria-hidden>
          {note}
        </div>
      )}
      {previewUrl && !loaded ? (
        <img className="job-preview" src={previewUrl} alt="" aria-hidden decoding="async" />
      ) : null}
      {/* On a grid with actions, the numbers U1-U4 and V1-V4 refer to, shown on hover/focus. */}
      {loaded && job.available_actions?.some((offer) => offer.index) ? (
        <ol className="grid-numbers" aria-hidden>
          {GRID_INDEXES.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

const isEnded = (job: Job) => job.status === 'failed' || job.status === 'cancelled';
