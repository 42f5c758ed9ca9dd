// The one place errors become responses: every error, ours, a service's, the body parser's or
// the upstream's, leaves as the shared JSON error shape. Only real bugs are 500s.
import type { ErrorBody, ErrorCode } from '@shared/schemas/error';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, DomainError, type DomainFailure, UpstreamError, type UpstreamFailure } from '../errors';

const BODY_PARSER_ERRORS: Record<string, { status: number; code: ErrorCode; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'malformed_json', message: 'The request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'The request body is too large' },
  'encoding.unsupported': { status: 415, code: 'unsupported_media_type', message: 'Unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'unsupported_media_type', message: 'Unsupported charset' },
};

const DOMAIN_TO_HTTP: Record<DomainFailure, { status: number; code: ErrorCode }> = {
  not_found: { status: 404, code: 'not_found' },
  conflict: { status: 409, code: 'conflict' },
  queue_full: { status: 429, code: 'rate_limited' },
  limit_reached: { status: 429, code: 'rate_limited' },
  invalid: { status: 400, code: 'invalid_request' },
};

const UPSTREAM_TO_HTTP: Record<UpstreamFailure, { status: number; code: ErrorCode }> = {
  auth: { status: 502, code: 'upstream_auth' },
  account: { status: 502, code: 'upstream_auth' },
  busy: { status: 429, code: 'rate_limited' },
  refused: { status: 422, code: 'content_refused' },
  rejected: { status: 400, code: 'invalid_request' },
  rate_limited: { status: 429, code: 'rate_limited' },
  not_found: { status: 404, code: 'not_found' },
  timeout: { status: 504, code: 'upstream_timeout' },
  unavailable: { status: 502, code: 'upstream_unavailable' },
  bad_response: { status: 502, code: 'upstream_bad_response' },
};

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof DomainError) {
    const { status, code } = DOMAIN_TO_HTTP[error.kind];
    return new AppError(status, code, error.message, {
      ...(error.retryAfterS !== undefined ? { retryAfterS: error.retryAfterS } : {}),
      ...(error.field ? { fields: [{ path: error.field, message: error.message }] } : {}),
      cause: error,
    });
  }
  if (error instanceof UpstreamError) {
    const { status, code } = UPSTREAM_TO_HTTP[error.kind];
    return new AppError(status, code, error.message, {
      ...(error.retryAfterS !== undefined ? { retryAfterS: error.retryAfterS } : {}),
      cause: error,
    });
  }
  if (typeof error === 'object' && error !== null) {
    const type = 'type' in error && typeof error.type === 'string' ? error.type : '';
    const known = BODY_PARSER_ERRORS[type];
    if (known) return new AppError(known.status, known.code, known.message, { cause: error });
    const status = 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 400 && status < 500) {
      return new AppError(status === 404 ? 404 : 400, status === 404 ? 'not_found' : 'invalid_request', 'Bad request', {
        cause: error,
      });
    }
  }
  return new AppError(500, 'internal', 'Something went wrong on the server', { cause: error });
}

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const appError = toAppError(error);
  if (appError.status >= 500) {
    req.log?.error({ err: error }, 'request failed');
  } else {
    req.log?.info({ code: appError.code, status: appError.status }, appError.message);
  }
  const body: ErrorBody = { error: { code: appError.code, message: appError.message } };
  if (appError.retryAfterS !== undefined) {
    body.error.retry_after_s = appError.retryAfterS;
    res.set('Retry-After', String(appError.retryAfterS));
  }
  if (appError.fields) body.error.fields = appError.fields;
  res.status(appError.status).json(body);
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError(404, 'not_found', `Nothing at ${req.method} ${req.path}`));
};
