// The submission's plain values (limits and options) without zod, so that the browser can use
// them before it loads any schema. imagine.ts builds the schemas on them and re-exports them.

export const PROMPT_MAX_LENGTH = 1500;

export const ASPECT_RATIOS = ['1:1', '16:9', '4:3', '9:16', '3:2', '2:3', '21:9'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const QUALITIES = ['standard', 'high'] as const;
export type Quality = (typeof QUALITIES)[number];
