// The sign-in contract: whether this server wants an access token, and how one is sent.
import { z } from 'zod';

export const sessionStateSchema = z.object({
  /** Whether this server asks for an access token at all. */
  required: z.boolean(),
  signed_in: z.boolean(),
});
export type SessionState = z.infer<typeof sessionStateSchema>;

export const signInSchema = z.strictObject({
  token: z.string().min(1, 'Enter the access token').max(512, 'That is not an access token'),
});
