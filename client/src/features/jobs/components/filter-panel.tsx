// The gallery's filters, a chunk of its own (gallery-chunks.ts): status, what a job made, some
// parameters it used, its aspect ratio, the days it was made, favourites only. Each change
// is a new view, with its own history entry (use-gallery-view.ts).
import { ASPECT_RATIOS } from '@shared/schemas/imagine-values';
import { JOB_OUTPUTS, JOB_STATUSES, type JobOutput, type JobStatus } from '@shared/schemas/job-values';
import { useId } from 'react';
import { FILTER_PARAMS, type FilterParam, type JobFilter } from '../utils/job-filter';

const STATUS_LABELS: Record<JobStatus, string> = {
  queued: 'Queued',
  pending: 'Waiting',
  processing: 'Generating',
  complete: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const OUTPUT_LABELS: Record<JobOutput, string> = {
  grid: 'Grids',
  image: 'Single images',
  video: 'Videos',
  text: 'Descriptions',
};

const PARAM_LABELS: Record<FilterParam, string> = {
  sref: 'Style reference (--sref)',
  oref: 'Omni reference (--oref)',
  tile: 'Tile (--tile)',
  raw: 'Raw (--raw)',
  seed: 'Seed (--seed)',
};

const toggled = <T,>(list: readonly T[] | undefined, value: T, on: boolean): T[] =>
  on ? [...(list ?? []), value] : (list ?? []).filter((item) => item !== value);

interface FilterPanelProps {
  id: string;
  filter: JobFilter;
  onChange: (filter: JobFilter) => void;
}

export function FilterPanel({ id, filter, onChange }: FilterPanelProps) {
  const set = (patch: Partial<JobFilter>) => onChange({ ...filter, ...patch });
  const rangeNote = useId();
  // A typed date can get past the pickers' min and max.
  const backwards = filter.from !== undefined && filter.to !== undefined && filter.to < filter.from;
  // A ratio from a bookmark that the form does not offer is still shown as chosen.
  const offered: readonly string[] = ASPECT_RATIOS;
  const ratios = filter.ar && !offered.includes(filter.ar) ? [...offered, filter.ar] : offered;

  return (
    <div id={id} className="filter-panel">
      <Checkboxes
        legend="Status"
        values={JOB_STATUSES}
        labels={STATUS_LABELS}
        chosen={filter.status}
        onToggle={(value, on) => set({ status: toggled(filter.status, value, on) })}
      />
      <Checkboxes
        legend="Shows"
        values={JOB_OUTPUTS}
        labels={OUTPUT_LABELS}
        chosen={filter.output}
        onToggle={(value, on) => set({ output: toggled(filter.output, value, on) })}
      />
      <Checkboxes
        legend="Made with"
        values={FILTER_PARAMS}
        labels={PARAM_LABELS}
        chosen={filter.param}
        onToggle={(value, on) => set({ param: toggled(filter.param, value, on) })}
      />
      <fieldset className="filter-group">
        <legend>Made</legend>
        <label className="filter-field">
          From
          <input
            type="date"
            value={filter.from ?? ''}
            max={filter.to}
            onChange={(event) => set({ from: event.target.value || undefined })}
          />
        </label>
        <label className="filter-field">
          To
          <input
            type="date"
            value={filter.to ?? ''}
            min={filter.from}
            aria-invalid={backwards || undefined}
            aria-describedby={backwards ? rangeNote : undefined}
            onChange={(event) => set({ to: event.target.value || undefined })}
          />
        </label>
        {backwards ? (
          <span id={rangeNote} className="field-error">
            “To” is before “From”: no image can match.
          </span>
        ) : null}
      </fieldset>
      <div className="filter-group">
        <label className="filter-field">
          Aspect ratio
          <select value={filter.ar ?? ''} onChange={(event) => set({ ar: event.target.value || undefined })}>
            <option value="">Any</option>
            {ratios.map((ratio) => (
              <option key={ratio} value={ratio}>
                {ratio}
              </option>
            ))}
          </select>
        </label>
        <label className="filter-check">
          <input
            type="checkbox"
            checked={filter.favourite === true}
            onChange={(event) => set({ favourite: event.target.checked || undefined })}
          />
          Favourites only
        </label>
      </div>
    </div>
  );
}

interface CheckboxesProps<T extends string> {
  legend: string;
  values: readonly T[];
  labels: Record<T, string>;
  chosen: readonly T[] | undefined;
  onToggle: (value: T, on: boolean) => void;
}

function Checkboxes<T extends string>({ legend, values, labels, chosen, onToggle }: CheckboxesProps<T>) {
  return (
    <fieldset className="filter-group">
      <legend>{legend}</legend>
      {values.map((value) => (
        <label key={value} className="filter-check">
          <input
            type="checkbox"
            checked={chosen?.includes(value) ?? false}
            onChange={(event) => onToggle(value, event.target.checked)}
          />
          {labels[value]}
        </label>
      ))}
    </fieldset>
  );
}
