// One upstream account as the admin view and /healthz show it: its state and load, never its
// address or secret.
import { z } from 'zod';

export const ACCOUNT_STATES = ['ready', 'paused', 'suspect', 'down', 'disabled'] as const;

export const accountStatusSchema = z.object({
  name: z.string(),
  kind: z.string(),
  /**
   * `paused`: its budget waiting out an upstream 429; `suspect`: a call just failed to arrive,
   * so no submission goes there until one succeeds; `down`: out of rotation (see `reason`).
   */
  state: z.enum(ACCOUNT_STATES),
  /** Why it is down (the admin view only; /healthz leaves it out). */
  reason: z.string().optional(),
  /** The next probe of a down account, as seconds from now. */
  probe_in_s: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive(),
  window_s: z.number().positive(),
  used: z.number().int().nonnegative(),
  paused_for_s: z.number().int().nonnegative().optional(),
  running: z.number().int().nonnegative(),
  max_running: z.number().int().positive(),
  /** Queued submissions this account could take. */
  queued: z.number().int().nonnegative(),
  /** The last failure that spoke of the account (the admin view only). */
  last_error: z.object({ message: z.string(), at: z.string() }).optional(),
});
export type AccountStatus = z.infer<typeof accountStatusSchema>;

export const accountListSchema = z.object({ accounts: z.array(accountStatusSchema) });
export type AccountList = z.infer<typeof accountListSchema>;
