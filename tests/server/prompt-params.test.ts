// The prompt parameter table, parser, printer and validator: round trips over the whole table,
// the real prompts users write, every kind of refusal, and agreement with the parameter guard rule.
import {
  DEFAULT_MODEL,
  MODELS,
  type Model,
  PARAMS,
  type ParamDef,
  type ParamKey,
  type PromptParams,
  SPEEDS,
} from '@shared/schemas/params-values';
import {
  checkModel,
  checkValue,
  paramCost,
  parsePrompt,
  printPrompt,
  raisesCost,
  validateParams,
  withParam,
} from '@shared/schemas/prompt-params';
import fc from 'fast-check';
import { expect, test } from 'vitest';

const RUNS = 1000;
const defOf = (key: ParamKey): ParamDef => {
  const def = PARAMS.find((row) => row.key === key);
  if (!def) throw new Error(`no row for ${key}`);
  return def;
};
// The rule imagine.ts guarded prompts with before this parser existed, written independently of
// the parser (one NFKC fold of the whole string rather than one per code point): the oracle for
// "nothing that looks like a parameter stays in the text".
const GUARD = /(?:--|(?<![\p{L}\p{N}])[\u2010-\u2015\u2212\u2e3a\u2e3b])(\p{L}[\p{L}\p{N}]*)/gu;
const guardNames = (value: string): string[] =>
  [
    ...value
      .normalize('NFKC')
      .replace(/\p{Cf}/gu, '')
      .matchAll(GUARD),
  ].map((match) => `--${match[1]?.toLowerCase()}`);
const plain = (value: string) => guardNames(value).length === 0;

// fc.webUrl is thorough but slow; a cheaper shape most of the time keeps the properties fast.
const urlArb = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.stringMatching(
        /^(?:https?|HTTPS):\/\/[a-z0-9-]{1,12}\.[a-z]{2,4}(?:\/[\w.~%!$&'()*+,;=:@-]{0,10}){0,3}$/,
      ),
    },
    { weight: 1, arbitrary: fc.webUrl({ withQueryParameters: true, withFragments: true }) },
  )
  .filter(plain);

const phraseArb = fc
  .array(fc.oneof(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('café', 'naïve', '日本', 'x-y', '::2')), {
    minLength: 1,
    maxLength: 3,
  })
  .chain((words) => fc.constantFrom(' ', '  ').map((gap) => words.join(gap)))
  .filter(plain);

function ratioArb(def: ParamDef & { kind: 'ratio' }): fc.Arbitrary<string> {
  return fc
    .integer({ min: def.min, max: def.max })
    .chain((short) =>
      fc.tuple(
        fc.constant(short),
        fc.integer({ min: short, max: Math.min(def.max, short * def.maxElongation) }),
        fc.boolean(),
      ),
    )
    .map(([short, long, wide]) => (wide ? `${long}:${short}` : `${short}:${long}`));
}

function valueArb(def: ParamDef, model: Model): fc.Arbitrary<unknown> {
  switch (def.kind) {
    case 'int':
      return fc.integer({ min: def.min, max: def.max });
    case 'decimal':
      return fc.oneof(
        fc.integer({ min: def.min * 100, max: def.max * 100 }).map((hundredths) => hundredths / 100),
        fc.double({ min: def.min, max: def.max, noNaN: true }).filter((value) => !/e/.test(String(value))),
      );
    case 'choice':
      return fc.constantFrom(...def.valuesByModel[model]);
    case 'flag':
      return fc.constant(true);
    case 'ratio':
      return ratioArb(def);
    case 'words':
      return fc.array(phraseArb, { minLength: 1, maxLength: 4 });
    case 'refs':
      return def.item === 'style'
        ? fc.array(fc.oneof(urlArb, fc.stringMatching(/^\d{1,12}$/), fc.constant('random')), {
            minLength: 1,
            maxLength: 3,
          })
        : fc.array(fc.stringMatching(/^[a-z0-9]{1,10}$/), { maxLength: 3 });
    case 'url':
      return urlArb;
    case 'model':
      return fc.constant(model);
    case 'speed':
      return fc.constantFrom(...SPEEDS);
  }
}

