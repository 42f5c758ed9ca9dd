import { expect, test } from 'vitest';
import { sign, verify } from '../../server/src/webhooks/standard-webhooks';

const SECRET = `whsec_${Buffer.from('a-32-byte-webhook-signing-secret').toString('base64')}`;
const OTHER = `whsec_${Buffer.from('another-secret-entirely-0000000').toString('base64')}`;
const NOW = 1_800_000_000;
const body = Buffer.from(JSON.stringify({ job_id: 'up_1', status: 'complete', image_url: 'https://cdn.test/1.png' }));
const headersFor = (signature: string, timestamp = NOW, id = 'msg_1') => ({
  id,
  timestamp: String(timestamp),
  signature,
});

test('a correctly signed webhook verifies', () => {
  expect(verify(SECRET, headersFor(sign(SECRET, 'msg_1', NOW, body)), body, NOW)).toEqual({
    ok: true,
    id: 'msg_1',
    timestamp: NOW,
  });
});

test('a tampered body fails', () => {
  const tampered = Buffer.from(body.toString().replace('complete', 'failed'));

  expect(verify(SECRET, headersFor(sign(SECRET, 'msg_1', NOW, body)), tampered, NOW)).toEqual({
    ok: false,
    reason: 'bad signature',
  });
});

test('a signature made with the wrong secret fails', () => {
  expect(verify(SECRET, headersFor(sign(OTHER, 'msg_1', NOW, body)), body, NOW).ok).toBe(false);
});

test('a changed id or timestamp breaks the signature', () => {
  const signature = sign(SECRET, 'msg_1', NOW, body);

  expect(verify(SECRET, headersFor(signature, NOW, 'msg_2'), body, NOW).ok).toBe(false);
  expect(verify(SECRET, headersFor(signature, NOW + 1), body, NOW).ok).toBe(false);
});

test.each([
  [NOW - 5 * 60 - 1, false],
  [NOW + 5 * 60 + 1, false],
  [NOW - 5 * 60, true],
  [NOW + 5 * 60, true],
])('a timestamp of %i against now is accepted: %s (5-minute tolerance)', (timestamp, accepted) => {
  const result = verify(SECRET, headersFor(sign(SECRET, 'msg_1', timestamp, body), timestamp), body, NOW);

  expect(result.ok).toBe(accepted);
  if (!accepted) expect(result).toEqual({ ok: false, reason: 'stale timestamp' });
});

test.each([
  [{ id: undefined, timestamp: String(NOW), signature: 'v1,x' }],
  [{ id: 'msg_1', timestamp: undefined, signature: 'v1,x' }],
  [{ id: 'msg_1', timestamp: String(NOW), signature: undefined }],
  [{ id: 'msg_1', timestamp: 'yesterday', signature: 'v1,x' }],
])('missing or malformed headers fail: %j', (headers) => {
  expect(verify(SECRET, headers, body, NOW)).toEqual({ ok: false, reason: 'missing headers' });
});

test('several signatures of which one is valid verify (secret rotation)', () => {
  const signatures = [
    sign(OTHER, 'msg_1', NOW, body),
    'v1a,bm90LWEtdjEtc2lnbmF0dXJl',
    sign(SECRET, 'msg_1', NOW, body),
  ];

  expect(verify(SECRET, headersFor(signatures.join(' ')), body, NOW).ok).toBe(true);
});

test('signatures of another scheme are ignored, not trusted', () => {
  const mac = sign(SECRET, 'msg_1', NOW, body).slice(3);

  expect(verify(SECRET, headersFor(`v2,${mac}`), body, NOW).ok).toBe(false);
});
