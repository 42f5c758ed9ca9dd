// The buttons under a finished grid of four, as Midjourney users know them: U1-U4 upscale one
// image, V1-V4 make variations of one, and reroll draws a new grid. Only the actions the
// server's upstream supports are shown; each starts a new job linked to this one.
import type { GridActionRequest, Job } from '@shared/schemas/job';
import { GRID_INDEXES } from '@shared/schemas/job-values';
import { useGridAction } from '../api/act-on-job';

const PLACES = ['top left', 'top right', 'bottom left', 'bottom right'] as const;

/** The actions on one of the four images, as Midjourney labels them. */
const INDEXED = [
  { action: 'upscale', legend: 'Upscale', letter: 'U', does: 'upscale' },
  { action: 'variation', legend: 'Vary', letter: 'V', does: 'variations of' },
] as const;

export function GridActions({ job }: { job: Job }) {
  const act = useGridAction(job.job_id);
  const available = job.available_actions ?? [];
  if (available.length === 0) return null;
  const pending = act.isPending ? act.variables : undefined;
  const isPending = (request: GridActionRequest) =>
    pending?.action === request.action &&
    ('index' in request ? 'index' in pending && pending.index === request.index : true);

  // The accessible name starts with the visible label (U2, V3), then says what it does.
  const button = (request: GridActionRequest, label: string, description: string) => (
    <button
      key={label}
      type="button"
      onClick={() => act.mutate(request)}
      disabled={act.isPending}
      aria-label={description}
      title={description}
      aria-busy={isPending(request) || undefined}
    >
      {isPending(request) ? '…' : label}
    </button>
  );

  return (
    <div className="grid-actions">
      {INDEXED.filter(({ action }) => available.includes(action)).map(({ action, legend, letter, does }) => (
        <fieldset key={action}>
          <legend>{legend}</legend>
          {GRID_INDEXES.map((index) =>
            button(
              { action, index },
              `${letter}${index}`,
              `${letter}${index}, ${does} image ${index} (${PLACES[index - 1]})`,
            ),
          )}
        </fieldset>
      ))}
      {available.includes('reroll')
        ? button({ action: 'reroll' }, '↻ Reroll', 'Reroll: a new grid from the same prompt')
        : null}
      {act.error ? (
        <p className="form-error" role="alert">
          {act.error.message}
        </p>
      ) : null}
    </div>
  );
}

/** "Upscale of image 2", "Variations of image 3", "Reroll": what made this job. */
export function actionLabel(job: Job): string | undefined {
  switch (job.action) {
    case 'upscale':
      return `Upscale of image ${job.action_index ?? '?'}`;
    case 'variation':
      return `Variations of image ${job.action_index ?? '?'}`;
    case 'reroll':
      return 'Reroll';
    default:
      return undefined;
  }
}