function paramsFor(model: Model | undefined): fc.Arbitrary<PromptParams> {
  const rows = PARAMS.filter((def) => def.kind !== 'model' && def.models.includes(model ?? DEFAULT_MODEL));
  return fc
    .tuple(...rows.map((def) => fc.option(valueArb(def, model ?? DEFAULT_MODEL), { nil: undefined })))
    .map((values) => {
      const input = { model, ...Object.fromEntries(rows.map((def, index) => [def.key, values[index]])) };
      const { params, issues } = validateParams(input);
      if (issues.length > 0) throw new Error(`generated invalid params: ${JSON.stringify(issues)}`);
      return params;
    });
}

/** Valid params for one model (or none, meaning the default), built through the validator. */
const paramsArb: fc.Arbitrary<PromptParams> = fc.oneof(...[undefined, ...MODELS].map(paramsFor));

const textArb = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[A-Za-z]{1,10}$/),
      fc.constantFrom(
        'space::2',
        'black—white',
        '—',
        '-',
        '--5',
        '{red, blue}',
        'ﬁsh',
        '👩‍🚀',
        'e\u0301',
        'a\u200Bb',
        '2:3',
        'https://x.test/later.png',
      ),
    ),
    { maxLength: 8 },
  )
  .chain((words) =>
    fc
      .array(fc.constantFrom(' ', '  ', '\t', '\n'), { minLength: words.length, maxLength: words.length })
      .map((gaps) => words.map((word, index) => (index === 0 ? word : `${gaps[index]}${word}`)).join('')),
  )
  .filter((text) => plain(text) && text === text.trim() && !/^https?:\/\//i.test(text));

const promptArb = fc.record({ text: textArb, imageUrls: fc.array(urlArb, { maxLength: 3 }), params: paramsArb });

/** Strings made to trip the parser: dashes of every kind, invisible and compatibility characters. */
const hostileArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '-',
        '—',
        '－',
        '\u2212',
        '\u2010',
        '\u200B',
        '\u00AD',
        '¨',
        'ﬁ',
        'ｓ',
        '\u0301',
        '\u3000',
        ' ',
        ',',
      ),
      fc.constantFrom('a', 'r', 's', 'é', '1', ':', '.', '/', '\t', '::'),
      fc.constantFrom(
        '--ar',
        '--s',
        '--no',
        '--v',
        '--niji',
        '--style',
        '--p',
        'raw',
        '3:2',
        '6.1',
        'https://x.test/a.png',
      ),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

test('every key of PromptParams has exactly one row, and no spelling belongs to two rows', () => {
  const keys: Record<ParamKey, true> = {
    aspect_ratio: true,
    stylize: true,
    chaos: true,
    weird: true,
    seed: true,
    no: true,
    quality: true,
    exp: true,
    raw: true,
    tile: true,
    image_weight: true,
    sref: true,
    style_weight: true,
    style_version: true,
    oref: true,
    omni_weight: true,
    draft: true,
    personalize: true,
    model: true,
    speed: true,
  };

  const spellings = PARAMS.flatMap((def) => [def.flag, ...def.aliases]);

  expect(PARAMS.map((def) => def.key).sort()).toEqual(Object.keys(keys).sort());
  expect(new Set(spellings).size).toBe(spellings.length);
});

test('every default in the table is a value the table accepts', () => {
  const defaults = PARAMS.flatMap((def) =>
    'default' in def && def.default !== undefined ? [{ def, value: def.default }] : [],
  );

  const refused = defaults.filter(({ def, value }) => !checkValue(def, value).ok);

  expect(defaults.length).toBeGreaterThan(5);
  expect(refused).toEqual([]);
});

test('parsing a printed prompt gives back exactly its text, image URLs and params, with no issues', () => {
  fc.assert(
    fc.property(promptArb, (parts) => {
      const parsed = parsePrompt(printPrompt(parts));

      expect(parsed).toEqual({ ...parts, issues: [] });
    }),
    { numRuns: RUNS },
  );
});

