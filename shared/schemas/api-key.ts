// API keys made in the studio, for scripts (/api) and midjourney-proxy clients (/mj): how a key
// looks to the owner who made it (never its secret nor its hash), and the request that makes one.
import { z } from 'zod';

export const API_KEY_ID_PATTERN = /^ak_[A-Za-z0-9_-]{20}$/;
export const apiKeyIdSchema = z.string().regex(API_KEY_ID_PATTERN, 'Not an API key id this server made');

/** How every key's secret begins: a secret so written is judged as a key, whatever else is set. */
export const API_KEY_PREFIX = 'mjk_';
/** The prefix and 32 random bytes, base64url. */
export const API_KEY_SECRET_PATTERN = new RegExp(`^${API_KEY_PREFIX}[A-Za-z0-9_-]{43}$`);

export const API_KEY_NAME_MAX = 60;
/** Keys one owner may have that are not revoked. */
export const MAX_LIVE_API_KEYS = 50;

/** Control characters, line separators and bidirectional overrides: a name is one plain line. */
const PLAIN_LINE = /^[^\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u;

export const apiKeyNameSchema = z
  .string({ error: 'Give the key a name' })
  .trim()
  .min(1, 'Give the key a name')
  .max(API_KEY_NAME_MAX, `A name is at most ${API_KEY_NAME_MAX} characters`)
  .regex(PLAIN_LINE, 'A name is one line of plain text (no control characters)');

export const createApiKeyRequestSchema = z.strictObject({ name: apiKeyNameSchema });
export type CreateApiKeyRequest = z.output<typeof createApiKeyRequestSchema>;

export const apiKeySchema = z.object({
  id: apiKeyIdSchema,
  name: z.string(),
  /** Enough of the secret to tell keys apart (`mjk_…ab12`), never enough to use one. */
  hint: z.string(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable(),
  revoked_at: z.iso.datetime().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

/** The caller's keys, newest first, revoked ones included. */
export const apiKeyListSchema = z.object({ keys: z.array(apiKeySchema) });
export type ApiKeyList = z.infer<typeof apiKeyListSchema>;

/** What creating a key answers: the only time its secret is ever sent. */
export const createdApiKeySchema = z.object({
  key: apiKeySchema,
  secret: z.string().regex(API_KEY_SECRET_PATTERN),
});
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
