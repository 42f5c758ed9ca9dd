// The submission contract between browser and server: what a prompt may contain and which
// generation options exist. Both sides validate with these same schemas.
import { z } from 'zod';
import { ASPECT_RATIOS, PROMPT_MAX_LENGTH, QUALITIES } from './imagine-values';
import { DEFAULT_MODEL, PARAMS, type PromptParams } from './params-values';
import { type ParamIssue, parsePrompt, validateParams } from './prompt-params';
import { imageReferenceSchema, MAX_IMAGE_PROMPTS, MAX_STYLE_REFS } from './upload';

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

/** `{red, blue}`: Midjourney runs one job per combination, each billed. */
const PERMUTATION = /\{[^{}]*,[^{}]*\}/;

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
      .refine((value) => !PERMUTATION.test(value), {
        message: 'Permutation prompts ({a, b}) are not supported: each combination would be a job of its own',
      }),
  );

/** Parameters given as an object by API name; each is read and checked with the table (prompt-params.ts). */
export const paramsInputSchema = z.record(z.string(), z.unknown(), { error: 'params is an object of parameters' });

/**
 * A submission: the prompt text (parameters may be written in it, Midjourney's way), and/or
 * the same parameters as a structured `params` object; `aspect_ratio` and `quality` are the
 * older fields for two of them. Images are named by reference. The output is one state:
 * the text without parameters, the image links written in front of it, and the effective
 * parameters, each checked against the table (range, model) wherever it was given.
 */
export const imagineRequestSchema = z
  .strictObject({
    prompt: promptSchema,
    params: paramsInputSchema.optional(),
    aspect_ratio: z.string({ error: 'aspect_ratio is text like "3:2"' }).optional(),
    quality: qualitySchema.optional(),
    image_prompts: z
      .array(imageReferenceSchema)
      .max(MAX_IMAGE_PROMPTS, `Up to ${MAX_IMAGE_PROMPTS} image prompts`)
      .optional(),
    style_refs: z
      .array(imageReferenceSchema)
      .max(MAX_STYLE_REFS, `Up to ${MAX_STYLE_REFS} style references`)
      .optional(),
    omni_ref: imageReferenceSchema.optional(),
  })
  .transform((input, context) => {
    const report = (path: (string | number)[], issue: ParamIssue) =>
      context.addIssue({ code: 'custom', path, message: issue.message });
    const parsed = parsePrompt(input.prompt);
    for (const issue of parsed.issues) report(['prompt'], issue);
    const given = validateParams(input.params ?? {});
    for (const issue of given.issues) report(['params', issue.key ?? issue.param], issue);
    // The older fields count like any other place a value is given, 1:1 and standard included:
    // a prompt saying --ar 21:9 in a request saying 1:1 is a contradiction, not a choice.
    const legacy: PromptParams = {};
    if (input.aspect_ratio !== undefined) {
      const checked = validateParams({ aspect_ratio: input.aspect_ratio });
      for (const issue of checked.issues) report(['aspect_ratio'], issue);
      if (checked.params.aspect_ratio !== undefined) legacy.aspect_ratio = checked.params.aspect_ratio;
    }
    if (input.quality !== undefined) legacy.quality = input.quality === 'high' ? 2 : 1;
    const params: Record<string, unknown> = {};
    for (const source of [parsed.params, given.params, legacy]) {
      for (const [key, value] of Object.entries(source)) {
        if (value === undefined) continue;
        if (key in params && JSON.stringify(params[key]) !== JSON.stringify(value)) {
          context.addIssue({
            code: 'custom',
            path: ['params', key],
            message: `${flagOf(key)} is given twice with different values (${show(params[key])} and ${show(value)})`,
          });
        }
        params[key] = value;
      }
    }
    // Midjourney's defaults need not be recorded (a bare 1:1 or --q 1 from the older fields).
    if (
      params.aspect_ratio === '1:1' &&
      parsed.params.aspect_ratio === undefined &&
      given.params.aspect_ratio === undefined
    ) {
      delete params.aspect_ratio;
    }
    if (params.quality === 1 && parsed.params.quality === undefined && given.params.quality === undefined) {
      delete params.quality;
    }
    const merged = validateParams(params);
    // Each value was already checked where it was given; what is left are clashes between them (model).
    if (given.issues.length === 0 && parsed.issues.length === 0) {
      for (const issue of merged.issues) report(['params', issue.key ?? issue.param], issue);
    }
    if (parsed.text.length === 0)
      context.addIssue({ code: 'custom', path: ['prompt'], message: 'Write a prompt first' });
    const imagePrompts = parsed.imageUrls.length + (input.image_prompts?.length ?? 0);
    if (imagePrompts > MAX_IMAGE_PROMPTS) {
      context.addIssue({
        code: 'custom',
        path: ['image_prompts'],
        message: `Up to ${MAX_IMAGE_PROMPTS} image prompts`,
      });
    }
    if (input.omni_ref && merged.params.oref !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['omni_ref'],
        message: 'One omni reference: --oref or omni_ref, not both',
      });
    }
    if (input.omni_ref && (merged.params.model ?? DEFAULT_MODEL) !== '7') {
      context.addIssue({ code: 'custom', path: ['omni_ref'], message: 'The omni reference is for model 7 only' });
    }
    return {
      text: parsed.text,
      imageUrls: parsed.imageUrls,
      params: merged.params,
      image_prompts: input.image_prompts ?? [],
      style_refs: input.style_refs ?? [],
      ...(input.omni_ref ? { omni_ref: input.omni_ref } : {}),
    };
  });
export type ImagineRequestInput = z.input<typeof imagineRequestSchema>;
export type ImagineRequest = z.output<typeof imagineRequestSchema>;

const flagOf = (key: string): string => PARAMS.find((definition) => definition.key === key)?.flag ?? key;
const show = (value: unknown): string => (Array.isArray(value) ? value.join(', ') : String(value));
