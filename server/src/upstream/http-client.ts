// The one outbound HTTP client every call to the upstream's API goes through: a time-out on
// every call, bounded response bodies, and network failures turned into UpstreamErrors. Node's
// fetch keeps connections alive in its global pool, so repeated calls reuse sockets. The API's
// URLs come from our configuration and are trusted; links the upstream hands back (images,
// previews) are not, and go through safe-fetch.ts instead.
import type { z } from 'zod';
import { UpstreamError } from '../errors';

/** The largest JSON answer any upstream contract needs. */
export const MAX_JSON_BYTES = 256 * 1024;

export interface UpstreamReply {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

export interface HttpClientOptions {
  timeoutMs: number;
}

export class UpstreamHttpClient {
  readonly timeoutMs: number;
  /** The hosts (with their ports) this client has spoken to as the upstream's API. */
  readonly #upstreamHosts = new Set<string>();

  constructor(options: HttpClientOptions) {
    this.timeoutMs = options.timeoutMs;
  }

  /** Whether a URL's host is one this client calls as the upstream's API: the upstream's own host. */
  isUpstreamHost(host: string): boolean {
    return this.#upstreamHosts.has(host);
  }

  /** Calls the upstream's API; `url` is built from the configured base URL, never from an answer. */
  async request(url: string, init: RequestInit & { maxBytes: number }): Promise<UpstreamReply> {
    const { maxBytes, ...rest } = init;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      this.#upstreamHosts.add(new URL(url).host);
      response = await fetch(url, { ...rest, signal, redirect: 'follow' });
    } catch (error) {
      throw this.#transportError(error, signal);
    }
    try {
      const body = await readBounded(response, maxBytes);
      return { status: response.status, headers: response.headers, body };
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw this.#transportError(error, signal);
    }
  }

  #transportError(error: unknown, signal: AbortSignal): UpstreamError {
    if (signal.aborted) {
      return new UpstreamError('timeout', `The upstream did not answer within ${this.timeoutMs} ms`, {
        cause: error,
      });
    }
    return new UpstreamError('unavailable', 'The upstream could not be reached', { cause: error });
  }
}

async function readBounded(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    // Not awaited: some bodies only settle a cancel once drained.
    response.body?.cancel().catch(() => undefined);
    throw new UpstreamError('bad_response', `The upstream answer is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => undefined);
      throw new UpstreamError('bad_response', `The upstream answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Retry-After is either delay-seconds or an HTTP date; answers whole seconds, at least 1. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.max(1, Number.parseInt(trimmed, 10));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(1, Math.ceil((date - now) / 1000));
}

/** Parses an upstream's JSON answer with its schema; anything else is a malformed answer. */
export function parseJsonReply<T>(reply: UpstreamReply, schema: z.ZodType<T>, who = 'The upstream'): T {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(reply.body).toString('utf8'));
  } catch (error) {
    throw new UpstreamError('bad_response', `${who} answered with something that is not JSON`, { cause: error });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new UpstreamError('bad_response', `${who}'s answer did not match its contract`, { cause: result.error });
  }
  return result.data;
}
