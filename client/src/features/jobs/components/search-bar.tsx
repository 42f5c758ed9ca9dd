// Above the gallery: the search box (words of the prompt, sent a moment after typing stops,
// or at once on Enter), the "Filters" toggle with its panel (a chunk of its own) and Clear.
import { SEARCH_MAX_LENGTH } from '@shared/schemas/job-values';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useLazyModule } from '@/lib/lazy-module';
import type { GalleryView } from '../hooks/use-gallery-view';
import { isFiltered, type JobFilter, panelFilterCount } from '../utils/job-filter';
import { filterPanelChunk } from './gallery-chunks';

/** How long the search box waits after the last keystroke before it searches. */
export const SEARCH_DEBOUNCE_MS = 250;

interface SearchBarProps {
  filter: JobFilter;
  onChange: GalleryView['setFilter'];
}

export function SearchBar({ filter, onChange }: SearchBarProps) {
  const [text, setText] = useState(filter.q ?? '');
  // Words that arrive from elsewhere (Back, Clear, a bookmark) replace what the box shows.
  const [shown, setShown] = useState(filter.q);
  if (filter.q !== shown) {
    setShown(filter.q);
    setText(filter.q ?? '');
  }
  const count = panelFilterCount(filter);
  const [open, setOpen] = useState(count > 0);
  const panelId = useId();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (text === (filter.q ?? '')) return;
    const timer = setTimeout(() => onChange({ ...filter, q: text }, { typing: true }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, filter, onChange]);

  function search(event: FormEvent) {
    event.preventDefault();
    if (text !== (filter.q ?? '')) onChange({ ...filter, q: text }, { typing: true });
  }

  function clear() {
    setText('');
    onChange({});
    // The button goes with the filters it cleared; the search box is where the reader goes on.
    input.current?.focus();
  }

  const preload = () => void filterPanelChunk.load().catch(() => undefined);

  return (
    <div className="gallery-search">
      {/* biome-ignore lint/a11y/useSemanticElements: <search> is unknown to Safari before 17 (and to jsdom). */}
      <form role="search" aria-label="Search your images" className="search-row" onSubmit={search}>
        <input
          ref={input}
          type="search"
          className="search-box"
          aria-label="Search prompts"
          placeholder="Search prompts"
          maxLength={SEARCH_MAX_LENGTH}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <button
          type="button"
          className="filters-toggle"
          aria-expanded={open}
          aria-controls={open ? panelId : undefined}
          onClick={() => setOpen(!open)}
          onPointerEnter={preload}
          onFocus={preload}
        >
          Filters{count > 0 ? ` (${count})` : ''}
        </button>
        {isFiltered(filter) || text.trim() ? (
          <button type="button" className="quiet" onClick={clear}>
            Clear
          </button>
        ) : null}
      </form>
      {open ? <LazyFilterPanel id={panelId} filter={filter} onChange={onChange} /> : null}
    </div>
  );
}

function LazyFilterPanel({ id, ...props }: SearchBarProps & { id: string }) {
  const FilterPanel = useLazyModule(filterPanelChunk)?.FilterPanel;
  return FilterPanel ? (
    <FilterPanel id={id} {...props} />
  ) : (
    <p id={id} className="filter-panel loading">
      Loading filters…
    </p>
  );
}
