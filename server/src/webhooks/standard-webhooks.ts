// Verifying (and, for the simulator, producing) webhooks as the Standard Webhooks spec
// defines them: HMAC-SHA256 over `id.timestamp.body` of the raw body, keyed with the
// base64 secret after its `whsec_` prefix; `webhook-signature` lists `v1,<base64>` values
// (any one may match, so secrets can rotate); timestamps within a tolerance either way.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DEFAULT_TOLERANCE_S = 5 * 60;

export type Verification =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: 'missing headers' | 'stale timestamp' | 'bad signature' | 'bad secret' };

function keyOf(secret: string): Buffer | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  return key.length > 0 ? key : undefined;
}

export function sign(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const key = keyOf(secret);
  if (!key) throw new Error('A webhook secret must be base64, optionally after whsec_');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export function verify(
  secret: string,
  headers: WebhookHeaders,
  body: Buffer,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = DEFAULT_TOLERANCE_S,
): Verification {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing headers' };
  const seconds = Number(timestamp);
  if (Math.abs(nowS - seconds) > toleranceS) return { ok: false, reason: 'stale timestamp' };
  const key = keyOf(secret);
  if (!key) return { ok: false, reason: 'bad secret' };
  const expected = Buffer.from(sign(secret, id, seconds, body).slice(3), 'base64');
  const matches = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .some((entry) => {
      const given = Buffer.from(entry.slice(3), 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  return matches ? { ok: true, id, timestamp: seconds } : { ok: false, reason: 'bad signature' };
}
