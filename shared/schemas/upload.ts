// Images as input: what an upload answers, and how a submission names an image it uses (an
// upload of the owner's, or a finished image from the owner's history).
import { z } from 'zod';
import { JOB_ID_PATTERN } from './job-values';

/** The images an upload may be, and is kept as (judged by its bytes, whatever its Content-Type says). */
export const UPLOAD_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
/** The Content-Types POST /api/uploads takes: an image type, or plain bytes. */
export const UPLOAD_BODY_TYPES = [...UPLOAD_IMAGE_TYPES, 'application/octet-stream'] as const;

export const UPLOAD_ID_PATTERN = /^up_[A-Za-z0-9_-]{16,64}$/;
export const uploadIdSchema = z.string().regex(UPLOAD_ID_PATTERN, 'Not an upload id this server made');

export const uploadSchema = z.object({
  upload_id: uploadIdSchema,
  /** Our own URL of the kept copy (the owner's cookie or key opens it). */
  url: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  content_type: z.enum(UPLOAD_IMAGE_TYPES),
  bytes: z.number().int().positive(),
  created_at: z.iso.datetime(),
});
export type Upload = z.infer<typeof uploadSchema>;

/** An image a submission uses: one of the owner's uploads, or the kept image of a finished job. */
export const imageReferenceSchema = z.union(
  [
    z.strictObject({ upload_id: uploadIdSchema }),
    z.strictObject({ job_id: z.string().regex(JOB_ID_PATTERN, 'Job ids are 1-128 letters, digits, "-" or "_"') }),
  ],
  { error: 'An image is named as { "upload_id": "up_…" } or { "job_id": "…" } (a finished job of yours)' },
);
export type ImageReference = z.infer<typeof imageReferenceSchema>;

/** What an image does in a job: an image prompt, a style reference, or the omni reference. */
export const REFERENCE_ROLES = ['image', 'style', 'omni'] as const;
export type ReferenceRole = (typeof REFERENCE_ROLES)[number];

/** A reference as a job shows it: its role and our own URL of the image. */
export const jobReferenceSchema = z.object({
  role: z.enum(REFERENCE_ROLES),
  url: z.string(),
  upload_id: uploadIdSchema.optional(),
  job_id: z.string().optional(),
});
export type JobReference = z.infer<typeof jobReferenceSchema>;

export const MAX_IMAGE_PROMPTS = 5;
export const MAX_STYLE_REFS = 5;
export const BLEND_SHAPES = ['portrait', 'square', 'landscape'] as const;
export type BlendShape = (typeof BLEND_SHAPES)[number];

export const describeRequestSchema = z.strictObject({ image: imageReferenceSchema });
export type DescribeRequest = z.infer<typeof describeRequestSchema>;

export const blendRequestSchema = z.strictObject({
  images: z.array(imageReferenceSchema).min(2, 'Blend takes 2 to 5 images').max(5, 'Blend takes 2 to 5 images'),
  shape: z.enum(BLEND_SHAPES, { error: 'shape is "portrait", "square" or "landscape"' }).default('square'),
});
export type BlendRequest = z.output<typeof blendRequestSchema>;
