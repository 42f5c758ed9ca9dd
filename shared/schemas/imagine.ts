// The submission contract between browser and server: what a prompt may contain and which
// generation options exist. Both sides validate with these same schemas.
import { z } from 'zod';

export const PROMPT_MAX_LENGTH = 1500;

export const ASPECT_RATIOS = ['1:1', '16:9', '4:3', '9:16', '3:2', '2:3', '21:9'] as const;
export const aspectRatioSchema = z.enum(ASPECT_RATIOS);
export type AspectRatio = z.infer<typeof aspectRatioSchema>;

export const QUALITIES = ['standard', 'high'] as const;
export const qualitySchema = z.enum(QUALITIES);
export type Quality = z.infer<typeof qualitySchema>;

// C0 controls other than tab/newline/CR, DEL, C1 controls, and the bidi overrides that can
// disguise what a prompt says.
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/u;

export const promptSchema = z
  .string({ error: 'Prompt must be text' })
  // Line breaks from a textarea mean nothing to the upstream; fold them into single spaces.
  .transform((value) => value.replace(/[\t\r\n]+/g, ' ').trim())
  .pipe(
    z
      .string()
      .min(1, 'Write a prompt first')
      .max(PROMPT_MAX_LENGTH, `Keep the prompt under ${PROMPT_MAX_LENGTH + 1} characters`)
      .refine((value) => !FORBIDDEN_CHARS.test(value), 'The prompt contains control characters'),
  );

export const imagineRequestSchema = z.strictObject({
  prompt: promptSchema,
  aspect_ratio: aspectRatioSchema.default('1:1'),
  quality: qualitySchema.default('standard'),
});
export type ImagineRequestInput = z.input<typeof imagineRequestSchema>;
export type ImagineRequest = z.output<typeof imagineRequestSchema>;