test('printing a parsed prompt is idempotent', () => {
  fc.assert(
    fc.property(promptArb, (parts) => {
      const printed = printPrompt(parts);

      const reprinted = printPrompt(parsePrompt(printed));

      expect(reprinted).toBe(printed);
    }),
    { numRuns: RUNS },
  );
});

test('printing what the parser made of any string is a fixed point of parse and print', () => {
  fc.assert(
    fc.property(hostileArb, (prompt) => {
      const once = printPrompt(parsePrompt(prompt));

      const twice = printPrompt(parsePrompt(once));

      expect(twice).toBe(once);
    }),
    { numRuns: RUNS * 4 },
  );
});

test('nothing the guard rule calls a parameter survives in the text, image URLs or --no items', () => {
  fc.assert(
    fc.property(hostileArb, (prompt) => {
      const parsed = parsePrompt(prompt);

      const leaked = [parsed.text, ...parsed.imageUrls, ...(parsed.params.no ?? [])].flatMap(guardNames);

      expect(leaked).toEqual([]);
      if (plain(prompt)) expect(parsed.issues).toEqual([]);
    }),
    { numRuns: RUNS * 4 },
  );
});

test('the validator accepts exactly what the parser produces', () => {
  fc.assert(
    fc.property(fc.oneof(promptArb.map(printPrompt), hostileArb), (prompt) => {
      const parsed = parsePrompt(prompt);

      const validated = validateParams(parsed.params);

      expect(validated.params).toEqual(parsed.params);
      expect(validated.issues.map((issue) => issue.message)).toEqual(checkModel(parsed.params).map((i) => i.message));
    }),
    { numRuns: RUNS },
  );
});

const NUMERIC = PARAMS.filter((def) => def.kind === 'int' || def.kind === 'decimal' || def.kind === 'choice');

function outOfRangeArb(def: ParamDef): fc.Arbitrary<number> {
  const noExponent = (value: number) => !/e/.test(String(value));
  if (def.kind === 'choice') {
    return fc
      .oneof(fc.integer({ min: -100, max: 100 }), fc.double({ min: -10, max: 10, noNaN: true }).filter(noExponent))
      .filter((value) => !def.values.includes(value) && !Object.is(value, -0));
  }
  if (def.kind !== 'int' && def.kind !== 'decimal') throw new Error(`${def.key} is not numeric`);
  return fc
    .oneof(
      fc.integer({ min: def.max + 1, max: def.max + 1_000_000 }),
      fc.integer({ min: def.min - 1_000_000, max: def.min - 1 }),
      fc.double({ min: def.max, max: def.max + 1000, minExcluded: true, noNaN: true }),
    )
    .filter(noExponent);
}

test('any out-of-range value of a numeric parameter gives exactly one issue naming it, in a prompt and in JSON', () => {
  for (const def of NUMERIC) {
    fc.assert(
      fc.property(outOfRangeArb(def), fc.constantFrom(def.flag, ...def.aliases), (value, flag) => {
        const parsed = parsePrompt(`a cat ${flag} ${value}`);
        const validated = validateParams({ [def.key]: value });

        expect(parsed.issues).toEqual([{ param: flag, key: def.key, message: expect.stringContaining(def.flag) }]);
        expect(parsed.params).toEqual({});
        expect(validated.issues).toEqual([{ param: def.flag, key: def.key, message: parsed.issues[0]?.message }]);
      }),
      { numRuns: 100 },
    );
  }
});

