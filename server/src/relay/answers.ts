// The relay protocol's submit answer, `{ code, description, result, properties }` in HTTP 200,
// and how our errors read in it: 4 for input we refuse, 24 for the content filter, 23 for a
// full queue or a spent limit, 9 for an upstream fault. The relay face's counterpart of
// http/error-handler.ts, for clients that read codes rather than statuses.
import { AppError, DomainError, UpstreamError } from '../errors';

export interface RelayAnswer {
  code: number;
  description: string;
  result: string | null;
  properties: Record<string, unknown>;
}

/**
 * Accepted, whether sent at once or waiting for budget: code 1 either way, the wait in
 * `numberOfQueues`. Some clients (a chat-app plugin) take anything but 1, 22 included, as a
 * refusal and never poll; gateways turn 22 into 1 anyway.
 */
export const accepted = (taskNumber: number, queued?: number): RelayAnswer =>
  queued
    ? {
        code: 1,
        description: `In queue, ${queued} ahead`,
        result: String(taskNumber),
        properties: { numberOfQueues: queued },
      }
    : { code: 1, description: 'Submit success', result: String(taskNumber), properties: {} };

export const refused = (description: string, code = 4, properties: Record<string, unknown> = {}): RelayAnswer => ({
  code,
  description,
  result: null,
  properties,
});

/** The code a failure is answered with; undefined for a bug (a real 500). */
export function answerFor(error: unknown): RelayAnswer | undefined {
  if (error instanceof DomainError) {
    if (error.kind === 'queue_full' || error.kind === 'limit_reached') {
      return refused(error.message, 23, error.retryAfterS ? { retryAfterS: error.retryAfterS } : {});
    }
    return refused(error.message);
  }
  if (error instanceof UpstreamError) {
    if (error.kind === 'refused') {
      const word = /banned word "([^"]+)"/.exec(error.message)?.[1];
      return refused(error.message, 24, word ? { bannedWord: word } : {});
    }
    if (error.kind === 'rate_limited') return refused(error.message, 23);
    if (error.kind === 'rejected') return refused(error.message);
    return refused(error.message, 9);
  }
  if (error instanceof AppError) {
    if (error.status === 422) return refused(error.message, 24);
    if (error.status === 429) return refused(error.message, 23);
    if (error.status >= 500) return refused(error.message, 9);
    const field = error.fields?.[0];
    return refused(field ? `${error.message}: ${field.path} ${field.message}` : error.message);
  }
  return undefined;
}
