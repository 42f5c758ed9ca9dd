// The submission contract between browser and server: what a prompt may contain and which
// generation options exist. Both sides validate with these same schemas.
import { z } from 'zod';
import { ASPECT_RATIOS, PROMPT_MAX_LENGTH, QUALITIES } from './imagine-values';

export { ASPECT_RATIOS, type AspectRatio, PROMPT_MAX_LENGTH, QUALITIES, type Quality } from './imagine-values';

export const aspectRatioSchema = z.enum(ASPECT_RATIOS);
export const qualitySchema = z.enum(QUALITIES);

// Control characters (C0, DEL, C1) and the bidi overrides that can disguise what a prompt says.
function isForbiddenCodePoint(codePoint: number): boolean {
  return (
    codePoint <= 0x1f ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069)
  );
}
const hasForbiddenChars = (value: string) => [...value].some((char) => isForbiddenCodePoint(char.codePointAt(0) ?? 0));

// Midjourney reads `--name` in a prompt as a parameter (aspect ratio, quality, repeats…), and
// also the dash a phone makes of `--` (`—ar`), so a prompt could override the job's own fields
// and its cost. Until parameters are parsed, any such word is refused. `--` counts anywhere
// before a letter; a typographic dash only where it starts a word, since prose joins words with
// em dashes ("black—white"). Checked on the NFKC form, which folds fullwidth hyphens to `-`.
// `::` weights are not parameters.
// Invisible format characters (zero-width spaces and joiners…) are ignored when looking, so
// `--\u200Bar` is still `--ar`.
const PARAMETER = /(?:--|(?<![\p{L}\p{N}])[\u2010-\u2015\u2212\u2e3a\u2e3b])(\p{L}[\p{L}\p{N}]*)/gu;
const FORMAT_CHARS = /\p{Cf}/gu;
/** `{red, blue}`: Midjourney runs one job per combination, each billed. */
const PERMUTATION = /\{[^{}]*,[^{}]*\}/;
const PARAMETERS_SHOWN = 5;

/** The Midjourney parameters a prompt carries, as `--name`, each once, in order. */
export function promptParameters(prompt: string): string[] {
  const seen = prompt.normalize('NFKC').replace(FORMAT_CHARS, '');
  const names = [...seen.matchAll(PARAMETER)].map((match) => `--${match[1]?.toLowerCase()}`);
  return [...new Set(names)];
}

function parametersMessage(names: string[]): string {
  const shown = names.slice(0, PARAMETERS_SHOWN).join(', ') + (names.length > PARAMETERS_SHOWN ? ', …' : '');
  return `Midjourney parameters in the prompt are not supported yet: ${shown}; use the aspect ratio and quality fields`;
}

export const promptSchema = z
  .string({ error: 'Prompt must be text' })
  // Line breaks from a textarea mean nothing to the upstream; fold them into single spaces.
  .transform((value) => value.replace(/[\t\r\n]+/g, ' ').trim())
  .pipe(
    z
      .string()
      .min(1, 'Write a prompt first')
      .max(PROMPT_MAX_LENGTH, `Keep the prompt under ${PROMPT_MAX_LENGTH + 1} characters`)
      .refine((value) => !hasForbiddenChars(value), 'The prompt contains control characters')
      .superRefine((value, context) => {
        const names = promptParameters(value);
        if (names.length > 0) context.addIssue({ code: 'custom', message: parametersMessage(names) });
        if (PERMUTATION.test(value)) {
          context.addIssue({
            code: 'custom',
            message: 'Permutation prompts ({a, b}) are not supported yet: each combination would be a job of its own',
          });
        }
      }),
  );

export const imagineRequestSchema = z.strictObject({
  prompt: promptSchema,
  aspect_ratio: aspectRatioSchema.default('1:1'),
  quality: qualitySchema.default('standard'),
});
export type ImagineRequestInput = z.input<typeof imagineRequestSchema>;
export type ImagineRequest = z.output<typeof imagineRequestSchema>;