const REAL_PROMPTS: { prompt: string; text: string; imageUrls?: string[]; params: PromptParams }[] = [
  {
    prompt: 'a red fox in fresh snow --ar 16:9 --s 250',
    text: 'a red fox in fresh snow',
    params: { aspect_ratio: '16:9', stylize: 250 },
  },
  {
    prompt: 'vibrant tulip field --no red cars, people',
    text: 'vibrant tulip field',
    params: { no: ['red cars', 'people'] },
  },
  {
    prompt: 'https://example.com/a.png https://example.com/b.jpg a cat --iw 2',
    text: 'a cat',
    imageUrls: ['https://example.com/a.png', 'https://example.com/b.jpg'],
    params: { image_weight: 2 },
  },
  {
    prompt: 'portrait of a knight --stylize 250 --aspect 3:2 --version 6.1',
    text: 'portrait of a knight',
    params: { stylize: 250, aspect_ratio: '3:2', model: '6.1' },
  },
  {
    prompt: 'a quiet harbour at dawn --style raw --v 7',
    text: 'a quiet harbour at dawn',
    params: { raw: true, model: '7' },
  },
  {
    prompt: 'isometric city --sref 123456 https://x.test/s.png --sw 300',
    text: 'isometric city',
    params: { sref: ['123456', 'https://x.test/s.png'], style_weight: 300 },
  },
  {
    prompt: 'a man in a red coat --oref https://x.test/o.png --ow 200',
    text: 'a man in a red coat',
    params: { oref: 'https://x.test/o.png', omni_weight: 200 },
  },
  { prompt: 'cozy reading nook --p', text: 'cozy reading nook', params: { personalize: [] } },
  {
    prompt: 'cozy reading nook --p a1b2c3 x9y8',
    text: 'cozy reading nook',
    params: { personalize: ['a1b2c3', 'x9y8'] },
  },
  { prompt: 'magical girl, city lights --niji 6', text: 'magical girl, city lights', params: { model: 'niji 6' } },
  {
    prompt: 'quick sketch of a heron --draft --turbo',
    text: 'quick sketch of a heron',
    params: { draft: true, speed: 'turbo' },
  },
  { prompt: 'space::2 ship::1 --ar 16:9', text: 'space::2 ship::1', params: { aspect_ratio: '16:9' } },
  { prompt: 'a cat —ar 2:3', text: 'a cat', params: { aspect_ratio: '2:3' } },
  {
    prompt: 'seamless floral pattern --tile --q 2 --seed 4294967295',
    text: 'seamless floral pattern',
    params: { tile: true, quality: 2, seed: 4294967295 },
  },
  {
    prompt: 'a watercolor map --chaos 40 --weird 1000 --exp 25 --relax',
    text: 'a watercolor map',
    params: { chaos: 40, weird: 1000, exp: 25, speed: 'relax' },
  },
  { prompt: 'a lighthouse in fog --q .5 --v 6', text: 'a lighthouse in fog', params: { quality: 0.5, model: '6' } },
  {
    prompt: 'a tin robot --c 10 --w 50 --sv 4 --sref random --fast',
    text: 'a tin robot',
    params: { chaos: 10, weird: 50, style_version: 4, sref: ['random'], speed: 'fast' },
  },
  {
    prompt: 'black—white photograph of a street --ar 6:4',
    text: 'black—white photograph of a street',
    params: { aspect_ratio: '6:4' },
  },
  { prompt: '  a cat   on a\tmat  --raw ', text: 'a cat   on a\tmat', params: { raw: true } },
  { prompt: 'a fox --\u200Bs 300 －－ar 4:5', text: 'a fox', params: { stylize: 300, aspect_ratio: '4:5' } },
  {
    prompt: 'a bowl of fruit --no apples --personalize --quality 4 --iw 0.25',
    text: 'a bowl of fruit',
    params: { no: ['apples'], personalize: [], quality: 4, image_weight: 0.25 },
  },
];

test.each(REAL_PROMPTS)('parsePrompt reads "$prompt" exactly', ({ prompt, text, imageUrls = [], params }) => {
  const parsed = parsePrompt(prompt);

  expect(parsed).toEqual({ text, imageUrls, params, issues: [] });
});

test('printPrompt writes canonical flags in table order with single spaces', () => {
  const parts = {
    text: 'a cat',
    imageUrls: ['https://x.test/a.png'],
    params: {
      speed: 'turbo',
      model: '6.1',
      no: ['red cars', 'people'],
      quality: 0.25,
      stylize: 250,
      aspect_ratio: '3:2',
    },
  } satisfies Parameters<typeof printPrompt>[0];

  const printed = printPrompt(parts);

  expect(printed).toBe('https://x.test/a.png a cat --ar 3:2 --s 250 --no red cars, people --q 0.25 --v 6.1 --turbo');
});

