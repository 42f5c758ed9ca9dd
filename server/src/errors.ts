// Operational errors the API answers with, and the upstream failures they come from.
// Anything that is not one of these is a bug and becomes a 500.
import type { ErrorCode, FieldIssue } from '@shared/schemas/error';

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

export type UpstreamFailure =
  | 'auth'
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

const UPSTREAM_TO_HTTP: Record<UpstreamFailure, { status: number; code: ErrorCode }> = {
  auth: { status: 502, code: 'upstream_auth' },
  refused: { status: 422, code: 'content_refused' },
  rejected: { status: 400, code: 'invalid_request' },
  rate_limited: { status: 429, code: 'rate_limited' },
  not_found: { status: 404, code: 'not_found' },
  timeout: { status: 504, code: 'upstream_timeout' },
  unavailable: { status: 502, code: 'upstream_unavailable' },
  bad_response: { status: 502, code: 'upstream_bad_response' },
};

export function toAppError(error: UpstreamError): AppError {
  const { status, code } = UPSTREAM_TO_HTTP[error.kind];
  return new AppError(status, code, error.message, { retryAfterS: error.retryAfterS, cause: error });
}
