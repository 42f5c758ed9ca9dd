// The one way the browser talks to our server: JSON (or an image's own bytes) in, zod-checked
// JSON out, and every non-2xx answer turned into an ApiError built from the shared error shape.
// The schemas come from the contract chunk, which loads alongside the first request (contract.ts).

import type { ErrorCode, FieldIssue } from '@shared/schemas/error';
import type { z } from 'zod';
import type * as ContractModule from './contract';
import { lazyModule } from './lazy-module';

export type Contract = typeof ContractModule;

export type ClientErrorCode = ErrorCode | 'network_error' | 'bad_response';

const RETRYABLE: ReadonlySet<ClientErrorCode> = new Set([
  'network_error',
  'rate_limited',
  'upstream_timeout',
  'upstream_unavailable',
  'upstream_bad_response',
  'internal',
  'bad_response',
]);

export class ApiError extends Error {
  readonly status: number;
  readonly code: ClientErrorCode;
  readonly retryAfterS: number | undefined;
  readonly fields: FieldIssue[];

  constructor(
    status: number,
    code: ClientErrorCode,
    message: string,
    extra: { retryAfterS?: number | undefined; fields?: FieldIssue[] | undefined } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterS = extra.retryAfterS;
    this.fields = extra.fields ?? [];
  }

  /** Whether asking again later can succeed (as opposed to bad input or a missing job). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** The shared schemas, loaded once (components read them with useContract()). */
export const contractModule = lazyModule<Contract>(() => import('./contract'));
export const loadContract = contractModule.load;

const unreachable = () => new ApiError(0, 'network_error', 'Could not reach the server. Check your connection.');

/** `pick` chooses the answer's schema from the contract: `({ jobSchema }) => jobSchema`. */
export async function apiRequest<S extends z.ZodType>(
  path: string,
  pick: (contract: Contract) => S,
  init: RequestInit = {},
): Promise<z.output<S>> {
  // Asked for now, so that the schemas arrive while the request is under way; a chunk that
  // cannot be loaded means the server cannot be reached either.
  const schemas = loadContract().catch(() => undefined);
  let response: Response;
  try {
    // Resolved against the page so that the same code runs in tests, where fetch needs an absolute URL.
    const type = contentTypeOf(init.body);
    response = await fetch(new URL(path, window.location.href), {
      ...init,
      headers: { accept: 'application/json', ...(type ? { 'content-type': type } : {}) },
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw unreachable();
  }

  const json: unknown = await response.json().catch(() => undefined);
  const loaded = await schemas;
  if (!loaded) throw unreachable();
  if (!response.ok) throw toApiError(response, json, loaded);

  const parsed = pick(loaded).safeParse(json);
  if (!parsed.success) {
    throw new ApiError(response.status, 'bad_response', 'The server sent an answer this page does not understand.');
  }
  return parsed.data;
}

/** A file goes as its own bytes with its own type (an upload); any other body is our JSON. */
function contentTypeOf(body: RequestInit['body']): string | undefined {
  if (!body) return undefined;
  if (body instanceof Blob) return body.type || 'application/octet-stream';
  return 'application/json';
}

function toApiError(response: Response, json: unknown, { errorBodySchema }: Contract): ApiError {
  const parsed = errorBodySchema.safeParse(json);
  const headerRetry = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
  if (parsed.success) {
    const { code, message, retry_after_s, fields } = parsed.data.error;
    return new ApiError(response.status, code, message, {
      retryAfterS: retry_after_s ?? (Number.isFinite(headerRetry) ? headerRetry : undefined),
      fields,
    });
  }
  return new ApiError(
    response.status,
    response.status >= 500 ? 'internal' : 'bad_response',
    `The server answered with HTTP ${response.status}.`,
  );
}
