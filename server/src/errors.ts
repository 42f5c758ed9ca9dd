// The errors the server speaks in. Services raise domain errors (what went wrong, in the
// terms of jobs and limits) and upstream errors (what the upstream said); only the error
// middleware (http/error-handler.ts) turns them into HTTP. Anything else is a bug: a 500.
import type { ErrorCode, FieldIssue } from '@shared/schemas/error';

/** An error the HTTP layer raises itself, already in HTTP terms (bad input, no access). */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly retryAfterS: number | undefined;
  readonly fields: FieldIssue[] | undefined;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    extra: { retryAfterS?: number; fields?: FieldIssue[]; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.retryAfterS = extra.retryAfterS;
    this.fields = extra.fields;
  }
}

/**
 * `not_found`: no such thing for this caller. `conflict`: the thing exists but its state
 * forbids the request. `queue_full`: the shared upstream budget cannot take more now.
 * `limit_reached`: this client's own limit. `invalid`: input that passed the schema but
 * means nothing here (a cursor this server never made).
 */
export type DomainFailure = 'not_found' | 'conflict' | 'queue_full' | 'limit_reached' | 'invalid';

export class DomainError extends Error {
  readonly kind: DomainFailure;
  readonly retryAfterS: number | undefined;
  /** For `invalid`: the input field at fault. */
  readonly field: string | undefined;

  constructor(kind: DomainFailure, message: string, extra: { retryAfterS?: number; field?: string } = {}) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.retryAfterS = extra.retryAfterS;
    this.field = extra.field;
  }
}

/**
 * `auth`: the credentials were refused. `account`: the account cannot take work now for a
 * reason of its own (out of credits, banned, waiting on a CAPTCHA or a moderation message),
 * so a pool takes it out of rotation until it answers again. `busy`: the account's queue of
 * jobs is full (a relay's code 23, useapi.net's 429): no new job there for a while, but its
 * status checks go on (unlike `rate_limited`, which pauses every call).
 */
export type UpstreamFailure =
  | 'auth'
  | 'account'
  | 'busy'
  | 'refused'
  | 'rejected'
  | 'rate_limited'
  | 'not_found'
  | 'timeout'
  | 'unavailable'
  | 'bad_response';

export class UpstreamError extends Error {
  readonly kind: UpstreamFailure;
  readonly retryAfterS: number | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(
    kind: UpstreamFailure,
    message: string,
    extra: { retryAfterS?: number; upstreamStatus?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.retryAfterS = extra.retryAfterS;
    this.upstreamStatus = extra.upstreamStatus;
  }
}
