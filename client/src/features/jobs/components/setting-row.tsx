// One row of the settings panel: the parameter's label and hint from the shared table, where
// its value comes from (the prompt, this browser's defaults, Midjourney), and its control.
import type { Model, ParamDef } from '@shared/schemas/params-values';
import { type ReactNode, useId } from 'react';

export type Source = 'prompt' | 'default' | 'unused' | 'midjourney';

const SOURCE_TEXT: Record<Exclude<Source, 'midjourney'>, string> = {
  prompt: 'in the prompt',
  default: 'your default',
  unused: 'your default, not for this model',
};

export interface ControlIds {
  control: string;
  describedBy: string;
}

interface SettingRowProps {
  def: ParamDef;
  source: Source;
  model: Model;
  /** Labels come before controls, except for a checkbox's. */
  labelAfter?: boolean;
  children: (ids: ControlIds, disabled: boolean) => ReactNode;
}

export function SettingRow({ def, source, model, labelAfter = false, children }: SettingRowProps) {
  const ids = { control: useId(), hint: useId(), source: useId() };
  const unavailable = !def.models.includes(model);
  const hint = unavailable ? `${def.hint}. For model ${def.models.join(', ')} only.` : def.hint;
  const sourceText =
    source === 'midjourney' ? (hasDefault(def) ? "Midjourney's default" : 'not set') : SOURCE_TEXT[source];
  const label = (
    <label htmlFor={ids.control} className="setting-label">
      {def.label} <span className="setting-flag">{def.flag}</span>
    </label>
  );
  return (
    <div className={`setting${labelAfter ? ' setting-flag-row' : ''}`}>
      {labelAfter ? null : label}
      <div className="setting-control">
        {children({ control: ids.control, describedBy: `${ids.source} ${ids.hint}` }, unavailable)}
        {labelAfter ? label : null}
      </div>
      <span id={ids.source} className={`setting-source source-${source}`}>
        {sourceText}
      </span>
      <small id={ids.hint} className="hint setting-hint">
        {hint}
      </small>
    </div>
  );
}

const hasDefault = (def: ParamDef) => 'default' in def && def.default !== undefined;
