// The settings panel, as Midjourney's: model, stylize, chaos, weird, seed, quality, speed,
// raw and draft, with the shared table's labels, bounds and hints. Each control shows the
// prompt's value (else this browser's default, else Midjourney's) and sets it in the text.
// Loaded when the panel is first opened.
import {
  DEFAULT_MODEL,
  MODELS,
  type Model,
  PARAMS,
  type ParamDef,
  type PromptParams,
  SPEEDS,
} from '@shared/schemas/params-values';
import type { PanelKey, PromptReading } from '../utils/param-defaults';
import { NumberField } from './number-field';
import { SettingRow, type Source } from './setting-row';

type Kind = ParamDef['kind'];
const isKind = <K extends Kind>(def: ParamDef | undefined, kind: K): def is Extract<ParamDef, { kind: K }> =>
  def?.kind === kind;

function defOf<K extends Kind>(key: PanelKey, kind: K): Extract<ParamDef, { kind: K }> {
  const def = PARAMS.find((entry) => entry.key === key);
  if (!isKind(def, kind)) throw new Error(`The table has no ${kind} parameter ${key}`);
  return def;
}

const MODEL = defOf('model', 'model');
const SLIDERS = (['stylize', 'chaos', 'weird'] as const).map((key) => ({ key, def: defOf(key, 'int') }));
const SEED = defOf('seed', 'int');
const QUALITY = defOf('quality', 'choice');
const SPEED = defOf('speed', 'speed');
const FLAGS = (['raw', 'draft'] as const).map((key) => ({ key, def: defOf(key, 'flag') }));

const modelName = (model: Model) => (model.startsWith('niji') ? `Niji ${model.slice(5)}` : `V${model}`);
const costText = (factor: number | undefined) => (factor !== undefined && factor !== 1 ? ` (${factor}× cost)` : '');

interface PromptSettingsProps {
  reading: PromptReading;
  onChange: <K extends PanelKey>(key: K, value: PromptParams[K] | undefined) => void;
  onReset: () => void;
}

export function PromptSettings({ reading, onChange, onReset }: PromptSettingsProps) {
  const { effective } = reading;
  const model = effective.model ?? DEFAULT_MODEL;
  const sourceOf = (key: PanelKey): Source => {
    if (reading.parsed.params[key] !== undefined) return 'prompt';
    if (reading.extra[key] !== undefined) return 'default';
    return reading.defaults[key] !== undefined ? 'unused' : 'midjourney';
  };
  const row = { model };
  const qualities = QUALITY.valuesByModel[model];
  const quality = effective.quality ?? QUALITY.default;

  return (
    <section className="settings" aria-label="Settings">
      <p className="hint settings-intro">
        A setting applies to this prompt and is remembered in this browser for the next ones. What the prompt says wins.
      </p>
      <div className="settings-grid">
        <SettingRow def={MODEL} source={sourceOf('model')} {...row}>
          {(ids) => (
            <select
              id={ids.control}
              aria-describedby={ids.describedBy}
              value={model}
              onChange={(event) =>
                onChange(
                  'model',
                  MODELS.find((option) => option === event.target.value),
                )
              }
            >
              {MODELS.map((option) => (
                <option key={option} value={option}>
                  {modelName(option)}
                </option>
              ))}
            </select>
          )}
        </SettingRow>
        {SLIDERS.map(({ key, def }) => (
          <SettingRow key={key} def={def} source={sourceOf(key)} {...row}>
            {(ids, disabled) => {
              const value = effective[key] ?? def.default ?? def.min;
              return (
                <>
                  <input
                    id={ids.control}
                    type="range"
                    min={def.min}
                    max={def.max}
                    step={1}
                    value={value}
                    disabled={disabled}
                    aria-describedby={ids.describedBy}
                    onChange={(event) => onChange(key, Number(event.target.value))}
                  />
                  <output htmlFor={ids.control}>{value}</output>
                </>
              );
            }}
          </SettingRow>
        ))}
        <SettingRow def={SEED} source={sourceOf('seed')} {...row}>
          {(ids) => (
            <NumberField
              id={ids.control}
              className="seed"
              describedBy={ids.describedBy}
              value={effective.seed}
              min={SEED.min}
              max={SEED.max}
              step={1}
              placeholder="random"
              onChange={(value) => onChange('seed', value)}
            />
          )}
        </SettingRow>
        <SettingRow def={QUALITY} source={sourceOf('quality')} {...row}>
          {(ids) => (
            <select
              id={ids.control}
              aria-describedby={ids.describedBy}
              value={String(quality)}
              onChange={(event) => onChange('quality', Number(event.target.value))}
            >
              {/* A value this model refuses stays visible, so that the select never misstates the prompt. */}
              {(qualities.includes(quality) ? qualities : [quality, ...qualities]).map((value) => (
                <option key={value} value={String(value)}>
                  {value}
                  {qualities.includes(value)
                    ? costText(QUALITY.cost?.byValue?.[String(value)])
                    : ' (not for this model)'}
                </option>
              ))}
            </select>
          )}
        </SettingRow>
        <SettingRow def={SPEED} source={sourceOf('speed')} {...row}>
          {(ids) => (
            <select
              id={ids.control}
              aria-describedby={ids.describedBy}
              value={effective.speed ?? ''}
              onChange={(event) =>
                onChange(
                  'speed',
                  SPEEDS.find((speed) => speed === event.target.value),
                )
              }
            >
              <option value="">Your plan's mode</option>
              {SPEEDS.map((speed) => (
                <option key={speed} value={speed}>
                  {speed[0]?.toUpperCase()}
                  {speed.slice(1)}
                  {costText(SPEED.cost?.byValue?.[speed])}
                </option>
              ))}
            </select>
          )}
        </SettingRow>
        {FLAGS.map(({ key, def }) => (
          <SettingRow key={key} def={def} source={sourceOf(key)} labelAfter {...row}>
            {(ids, disabled) => (
              <input
                id={ids.control}
                type="checkbox"
                checked={effective[key] === true}
                disabled={disabled && effective[key] !== true}
                aria-describedby={ids.describedBy}
                onChange={(event) => onChange(key, event.target.checked ? true : undefined)}
              />
            )}
          </SettingRow>
        ))}
      </div>
      <button type="button" className="quiet settings-reset" onClick={onReset}>
        Reset to Midjourney's defaults
      </button>
    </section>
  );
}
