// The viewer's star: marks the job as a favourite or unmarks it, at once, and says so if the
// server refused (the star has turned back by then: set-favourite.ts).
import type { Job } from '@shared/schemas/job';
import { useSetFavourite } from '../api/set-favourite';

export function FavouriteButton({ job }: { job: Job }) {
  const favourite = useSetFavourite(job.job_id);
  const on = job.favourite;

  return (
    <>
      <button
        type="button"
        className="favourite-toggle"
        aria-pressed={on}
        // Not `disabled`: a focused button that is disabled drops the focus out of the viewer.
        aria-disabled={favourite.isPending || undefined}
        onClick={() => {
          if (!favourite.isPending) favourite.mutate(!on);
        }}
      >
        <span aria-hidden="true">{on ? '★' : '☆'}</span> Favourite
      </button>
      {favourite.isError ? (
        <p className="form-error" role="alert">
          Could not {favourite.variables ? 'mark' : 'unmark'} it as a favourite: {favourite.error.message}
        </p>
      ) : null}
    </>
  );
}
