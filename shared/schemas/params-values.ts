// The one table of Midjourney prompt parameters: spellings, value bounds, defaults, the models
// that accept each and what it does to the cost. Plain data with no imports, so the browser can
// use it before it loads zod; prompt-params.ts parses, prints and checks prompts against it.

export const MODELS = ['7', '6.1', '6', 'niji 6'] as const;
export type Model = (typeof MODELS)[number];
export const DEFAULT_MODEL: Model = '7';

export const SPEEDS = ['fast', 'relax', 'turbo'] as const;
export type Speed = (typeof SPEEDS)[number];

/** A prompt's parameters by API name. Flags are `true` or absent; lists keep the user's order. */
export type PromptParams = {
  aspect_ratio?: string;
  stylize?: number;
  chaos?: number;
  weird?: number;
  seed?: number;
  no?: string[];
  quality?: number;
  exp?: number;
  raw?: true;
  tile?: true;
  image_weight?: number;
  sref?: string[];
  style_weight?: number;
  style_version?: number;
  oref?: string;
  omni_weight?: number;
  draft?: true;
  /** Profile codes; empty means "on, with the default profile". */
  personalize?: string[];
  model?: Model;
  speed?: Speed;
};
export type ParamKey = keyof PromptParams;

/** What a parameter does to a job's cost, as a multiplier; absent means it costs nothing extra. */
export type ParamCost = {
  /** Applies whenever the parameter is set. */
  readonly whenSet?: number;
  /** Applies per value, keyed by the value as printed; values not listed multiply by 1. */
  readonly byValue?: Readonly<Record<string, number>>;
  readonly note?: string;
};

type ParamBase = {
  readonly key: ParamKey;
  /** The spelling we print. */
  readonly flag: string;
  /** Every other spelling the parser accepts. */
  readonly aliases: readonly string[];
  readonly label: string;
  readonly hint: string;
  readonly models: readonly Model[];
  readonly cost?: ParamCost;
};

export type IntParam = ParamBase & {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
};
export type DecimalParam = ParamBase & {
  readonly kind: 'decimal';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
};
/** A number from a list that depends on the model. */
export type ChoiceParam = ParamBase & {
  readonly kind: 'choice';
  /** Every value some model accepts. */
  readonly values: readonly number[];
  readonly valuesByModel: Readonly<Record<Model, readonly number[]>>;
  readonly default: number;
};
export type FlagParam = ParamBase & {
  readonly kind: 'flag';
  /** A flag-and-value spelling that means the same, such as `--style raw`. */
  readonly alsoWritten?: { readonly flag: string; readonly value: string };
};
/** `W:H` in whole numbers, kept as written (6:4 stays 6:4: Midjourney reads it as written). */
export type RatioParam = ParamBase & {
  readonly kind: 'ratio';
  readonly min: number;
  readonly max: number;
  /** How many times the longer side may be the shorter one. */
  readonly maxElongation: number;
  readonly default: string;
};
/** Comma-separated words or phrases. */
export type WordsParam = ParamBase & { readonly kind: 'words' };
/** Space-separated references: style (URL, digits or `random`) or profile codes (letters and digits). */
export type RefsParam = ParamBase & {
  readonly kind: 'refs';
  readonly item: 'style' | 'profile';
  readonly minItems: number;
};
/** One http(s) URL. */
export type UrlParam = ParamBase & { readonly kind: 'url' };
/** Written as flag and value together (`--v 6.1`, `--niji 6`): `spellings` holds each in full. */
export type ModelParam = ParamBase & {
  readonly kind: 'model';
  readonly spellings: Readonly<Record<Model, string>>;
  readonly default: Model;
};
/** Each speed is a flag of its own. */
export type SpeedParam = ParamBase & { readonly kind: 'speed'; readonly spellings: Readonly<Record<Speed, string>> };

export type ParamDef =
  | IntParam
  | DecimalParam
  | ChoiceParam
  | FlagParam
  | RatioParam
  | WordsParam
  | RefsParam
  | UrlParam
  | ModelParam
  | SpeedParam;
export type ParamKind = ParamDef['kind'];

const ALL: readonly Model[] = MODELS;
const V7: readonly Model[] = ['7'];
const OLDER_QUALITIES = [0.25, 0.5, 1, 2];

