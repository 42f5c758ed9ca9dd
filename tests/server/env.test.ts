import { expect, test } from 'vitest';
import { EnvError, parseEnv, upstreamKind } from '../../server/src/env';

test('an empty environment gives the documented defaults and simulator mode', () => {
  const env = parseEnv({});

  expect(env).toMatchObject({
    PORT: 3000,
    HOST: '127.0.0.1',
    MIDJOURNEY_API_BASE: 'https://api.midjourney.com/v1',
    UPSTREAM_TIMEOUT_MS: 15_000,
    SIM_TIME_FACTOR: 1,
  });
  expect(env.MIDJOURNEY_API_KEY).toBeUndefined();
});

test('an empty MIDJOURNEY_API_KEY means no key', () => {
  expect(parseEnv({ MIDJOURNEY_API_KEY: '' }).MIDJOURNEY_API_KEY).toBeUndefined();
});

test.each([
  ['PORT', 'eighty'],
  ['PORT', '70000'],
  ['MIDJOURNEY_API_BASE', 'ftp://example.com'],
  ['UPSTREAM_TIMEOUT_MS', '60000'],
  ['SIM_FAILURE_RATE', '1.5'],
  ['LOG_LEVEL', 'loud'],
  ['TRUST_PROXY', 'true'],
  ['ALLOWED_HOSTS', 'studio.example, bad host!'],
])('a wrong %s value stops start-up with a message naming it', (name, value) => {
  expect(() => parseEnv({ [name]: value })).toThrow(EnvError);
  expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`${name}:`));
});

test('the error message never repeats the API key', () => {
  const attempt = () => parseEnv({ MIDJOURNEY_API_KEY: 'sk-secret-123', PORT: 'x' });

  expect(attempt).toThrow(EnvError);
  expect(attempt).not.toThrow(/sk-secret-123/);
});

test.each([
  [{}, 'simulator'],
  [{ MIDJOURNEY_API_KEY: 'k' }, 'v7'],
  [{ UPSTREAM: 'simulator', MIDJOURNEY_API_KEY: 'k' }, 'simulator'],
  [{ UPSTREAM: 'mj-proxy', MJ_PROXY_BASE: 'http://relay:8080/mj' }, 'mj-proxy'],
])('the upstream for %j is %s', (source, kind) => {
  expect(upstreamKind(parseEnv(source))).toBe(kind);
});

test.each([
  [{ UPSTREAM: 'v7' }, /MIDJOURNEY_API_KEY: required when UPSTREAM=v7/],
  [{ UPSTREAM: 'mj-proxy' }, /MJ_PROXY_BASE: required when UPSTREAM=mj-proxy/],
  [{ UPSTREAM: 'dall-e' }, /UPSTREAM:/],
])('an incomplete upstream choice %j stops start-up naming what is missing', (source, message) => {
  expect(() => parseEnv(source)).toThrow(message);
});
