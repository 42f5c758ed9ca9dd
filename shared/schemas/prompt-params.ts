// Midjourney parameters in a prompt, against the table in params-values.ts: the parser, the
// printer, the validator of the JSON form, the model check and the cost. checkValue is the one
// place that judges a value, so a prompt and a JSON body are refused with the same words.
import {
  DEFAULT_MODEL,
  MODELS,
  type Model,
  PARAMS,
  type ParamDef,
  type ParamKey,
  type PromptParams,
  SPEEDS,
  UNSUPPORTED_HINTS,
} from './params-values';

/** `param` is the flag as the user wrote it (`--stylize`), or the JSON key in validateParams. */
export type ParamIssue = { param: string; key?: string; message: string };
export type ParsedPrompt = { text: string; imageUrls: string[]; params: PromptParams; issues: ParamIssue[] };
export type PromptParts = { text: string; imageUrls?: string[]; params: PromptParams };

// The rule imagine.ts guarded prompts with before this parser: `--` before a letter anywhere, a
// typographic or phone dash only where it starts a word, on the NFKC form without invisible
// format characters. Anything the guard would call a parameter must never stay in the text.
const PARAMETER = /(?:--|(?<![\p{L}\p{N}])[\u2010-\u2015\u2212\u2e3a\u2e3b])(\p{L}[\p{L}\p{N}]*)/gu;
const FORMAT_CHARS = /\p{Cf}/gu;
const URL_WORD = /^https?:\/\/[^\s/?#]+\S*$/i;
const WHOLE = /^\d+$/;
const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
const RATIO = /^([1-9]\d*):([1-9]\d*)$/;
const PROFILE_CODE = /^[a-z0-9]+$/i;

const BY_FLAG = new Map<string, ParamDef>(
  PARAMS.flatMap((def) => {
    const spellings = [def.flag, ...def.aliases];
    if (def.kind === 'flag' && def.alsoWritten) spellings.push(def.alsoWritten.flag);
    return spellings.map((flag): [string, ParamDef] => [flag, def]);
  }),
);
const BY_KEY = new Map<string, ParamDef>(PARAMS.map((def) => [def.key, def]));
const MODEL_DEF = PARAMS.find((def) => def.kind === 'model');

type Start = { at: number; nameEnd: number; flag: string };

// A character with its combining marks: NFKC composes only within such a run, so folding run by
// run finds exactly what folding the whole string finds ("a\u0301—b" is "á—b": no parameter).
const MARKED_RUN = /\P{M}\p{M}*|\p{M}+/gsu;

/**
 * Where parameters start, as offsets into the prompt as written, so that the text and the values
 * keep the user's characters.
 */
function parameterStarts(prompt: string): Start[] {
  let folded = '';
  const from: number[] = [];
  const to: number[] = [];
  let at = 0;
  for (const [run] of prompt.matchAll(MARKED_RUN)) {
    const fold = run.length === 1 && run < '\u0080' ? run : run.normalize('NFKC').replace(FORMAT_CHARS, '');
    for (let unit = 0; unit < fold.length; unit++) {
      from.push(at);
      to.push(at + run.length);
    }
    folded += fold;
    at += run.length;
  }
  return [...folded.matchAll(PARAMETER)].map((match) => ({
    at: from[match.index] ?? prompt.length,
    nameEnd: to[match.index + match[0].length - 1] ?? prompt.length,
    flag: `--${(match[1] ?? '').toLowerCase()}`,
  }));
}

const hasParameter = (value: string) => parameterStarts(value).length > 0;
/**
 * What no value may carry: braces (Midjourney expands `{a, b}` into one billed job per
 * combination), control characters and the bidi overrides that disguise text.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const UNPRINTABLE = /[{}\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const printableText = (value: string) => !UNPRINTABLE.test(value);
const isUrl = (value: string) => URL_WORD.test(value) && !hasParameter(value) && printableText(value);
const isModel = (value: unknown): value is Model => MODELS.some((model) => model === value);
const isSpeed = (value: unknown): value is (typeof SPEEDS)[number] => SPEEDS.some((speed) => speed === value);
const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

function orList(items: readonly (string | number)[]): string {
  const words = items.map(String);
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function modelsText(models: readonly Model[]): string {
  if (models.length === 1) return `model ${models[0]}`;
  return `models ${models.slice(0, -1).join(', ')} and ${models.at(-1)}`;
}

const modelSpelling = (model: Model) => (MODEL_DEF?.kind === 'model' ? MODEL_DEF.spellings[model] : `--v ${model}`);
const named = (def: ParamDef) => `${def.flag} (${def.label.toLowerCase()})`;

/** What a parameter accepts, in words, for the messages. */
function describe(def: ParamDef): string {
  switch (def.kind) {
    case 'int':
      return `a whole number from ${def.min} to ${def.max}`;
    case 'decimal':
      return `a number from ${def.min} to ${def.max}`;
    case 'choice': {
      const groups = new Map<string, Model[]>();
      for (const model of MODELS) {
        const values = orList(def.valuesByModel[model]);
        groups.set(values, [...(groups.get(values) ?? []), model]);
      }
      return [...groups].map(([values, models]) => `${values} with ${modelsText(models)}`).join('; ');
    }
    case 'flag':
      return 'no value';
    case 'ratio':
      return `W:H, whole numbers from ${def.min} to ${def.max} with the longer side at most ${def.maxElongation} times the shorter`;
    case 'words':
      return 'words or phrases to leave out, separated by commas';
    case 'refs':
      return def.item === 'style'
        ? 'one or more image URLs or style codes (digits), or random, separated by spaces'
        : 'profile codes (letters and digits), or nothing for your default profile';
    case 'url':
      return 'one image URL (http or https)';
    case 'model':
      return orList(MODELS.map((model) => def.spellings[model]));
    case 'speed':
      return 'no value';
  }
}

type Checked = { ok: true; value: unknown } | { ok: false; message: string };

/** The one judge of a value, whatever it came from; model-dependent rules are checkModel's. */
export function checkValue(def: ParamDef, value: unknown): Checked {
  const accepted = acceptedValue(def, value);
  return accepted === undefined
    ? { ok: false, message: `${named(def)} takes ${describe(def)}` }
    : { ok: true, value: accepted };
}

function acceptedValue(def: ParamDef, value: unknown): unknown {
  switch (def.kind) {
    case 'int':
      return Number.isInteger(value) && Number(value) >= def.min && Number(value) <= def.max ? value : undefined;
    case 'decimal':
      // Below 1e-6 JavaScript prints numbers as `1e-7`, which no prompt can carry.
      if (typeof value !== 'number' || !(value >= def.min && value <= def.max) || /e/i.test(String(value))) {
        return undefined;
      }
      return value === 0 ? 0 : value;
    case 'choice':
      return def.values.some((choice) => choice === value) ? value : undefined;
    case 'flag':
      return value === true ? true : undefined;
    case 'ratio': {
      const sides = typeof value === 'string' ? RATIO.exec(value) : null;
      if (!sides) return undefined;
      const [width, height] = [Number(sides[1]), Number(sides[2])];
      const fits = width <= def.max && height <= def.max;
      return fits && Math.max(width, height) <= def.maxElongation * Math.min(width, height) ? value : undefined;
    }
    case 'words': {
      if (!isStringList(value)) return undefined;
      const items = value.map((item) => item.trim());
      const printable = items.every(
        (item) => item !== '' && !item.includes(',') && !hasParameter(item) && printableText(item),
      );
      return printable && items.length > 0 ? items : undefined;
    }
    case 'refs': {
      if (!isStringList(value) || value.length < def.minItems) return undefined;
      const fits =
        def.item === 'style'
          ? (item: string) => isUrl(item) || WHOLE.test(item) || item === 'random'
          : (item: string) => PROFILE_CODE.test(item);
      return value.every(fits) ? [...value] : undefined;
    }
    case 'url':
      return typeof value === 'string' && isUrl(value) ? value : undefined;
    case 'model':
      return isModel(value) ? value : undefined;
    case 'speed':
      return isSpeed(value) ? value : undefined;
  }
}

/**
 * What the effective model (the params' own, else `fallback`) refuses: parameters it does not
 * accept and values only other models take. The values stay in the params: the conflict is
 * between two parameters, and which one to change is the user's call.
 */
export function checkModel(params: PromptParams, fallback: Model = DEFAULT_MODEL): ParamIssue[] {
  const model = params.model ?? fallback;
  const issues: ParamIssue[] = [];
  for (const def of PARAMS) {
    const value = params[def.key];
    if (value === undefined) continue;
    if (!def.models.includes(model)) {
      const message = `${def.flag} is for ${modelsText(def.models)} only; this prompt uses ${modelSpelling(model)}`;
      issues.push({ param: def.flag, key: def.key, message });
    } else if (def.kind === 'choice' && !def.valuesByModel[model].some((choice) => choice === value)) {
      const message = `${named(def)} takes ${orList(def.valuesByModel[model])} with ${modelsText([model])}`;
      issues.push({ param: def.flag, key: def.key, message });
    }
  }
  return issues;
}

// The table ties each key to its kind and checkValue returns that kind's type, which TypeScript
// cannot follow through a data table: this is the one place that trusts it.
function setParam(params: PromptParams, key: ParamKey, value: unknown): void {
  (params as Record<ParamKey, unknown>)[key] = value;
}

function unknownMessage(name: string, flag: string): string {
  const hint = UNSUPPORTED_HINTS[flag];
  return `${name} is not a supported parameter${hint ? `: ${hint}` : ''}`;
}

type Read = { candidate?: unknown; problem?: string };

/** Turns what follows a flag into a candidate value for checkValue, or says what is missing or extra. */
function readValue(def: ParamDef, flag: string, raw: string): Read {
  const words = raw.trim() === '' ? [] : raw.trim().split(/\s+/);
  const missing = `${named(def)} needs a value: ${describe(def)}`;
  const extra = (from: number, takes: string) =>
    `${named(def)} takes ${takes}; "${words.slice(from).join(' ')}" is not part of it`;
  const one = (toCandidate: (word: string) => unknown): Read => {
    const [first] = words;
    if (first === undefined) return { problem: missing };
    return { candidate: toCandidate(first), problem: words.length > 1 ? extra(1, 'one value') : undefined };
  };
  switch (def.kind) {
    case 'int':
      return one((word) => (WHOLE.test(word) ? Number(word) : Number.NaN));
    case 'decimal':
    case 'choice':
      return one((word) => (DECIMAL.test(word) ? Number(word) : Number.NaN));
    case 'ratio':
    case 'url':
      return one((word) => word);
    // No spelling matched: null, so that checkValue refuses it with the usual message.
    case 'model': {
      const head = Object.values(def.spellings).some((spelling) => spelling.startsWith(`${flag} `)) ? flag : def.flag;
      return one((word) => MODELS.find((model) => def.spellings[model] === `${head} ${word}`) ?? null);
    }
    case 'flag':
      if (def.alsoWritten && flag === def.alsoWritten.flag) {
        const { value } = def.alsoWritten;
        const exact = words.length === 1 && words[0]?.toLowerCase() === value;
        return {
          candidate: words[0]?.toLowerCase() === value ? true : undefined,
          problem: exact ? undefined : `${flag} takes only ${value} (the same as ${def.flag})`,
        };
      }
      return { candidate: true, problem: words.length > 0 ? extra(0, 'no value') : undefined };
    case 'speed': {
      const speed = SPEEDS.find((name) => def.spellings[name] === flag);
      return { candidate: speed ?? null, problem: words.length > 0 ? extra(0, 'no value') : undefined };
    }
    case 'words': {
      const items = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      return items.length > 0 ? { candidate: items } : { problem: missing };
    }
    case 'refs':
      return words.length < def.minItems ? { problem: missing } : { candidate: words };
  }
}

/** Leading http(s) URLs are image prompts; what follows, up to the parameters, is the text. */
function splitHead(head: string): { imageUrls: string[]; text: string } {
  const imageUrls: string[] = [];
  let rest = head.trimStart();
  for (let word = /^\S+/.exec(rest)?.[0]; word !== undefined && URL_WORD.test(word); word = /^\S+/.exec(rest)?.[0]) {
    imageUrls.push(word);
    rest = rest.slice(word.length).trimStart();
  }
  return { imageUrls, text: rest.trim() };
}

/**
 * Reads a prompt as Midjourney does: image URLs, text, then parameters to the end. Only values
 * that pass checkValue reach `params`; unknown parameters, bad values, repeats and words that
 * belong to no parameter are left out and reported. Model conflicts are reported and kept.
 */
export function parsePrompt(prompt: string): ParsedPrompt {
  const starts = parameterStarts(prompt);
  const { imageUrls, text } = splitHead(prompt.slice(0, starts[0]?.at ?? prompt.length));
  const params: PromptParams = {};
  const issues: ParamIssue[] = [];
  const writtenAs = new Map<string, string>();
  starts.forEach((start, index) => {
    const def = BY_FLAG.get(start.flag);
    if (!def) {
      issues.push({ param: start.flag, message: unknownMessage(start.flag, start.flag) });
      return;
    }
    const first = writtenAs.get(def.key);
    if (first !== undefined) {
      const message = `${start.flag}: ${def.label.toLowerCase()} is already set by ${first}; give it once`;
      issues.push({ param: start.flag, key: def.key, message });
      return;
    }
    writtenAs.set(def.key, start.flag);
    const raw = prompt.slice(start.nameEnd, starts[index + 1]?.at ?? prompt.length);
    const { candidate, problem } = readValue(def, start.flag, raw);
    if (problem !== undefined) issues.push({ param: start.flag, key: def.key, message: problem });
    if (candidate === undefined) return;
    const checked = checkValue(def, candidate);
    if (checked.ok) setParam(params, def.key, checked.value);
    else issues.push({ param: start.flag, key: def.key, message: checked.message });
  });
  for (const issue of checkModel(params))
    issues.push({ ...issue, param: writtenAs.get(issue.key ?? '') ?? issue.param });
  return { text, imageUrls, params, issues };
}

function printParam(def: ParamDef, value: unknown): string {
  switch (def.kind) {
    case 'flag':
      return value === true ? def.flag : '';
    case 'words':
      return isStringList(value) ? `${def.flag} ${value.join(', ')}` : '';
    case 'refs':
      return isStringList(value) ? [def.flag, ...value].join(' ') : '';
    case 'model':
      return isModel(value) ? def.spellings[value] : '';
    case 'speed':
      return isSpeed(value) ? def.spellings[value] : '';
    default:
      return `${def.flag} ${String(value)}`;
  }
}

/** Image URLs, text, then the parameters in table order with their canonical flags. */
export function printPrompt(parts: PromptParts): string {
  const words = [...(parts.imageUrls ?? []), parts.text.trim()];
  for (const def of PARAMS) {
    const value = parts.params[def.key];
    if (value !== undefined) words.push(printParam(def, value));
  }
  return words.filter((word) => word !== '').join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON spellings a form sends for "off" and for lists, turned into what checkValue reads. */
function fromJson(def: ParamDef, value: unknown): unknown {
  if (def.kind === 'flag' && value === false) return undefined;
  if (def.kind === 'refs' && def.minItems === 0 && typeof value === 'boolean') return value ? [] : undefined;
  if (def.kind === 'words' && typeof value === 'string') return value.split(',').filter((item) => item.trim() !== '');
  return value;
}

/**
 * Checks params as the JSON API receives them (keys as in the table), with the parser's
 * messages. `model` is the one to check against when the params name none.
 */
export function validateParams(input: unknown, model?: Model): { params: PromptParams; issues: ParamIssue[] } {
  if (!isRecord(input)) {
    return { params: {}, issues: [{ param: 'params', message: 'Parameters must be an object of names and values' }] };
  }
  const params: PromptParams = {};
  const issues: ParamIssue[] = [];
  for (const [key, raw] of Object.entries(input)) {
    const def = BY_KEY.get(key);
    if (!def) {
      issues.push({ param: key, key, message: unknownMessage(key, `--${key}`) });
      continue;
    }
    const candidate = raw === undefined ? undefined : fromJson(def, raw);
    if (candidate === undefined) continue;
    const checked = checkValue(def, candidate);
    if (checked.ok) setParam(params, def.key, checked.value);
    else issues.push({ param: def.flag, key: def.key, message: checked.message });
  }
  issues.push(...checkModel(params, model));
  return { params, issues };
}

/** The job's cost multiplier from its parameters: the product of each one's factor. */
export function paramCost(params: PromptParams): number {
  let cost = 1;
  for (const def of PARAMS) {
    const value = params[def.key];
    if (value === undefined || !def.cost) continue;
    // Draft mode does not apply to an omni reference: no discount for that job.
    if (def.key === 'draft' && params.oref !== undefined) continue;
    cost *= def.cost.byValue?.[String(value)] ?? def.cost.whenSet ?? 1;
  }
  return cost;
}

/** Whether the job costs more than one with no parameters (draft can cancel turbo out). */
export const raisesCost = (params: PromptParams): boolean => paramCost(params) > 1;

/**
 * What a UI control does: sets one parameter (or removes it, given undefined) and prints the
 * prompt back in canonical form. The text and image URLs stay; whatever the parser could not
 * use (unknown parameters, bad values, repeats, stray words) is left out rather than kept.
 * A value checkValue refuses is a bug in the control, so it throws.
 */
export function withParam<K extends ParamKey>(prompt: string, key: K, value: PromptParams[K] | undefined): string {
  const { text, imageUrls, params } = parsePrompt(prompt);
  const next: PromptParams = { ...params };
  if (value === undefined) {
    delete next[key];
  } else {
    const def = BY_KEY.get(key);
    if (!def) throw new RangeError(`${key} is not a parameter`);
    const checked = checkValue(def, value);
    if (!checked.ok) throw new RangeError(checked.message);
    setParam(next, key, checked.value);
  }
  return printPrompt({ text, imageUrls, params: next });
}
