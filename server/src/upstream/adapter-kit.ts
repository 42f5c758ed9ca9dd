// What the upstream adapters share: cleaning, bounding and scrubbing the upstream's own words, reading its JSON bodies
// and callback hints, the webhook address, the public-link rule for images, and the refusals every API words alike.

import { z } from 'zod';
import { UpstreamError } from '../errors';
import type { ImageInput, UpstreamStatus, WebhookNotice } from './adapter';
import { parseRetryAfter } from './http-client';

/** The longest stretch of an upstream's own words we repeat in an error. */
export const REASON_MAX = 300;
/** A 429 without a usable Retry-After is tried again after this long. */
export const DEFAULT_RETRY_AFTER_S = 30;

/** A table's own entry for an upstream's word (a status name), never an inherited one (`constructor`). */
export const ownEntry = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Untrusted words as one bounded line: control and bidi characters become spaces, runs of space one. */
export const cleanLine = (text: string, max = REASON_MAX): string =>
  text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim().slice(0, max);

/** Takes a secret out of a text before it leaves in our words. */
export type Scrub = (text: string) => string;

/** The scrub for one secret: every copy becomes `[redacted]` (an empty secret leaves the text as it is). */
export const secretScrubber =
  (secret: string): Scrub =>
  (text) =>
    secret ? text.split(secret).join('[redacted]') : text;

/** Where an upstream should call back: an address, or a function giving it once the server listens. */
export type CallbackUrl = string | (() => string | undefined) | undefined;

/** The callback address as it stands now. */
export const callbackUrlNow = (url: CallbackUrl): string | undefined => (typeof url === 'function' ? url() : url);

/** A link the upstream hands us: http or https only. */
export const httpUrl = z.url({ protocol: /^https?$/ });

/** A list read item by item: items the schema refuses are dropped, and a list that is no list is none. */
export const lenientList = <T>(item: z.ZodType<T>) =>
  z
    .array(z.unknown())
    .nullish()
    .catch(undefined)
    .transform((items) =>
      items?.flatMap((value) => {
        const parsed = item.safeParse(value);
        return parsed.success ? [parsed.data] : [];
      }),
    );

/** An upstream's JSON bytes as a value; undefined when they are not JSON. */
export function jsonOf(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** An upstream's JSON bytes read with a schema; undefined when they are not JSON or do not match. */
export const parseJsonBody = <T>(body: Uint8Array, schema: z.ZodType<T>): T | undefined =>
  schema.safeParse(jsonOf(body)).data;

/** Whether a status is an end: complete, failed or cancelled. */
export const isFinal = (status: UpstreamStatus | undefined): boolean =>
  status === 'complete' || status === 'failed' || status === 'cancelled';

/**
 * A callback body as a hint: these upstreams sign nothing, so only "look at job X again" is believed.
 * `read` names the job and says whether the body is worth an early look; a body the schema refuses is no notice.
 */
export function readHint<T>(
  body: Buffer,
  schema: z.ZodType<T>,
  read: (hint: T) => { upstreamId: string; final: boolean },
): WebhookNotice | undefined {
  const hint = parseJsonBody(body, schema);
  return hint === undefined ? undefined : { kind: 'hint', ...read(hint) };
}

/** For APIs that fetch every image themselves: the refusal for the first image we have no public link for. */
export function requirePublicLinks(images: readonly ImageInput[], refusal: (role: ImageInput['role']) => string): void {
  const unlinked = images.find((image) => !image.url);
  if (unlinked) throw new UpstreamError('rejected', refusal(unlinked.role));
}

/** A 429: `who` is rate limiting, to be tried again after its Retry-After (else DEFAULT_RETRY_AFTER_S). */
export function rateLimited(who: string, retryAfter: string | null, extra: { upstreamStatus?: number } = {}) {
  const retryAfterS = parseRetryAfter(retryAfter) ?? DEFAULT_RETRY_AFTER_S;
  return new UpstreamError('rate_limited', `${who} is rate limiting; try again in ${retryAfterS} s`, {
    ...extra,
    retryAfterS,
  });
}

/** An HTTP status no case of the adapter's took: a 5xx is `unavailable`, anything else a malformed answer. */
export function unexpectedHttp(who: string, status: number, extra: { upstreamStatus?: number } = {}) {
  return status >= 500
    ? new UpstreamError('unavailable', `${who} failed with HTTP ${status}`, extra)
    : new UpstreamError('bad_response', `${who} answered with unexpected HTTP ${status}`, extra);
}