const ISSUES: { prompt: string; param: string; message: string | RegExp }[] = [
  { prompt: 'a cat --repeat 40', param: '--repeat', message: /--repeat is not a supported parameter/ },
  { prompt: 'a cat --r 4', param: '--r', message: /not a supported parameter/ },
  { prompt: 'a cat --cref https://x.test/c.png', param: '--cref', message: /V6's character reference; V7 uses --oref/ },
  { prompt: 'a cat --cw 50', param: '--cw', message: /V7 uses --oref/ },
  { prompt: 'a cat --hd', param: '--hd', message: /not a supported parameter/ },
  { prompt: 'a cat --s 1001', param: '--s', message: '--s (stylize) takes a whole number from 0 to 1000' },
  { prompt: 'a cat --stylize ten', param: '--stylize', message: '--s (stylize) takes a whole number from 0 to 1000' },
  { prompt: 'a cat --q 3', param: '--q', message: /^--q \(quality\) takes 1, 2 or 4 with model 7; 0.25, 0.5, 1 or 2/ },
  { prompt: 'a cat --q 4 --v 6.1', param: '--q', message: '--q (quality) takes 0.25, 0.5, 1 or 2 with model 6.1' },
  { prompt: 'a cat --q 0.5', param: '--q', message: '--q (quality) takes 1, 2 or 4 with model 7' },
  { prompt: 'a cat --ar 0:1', param: '--ar', message: /^--ar \(aspect ratio\) takes W:H/ },
  { prompt: 'a cat --ar 30:1', param: '--ar', message: /at most 14 times the shorter/ },
  { prompt: 'a cat --ar 06:4', param: '--ar', message: /takes W:H/ },
  { prompt: 'a cat --ar 3.5:2', param: '--ar', message: /takes W:H/ },
  { prompt: 'a cat --iw 3.5', param: '--iw', message: '--iw (image weight) takes a number from 0 to 3' },
  { prompt: 'a cat --exp 10 --v 6.1', param: '--exp', message: '--exp is for model 7 only; this prompt uses --v 6.1' },
  {
    prompt: 'a cat --oref https://x.test/o.png --niji 6',
    param: '--oref',
    message: '--oref is for model 7 only; this prompt uses --niji 6',
  },
  {
    prompt: 'a cat --p --niji 6',
    param: '--p',
    message: '--p is for models 7, 6.1 and 6 only; this prompt uses --niji 6',
  },
  { prompt: 'a cat --draft --v 6', param: '--draft', message: '--draft is for model 7 only; this prompt uses --v 6' },
  {
    prompt: 'a cat --seed',
    param: '--seed',
    message: '--seed (seed) needs a value: a whole number from 0 to 4294967295',
  },
  { prompt: 'a cat --no', param: '--no', message: /--no \(exclude\) needs a value/ },
  { prompt: 'a cat --sref', param: '--sref', message: /--sref \(style reference\) needs a value/ },
  { prompt: 'a cat --sref pretty', param: '--sref', message: /image URLs or style codes/ },
  { prompt: 'a cat --oref ftp://x.test/o.png', param: '--oref', message: /one image URL/ },
  { prompt: 'a cat --v 5.2', param: '--v', message: '--v (model) takes --v 7, --v 6.1, --v 6 or --niji 6' },
  { prompt: 'a cat --niji 7', param: '--niji', message: /takes --v 7, --v 6.1, --v 6 or --niji 6/ },
  { prompt: 'a cat --style vivid', param: '--style', message: '--style takes only raw (the same as --raw)' },
  { prompt: 'a cat --style raw photo', param: '--style', message: '--style takes only raw (the same as --raw)' },
  { prompt: 'a cat --s 100 --stylize 200', param: '--stylize', message: /stylize is already set by --s/ },
  { prompt: 'a cat --raw --style raw', param: '--style', message: /raw is already set by --raw/ },
  { prompt: 'a cat --fast --turbo', param: '--turbo', message: /speed is already set by --fast/ },
  { prompt: 'a cat --v 7 --niji 6', param: '--niji', message: /model is already set by --v/ },
  { prompt: 'a cat --tile seamless', param: '--tile', message: /--tile \(tile\) takes no value; "seamless"/ },
];

test.each(ISSUES)('parsePrompt reports one issue on $param for "$prompt"', ({ prompt, param, message }) => {
  const parsed = parsePrompt(prompt);

  expect(parsed.issues).toHaveLength(1);
  expect(parsed.issues[0]?.param).toBe(param);
  expect(parsed.issues[0]?.message).toMatch(message);
  expect(parsed.text).toBe('a cat');
});

test('words after a parameter value are an issue on that parameter, and the value still counts', () => {
  const parsed = parsePrompt('a cat --ar 3:2 sitting on a mat');

  expect(parsed.text).toBe('a cat');
  expect(parsed.params).toEqual({ aspect_ratio: '3:2' });
  expect(parsed.issues).toEqual([
    {
      param: '--ar',
      key: 'aspect_ratio',
      message: '--ar (aspect ratio) takes one value; "sitting on a mat" is not part of it',
    },
  ]);
});

test('an unknown parameter is never passed through to the params', () => {
  const parsed = parsePrompt('a cat --repeat 40 --video --s 300');

  expect(parsed.params).toEqual({ stylize: 300 });
  expect(parsed.issues.map((issue) => issue.param)).toEqual(['--repeat', '--video']);
});

test('a repeated parameter keeps its first value', () => {
  const parsed = parsePrompt('a cat --s 100 --stylize 200');

  expect(parsed.params).toEqual({ stylize: 100 });
});

test('a parameter the model refuses stays in the params next to its issue', () => {
  const parsed = parsePrompt('a cat --exp 10 --v 6.1');

  expect(parsed.params).toEqual({ exp: 10, model: '6.1' });
  expect(parsed.issues).toHaveLength(1);
});

test('validateParams accepts the JSON form and answers the parsed prompt with the same params', () => {
  const input = { stylize: 250, seed: 42, aspect_ratio: '3:2', raw: true, no: ['cars'] };

  const validated = validateParams(input);

  expect(validated).toEqual({ params: input, issues: [] });
  expect(parsePrompt(printPrompt({ text: 'a cat', params: validated.params })).params).toEqual(input);
});

test('validateParams reads --no as a comma-separated string, personalize: true as the default profile and false flags as off', () => {
  const input = { no: 'red cars, people', personalize: true, tile: false, draft: false };

  const validated = validateParams(input);

  expect(validated).toEqual({ params: { no: ['red cars', 'people'], personalize: [] }, issues: [] });
});

test('validateParams refuses an unknown key, naming it', () => {
  const validated = validateParams({ repeat: 4, cref: 'https://x.test/c.png' });

  expect(validated.params).toEqual({});
  expect(validated.issues.map((issue) => issue.param)).toEqual(['repeat', 'cref']);
  expect(validated.issues[1]?.message).toMatch(/V7 uses --oref/);
});

test.each([
  ['a number as text', { stylize: '250' }, '--s'],
  ['a fraction for a whole number', { chaos: 2.5 }, '--c'],
  ['a ratio as a number', { aspect_ratio: 1.5 }, '--ar'],
  ['a flag as text', { raw: 'yes' }, '--raw'],
  ['a model by another name', { model: 'v7' }, '--v'],
  ['a speed by another name', { speed: 'slow' }, '--fast'],
  ['an empty --no list', { no: [] }, '--no'],
  ['a --no item with a parameter in it', { no: ['cars --ar 3:2'] }, '--no'],
  ['a style reference that is not a list', { sref: 'https://x.test/s.png' }, '--sref'],
  ['an omni reference that is not http', { oref: 'javascript:alert(1)' }, '--oref'],
  ['a seed over the range', { seed: 4294967296 }, '--seed'],
  ['an image weight of infinity', { image_weight: Number.POSITIVE_INFINITY }, '--iw'],
  ['a null value', { tile: null }, '--tile'],
])('validateParams refuses %s with one issue on the canonical flag', (_label, input, flag) => {
  const validated = validateParams(input);

  expect(validated.params).toEqual({});
  expect(validated.issues).toEqual([{ param: flag, key: expect.any(String), message: expect.stringContaining(flag) }]);
});

test('validateParams gives the same message as the parser for the same mistake', () => {
  const fromJson = validateParams({ aspect_ratio: '30:1', stylize: 1001 });

  const fromPrompt = parsePrompt('a cat --ar 30:1 --s 1001');

  expect(fromJson.issues.map((issue) => issue.message)).toEqual(fromPrompt.issues.map((issue) => issue.message));
});

test('validateParams checks the model given with the params, else the one passed, else the default', () => {
  const named = validateParams({ exp: 10, model: '6.1' });
  const passed = validateParams({ exp: 10 }, '6.1');
  const fallback = validateParams({ quality: 0.5 });

  expect(named.issues.map((issue) => issue.message)).toEqual(['--exp is for model 7 only; this prompt uses --v 6.1']);
  expect(passed.issues.map((issue) => issue.message)).toEqual(['--exp is for model 7 only; this prompt uses --v 6.1']);
  expect(fallback.issues.map((issue) => issue.message)).toEqual(['--q (quality) takes 1, 2 or 4 with model 7']);
});

test('validateParams refuses something that is not an object', () => {
  const validated = validateParams(['--s', 250]);

  expect(validated.params).toEqual({});
  expect(validated.issues).toHaveLength(1);
});

test.each([
  [{}, 1],
  [{ quality: 2 }, 2],
  [{ quality: 4 }, 4],
  [{ quality: 1, stylize: 900 }, 1],
  [{ oref: 'https://x.test/o.png' }, 2],
  [{ speed: 'turbo' }, 2],
  [{ speed: 'relax' }, 1],
  [{ draft: true }, 0.5],
  [{ draft: true, speed: 'turbo' }, 1],
  [{ quality: 4, oref: 'https://x.test/o.png', speed: 'turbo' }, 16],
] satisfies [PromptParams, number][])('paramCost of %o is %d', (params, cost) => {
  const multiplier = paramCost(params);

  expect(multiplier).toBe(cost);
  expect(raisesCost(params)).toBe(cost > 1);
});

test('withParam sets stylize after the parameters already there, and removing it gives back the original', () => {
  const original = 'a cat --ar 3:2';

  const set = withParam(original, 'stylize', 250);
  const removed = withParam(set, 'stylize', undefined);

  expect(set).toBe('a cat --ar 3:2 --s 250');
  expect(removed).toBe(original);
});

test('withParam replaces a value written with an alias and keeps the image URLs and text', () => {
  const prompt = 'https://x.test/a.png   a  cat --stylize 100 --v 6.1';

  const changed = withParam(prompt, 'stylize', 600);

  expect(changed).toBe('https://x.test/a.png a  cat --s 600 --v 6.1');
});

test('withParam leaves out what the parser could not use instead of failing', () => {
  const prompt = 'a cat --repeat 4 --ar 3:2 sitting --s 5000';

  const changed = withParam(prompt, 'quality', 2);

  expect(changed).toBe('a cat --ar 3:2 --q 2');
});

test('withParam refuses a value the table refuses', () => {
  const set = () => withParam('a cat', 'stylize', 1001);

  expect(set).toThrow(RangeError);
});

test('parsePrompt reads an empty prompt and a prompt of image URLs only', () => {
  const empty = parsePrompt('');
  const onlyImages = parsePrompt('https://x.test/a.png https://x.test/b.png --iw 0.5');

  expect(empty).toEqual({ text: '', imageUrls: [], params: {}, issues: [] });
  expect(onlyImages).toEqual({
    text: '',
    imageUrls: ['https://x.test/a.png', 'https://x.test/b.png'],
    params: { image_weight: 0.5 },
    issues: [],
  });
});

test('parsePrompt keeps an image URL after the text in the text', () => {
  const parsed = parsePrompt('a cat like https://x.test/a.png --ar 1:1');

  expect(parsed.text).toBe('a cat like https://x.test/a.png');
  expect(parsed.imageUrls).toEqual([]);
});

test('a default model applies when the prompt names none', () => {
  const parsed = parsePrompt('a cat --exp 20 --draft --oref https://x.test/o.png');

  expect(parsed.issues).toEqual([]);
  expect(checkModel(parsed.params, '6')).toHaveLength(3);
  expect(defOf('exp').models).toEqual([DEFAULT_MODEL]);
});
