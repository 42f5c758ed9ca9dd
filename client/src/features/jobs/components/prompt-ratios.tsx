// The aspect-ratio row under the prompt: the common ratios as radios, the others in a select,
// and any W:H typed in. It shows the ratio the text says and changes it through the text.
import { ASPECT_RATIOS } from '@shared/schemas/imagine-values';
import { type KeyboardEvent, useId, useState } from 'react';

const MAIN_RATIOS: readonly string[] = ['1:1', '16:9', '4:3', '9:16'];
const MORE_RATIOS: readonly string[] = ASPECT_RATIOS.filter((ratio) => !MAIN_RATIOS.includes(ratio));
const LISTED: readonly string[] = ASPECT_RATIOS;

interface PromptRatiosProps {
  ratio: string;
  onChange: (ratio: string) => void;
  /** Why a typed ratio cannot be used, if it cannot. */
  check: (ratio: string) => string | undefined;
  disabled: boolean;
}

export function PromptRatios({ ratio, onChange, check, disabled }: PromptRatiosProps) {
  // What is being typed into the W:H field, until it is applied (Enter or leaving the field).
  const [typed, setTyped] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | undefined>();
  const problemId = useId();

  function applyTyped() {
    if (typed === null) return;
    const value = typed.trim();
    const issue = value === '' ? undefined : check(value);
    setProblem(issue);
    if (issue) return;
    setTyped(null);
    onChange(value === '' ? '1:1' : value);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key !== 'Enter') return;
    // Enter applies the ratio here; it does not send the form.
    event.preventDefault();
    applyTyped();
  }

  return (
    <fieldset className="ratios" disabled={disabled}>
      <legend>Aspect ratio</legend>
      {MAIN_RATIOS.map((option) => (
        <label key={option} className="ratio">
          <input
            type="radio"
            name="aspect_ratio"
            value={option}
            checked={ratio === option}
            onChange={() => onChange(option)}
          />
          <span className="ratio-shape" style={{ aspectRatio: option.replace(':', ' / ') }} aria-hidden />
          {option}
        </label>
      ))}
      <select
        aria-label="More aspect ratios"
        value={MORE_RATIOS.includes(ratio) ? ratio : ''}
        onChange={(event) => {
          if (event.target.value) onChange(event.target.value);
        }}
      >
        <option value="">More…</option>
        {MORE_RATIOS.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
      <input
        className="ratio-custom"
        aria-label="Custom aspect ratio (W:H)"
        placeholder="W:H"
        size={7}
        value={typed ?? (LISTED.includes(ratio) ? '' : ratio)}
        onChange={(event) => setTyped(event.target.value)}
        onBlur={applyTyped}
        onKeyDown={onKeyDown}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? problemId : undefined}
      />
      {problem ? (
        <span id={problemId} className="field-error" role="alert">
          {problem}
        </span>
      ) : null}
    </fieldset>
  );
}
