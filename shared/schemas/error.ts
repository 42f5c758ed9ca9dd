// The one JSON shape every error response has, on every route.
import { z } from 'zod';

export const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'misdirected',
  'malformed_json',
  'payload_too_large',
  'unsupported_media_type',
  'not_found',
  'conflict',
  'content_refused',
  'rate_limited',
  'upstream_auth',
  'upstream_timeout',
  'upstream_unavailable',
  'upstream_bad_response',
  'internal',
] as const;
export const errorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const fieldIssueSchema = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    retry_after_s: z.number().int().nonnegative().optional(),
    fields: z.array(fieldIssueSchema).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