/** In this order the printer writes them. */
export const PARAMS: readonly ParamDef[] = [
  {
    key: 'aspect_ratio',
    flag: '--ar',
    aliases: ['--aspect'],
    kind: 'ratio',
    // Midjourney documents whole numbers and, since V5, "any" ratio, but no bound (its legacy
    // aspect-ratio page). These bounds are ours: sides up to 10000, at most 14 times as long.
    min: 1,
    max: 10000,
    maxElongation: 14,
    default: '1:1',
    models: ALL,
    label: 'Aspect ratio',
    hint: 'Width to height in whole numbers, such as 16:9 or 2:3',
  },
  {
    key: 'stylize',
    flag: '--s',
    aliases: ['--stylize'],
    kind: 'int',
    min: 0,
    max: 1000,
    default: 100,
    models: ALL,
    label: 'Stylize',
    hint: "How strongly Midjourney's own aesthetic is applied",
  },
  {
    key: 'chaos',
    flag: '--c',
    aliases: ['--chaos'],
    kind: 'int',
    min: 0,
    max: 100,
    default: 0,
    models: ALL,
    label: 'Chaos',
    hint: 'How different the four images of a grid are from each other',
  },
  {
    key: 'weird',
    flag: '--w',
    aliases: ['--weird'],
    kind: 'int',
    min: 0,
    max: 3000,
    default: 0,
    models: ALL,
    label: 'Weird',
    hint: 'Quirky, unconventional results',
  },
  {
    key: 'seed',
    flag: '--seed',
    aliases: [],
    kind: 'int',
    min: 0,
    max: 4294967295,
    models: ALL,
    label: 'Seed',
    hint: 'The starting noise: the same seed and prompt give similar grids',
  },
  {
    key: 'no',
    flag: '--no',
    aliases: [],
    kind: 'words',
    models: ALL,
    label: 'Exclude',
    hint: 'Things to leave out of the image, separated by commas',
  },
  {
    key: 'quality',
    flag: '--q',
    aliases: ['--quality'],
    kind: 'choice',
    values: [0.25, 0.5, 1, 2, 4],
    valuesByModel: { '7': [1, 2, 4], '6.1': OLDER_QUALITIES, '6': OLDER_QUALITIES, 'niji 6': OLDER_QUALITIES },
    default: 1,
    models: ALL,
    label: 'Quality',
    hint: 'Time spent rendering: more detail, higher cost',
    cost: { byValue: { '2': 2, '4': 4 } },
  },
  {
    key: 'exp',
    flag: '--exp',
    aliases: [],
    kind: 'int',
    min: 0,
    max: 100,
    default: 0,
    models: V7,
    label: 'Experimental',
    hint: 'An experimental aesthetic: richer and more dynamic images',
  },
  {
    key: 'raw',
    flag: '--raw',
    aliases: [],
    kind: 'flag',
    alsoWritten: { flag: '--style', value: 'raw' },
    models: ALL,
    label: 'Raw',
    hint: "Less of Midjourney's default styling: follows the prompt more literally",
  },
  {
    key: 'tile',
    flag: '--tile',
    aliases: [],
    kind: 'flag',
    models: ALL,
    label: 'Tile',
    hint: 'A seamless repeating pattern',
  },
  {
    key: 'image_weight',
    flag: '--iw',
    aliases: [],
    kind: 'decimal',
    min: 0,
    max: 3,
    default: 1,
    models: ALL,
    label: 'Image weight',
    hint: 'How much the image prompts count against the text',
  },
  {
    key: 'sref',
    flag: '--sref',
    aliases: [],
    kind: 'refs',
    item: 'style',
    minItems: 1,
    models: ALL,
    label: 'Style reference',
    hint: 'Image URLs or style codes whose look to borrow; random picks a code',
  },
  {
    key: 'style_weight',
    flag: '--sw',
    aliases: [],
    kind: 'int',
    min: 0,
    max: 1000,
    default: 100,
    models: ALL,
    label: 'Style weight',
    hint: 'How strongly the style reference applies',
  },
  {
    // Its default moved between releases, so we state none and let Midjourney choose.
    key: 'style_version',
    flag: '--sv',
    aliases: [],
    kind: 'int',
    min: 1,
    max: 6,
    models: ['7', '6.1'],
    label: 'Style version',
    hint: 'Which style-reference algorithm to use',
  },
  {
    key: 'oref',
    flag: '--oref',
    aliases: [],
    kind: 'url',
    models: V7,
    label: 'Omni reference',
    hint: 'An image of a person or object to put in the picture; costs twice as much',
    cost: { whenSet: 2 },
  },
  {
    key: 'omni_weight',
    flag: '--ow',
    aliases: [],
    kind: 'int',
    min: 1,
    max: 1000,
    default: 100,
    models: V7,
    label: 'Omni weight',
    hint: 'How closely the image follows the omni reference',
  },
  {
    key: 'draft',
    flag: '--draft',
    aliases: [],
    kind: 'flag',
    models: V7,
    label: 'Draft',
    hint: 'About ten times faster at half the cost, with less detail',
    cost: { whenSet: 0.5 },
  },
  {
    key: 'personalize',
    flag: '--p',
    aliases: ['--personalize'],
    kind: 'refs',
    item: 'profile',
    minItems: 0,
    models: ['7', '6.1', '6'],
    label: 'Personalize',
    hint: 'Apply your personalization profile, or the profiles whose codes you give',
  },
  {
    key: 'model',
    flag: '--v',
    aliases: ['--version', '--niji'],
    kind: 'model',
    spellings: { '7': '--v 7', '6.1': '--v 6.1', '6': '--v 6', 'niji 6': '--niji 6' },
    default: DEFAULT_MODEL,
    models: ALL,
    label: 'Model',
    hint: 'Which Midjourney model draws the image',
  },
  {
    key: 'speed',
    flag: '--fast',
    aliases: ['--relax', '--turbo'],
    kind: 'speed',
    spellings: { fast: '--fast', relax: '--relax', turbo: '--turbo' },
    models: ALL,
    label: 'Speed',
    hint: 'Fast, Relax (queued, uses none of your fast time) or Turbo (twice the cost)',
    cost: {
      byValue: { relax: 1, turbo: 2 },
      note: 'Relax uses none of the fast time; we still count the job at 1, since it costs a job',
    },
  },
];

/** Parameters we refuse with a pointer to what to use instead; any other unknown one is refused plainly. */
export const UNSUPPORTED_HINTS: Readonly<Record<string, string>> = {
  '--cref': "V6's character reference; V7 uses --oref",
  '--cw': "V6's character reference weight; V7 uses --oref with --ow",
  '--repeat': 'it runs the job several times, each billed; submit again instead',
  '--r': 'it runs the job several times, each billed; submit again instead',
};
