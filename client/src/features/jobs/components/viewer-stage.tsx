// The viewer's picture: the image as large as the screen allows at its own aspect ratio, the
// video playing, a description's image, or how far the job has got. On a grid, its four
// images are buttons; the chosen one is marked. A horizontal drag of more than SWIPE_PX moves
// to the job before or after.
import type { Job } from '@shared/schemas/job';
import { GRID_INDEXES } from '@shared/schemas/job-values';
import { type CSSProperties, type PointerEvent, type ReactNode, useRef } from 'react';

export const SWIPE_PX = 50;

interface ViewerStageProps {
  job: Job;
  selected: number | undefined;
  onSelect: (index: number | undefined) => void;
  onSwipe: (direction: 'previous' | 'next') => void;
  children?: ReactNode;
}

export function ViewerStage({ job, selected, onSelect, onSwipe, children }: ViewerStageProps) {
  const start = useRef<{ x: number; y: number }>(undefined);
  // A drag that moved to another job is not also a click on the image it ended on.
  const swiped = useRef(false);

  function onPointerDown(event: PointerEvent) {
    // A drag on a video is its controls' (seeking, the volume), not a swipe.
    if (event.target instanceof HTMLVideoElement || event.isPrimary === false) return;
    start.current = { x: event.clientX, y: event.clientY };
    swiped.current = false;
  }

  function onPointerUp(event: PointerEvent) {
    const from = start.current;
    start.current = undefined;
    if (!from) return;
    const dx = event.clientX - from.x;
    if (Math.abs(dx) <= SWIPE_PX || Math.abs(dx) <= Math.abs(event.clientY - from.y)) return;
    swiped.current = true;
    onSwipe(dx < 0 ? 'next' : 'previous');
  }

  return (
    // The swipe is a pointer's shortcut for the Previous and Next buttons and the arrow keys.
    <div
      className="viewer-stage"
      onPointerDown={onPointerDown}
      onPointerUp={onPointerUp}
      onPointerCancel={() => {
        start.current = undefined;
      }}
      onClickCapture={(event) => {
        if (!swiped.current) return;
        swiped.current = false;
        event.stopPropagation();
      }}
    >
      <Media job={job} selected={selected} onSelect={onSelect} />
      {children}
    </div>
  );
}

function Media({ job, selected, onSelect }: Pick<ViewerStageProps, 'job' | 'selected' | 'onSelect'>) {
  const [width = 1, height = 1] = job.aspect_ratio.split(':').map(Number);
  // As large as the stage (a size container) allows, at the job's own shape.
  const shape: CSSProperties = {
    aspectRatio: `${width} / ${height}`,
    width: `min(100cqw, 100cqh * ${(width / height).toFixed(4)})`,
  };
  const complete = job.status === 'complete';
  const described = job.kind === 'describe' ? job.references?.[0]?.url : undefined;

  if (complete && job.video_url) {
    return (
      <div className="viewer-media" style={shape}>
        {/* Muted, as browsers let only a muted video start by itself; its controls unmute it. */}
        <video
          className="viewer-picture"
          src={job.video_url}
          poster={job.image_url}
          aria-label={job.prompt}
          controls
          autoPlay
          muted
          loop
          playsInline
        />
      </div>
    );
  }
  const image = described ?? (complete ? job.image_url : undefined);
  if (!image) {
    return (
      <div className="viewer-media viewer-waiting" style={shape}>
        {job.preview_url && !complete ? (
          <img className="viewer-picture viewer-preview" src={job.preview_url} alt="" />
        ) : null}
        <p>{waitingText(job)}</p>
      </div>
    );
  }
  const grid = job.output === 'grid' && !described;
  return (
    <div className={`viewer-media${grid ? ' viewer-grid' : ''}`} style={shape} data-selected={selected}>
      <img className="viewer-picture" src={image} alt={job.prompt} decoding="async" />
      {grid ? (
        <fieldset className="viewer-quadrants">
          <legend className="visually-hidden">The grid's four images (keys 1 to 4)</legend>
          {GRID_INDEXES.map((index) => (
            <button
              key={index}
              type="button"
              className="viewer-quadrant"
              aria-label={`Image ${index}`}
              aria-pressed={selected === index}
              onClick={() => onSelect(selected === index ? undefined : index)}
            >
              <span aria-hidden="true">{index}</span>
            </button>
          ))}
        </fieldset>
      ) : null}
    </div>
  );
}

function waitingText(job: Job): string {
  switch (job.status) {
    case 'queued':
    case 'pending':
      return 'Waiting to start…';
    case 'processing':
      return job.progress !== undefined ? `Generating… ${Math.round(job.progress)}%` : 'Generating…';
    case 'failed':
      return `Failed: ${job.error ?? 'the upstream gave no reason'}`;
    case 'cancelled':
      return 'Cancelled';
    case 'complete':
      return job.kind === 'describe' ? 'A description' : 'No image';
  }
}
