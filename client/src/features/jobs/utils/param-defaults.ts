// The settings panel's values a browser remembers, and how they meet a prompt: the text
// always wins; a remembered value the text does not set goes along as `params` when the
// prompt's model accepts it. Pure functions over the contract's grammar.

import type { ParamKey, PromptParams } from '@shared/schemas/params-values';
import type { ParsedPrompt } from '@shared/schemas/prompt-params';
import type { Contract } from '@/lib/api-client';

/** The parameters of the settings panel, which are the ones remembered. */
export const PANEL_KEYS = [
  'model',
  'stylize',
  'chaos',
  'weird',
  'seed',
  'quality',
  'speed',
  'raw',
  'draft',
] as const satisfies readonly ParamKey[];
export type PanelKey = (typeof PANEL_KEYS)[number];

export interface PromptReading {
  parsed: ParsedPrompt;
  /** The remembered defaults, checked against the table. */
  defaults: PromptParams;
  /** Those of them this prompt takes: what is sent as `params`. */
  extra: PromptParams;
  /** What the job will run with: the text's values, then the defaults'. */
  effective: PromptParams;
}

export function readPrompt(text: string, stored: unknown, contract: Contract): PromptReading {
  const parsed = contract.parsePrompt(text);
  const defaults = panelOnly(contract.validateParams(stored).params);
  const extra = applicableDefaults(defaults, parsed.params, contract.checkModel);
  return { parsed, defaults, extra, effective: { ...extra, ...parsed.params } };
}

const isPanelKey = (key: string): key is PanelKey => PANEL_KEYS.some((panelKey) => panelKey === key);

function panelOnly(params: PromptParams): PromptParams {
  const picked: PromptParams = {};
  for (const key of PANEL_KEYS) if (params[key] !== undefined) Object.assign(picked, { [key]: params[key] });
  return picked;
}

/**
 * The defaults the text leaves open, less those the model refuses: a default that clashes
 * with the prompt's model is dropped; if the text's own values clash only because of a
 * default model, that default model is dropped (the text is what the user wrote now).
 */
function applicableDefaults(
  defaults: PromptParams,
  given: PromptParams,
  checkModel: Contract['checkModel'],
): PromptParams {
  const extra: PromptParams = { ...defaults };
  for (const key of PANEL_KEYS) if (given[key] !== undefined) delete extra[key];
  for (let round = 0; round < 3; round++) {
    const clashes = checkModel({ ...extra, ...given }).map((issue) => issue.key ?? '');
    if (clashes.length === 0) break;
    const ours = clashes.filter(isPanelKey).filter((key) => extra[key] !== undefined);
    if (ours.length > 0) for (const key of ours) delete extra[key];
    else if (extra.model !== undefined) delete extra.model;
    else break;
  }
  return extra;
}
