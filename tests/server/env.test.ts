import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createServer } from '../../server/src/compose';
import { EnvError, parseEnv, upstreamKind } from '../../server/src/env';
import { createLogger } from '../../server/src/logger';

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

test('REDIS_URL without DATABASE_URL is refused: several instances need one shared history', () => {
  expect(() => parseEnv({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/REDIS_URL: .*set DATABASE_URL too/);
  expect(() => parseEnv({ DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL: must be a postgresql:\/\/ URL/);
  expect(() => parseEnv({ REDIS_PREFIX: 'has space' })).toThrow(/REDIS_PREFIX/);
  expect(parseEnv({ DATABASE_URL: 'postgresql://db/mj', REDIS_URL: 'rediss://cache:6380' })).toMatchObject({
    DATABASE_URL: 'postgresql://db/mj',
    REDIS_URL: 'rediss://cache:6380',
    REDIS_PREFIX: 'mj-studio:',
  });
});

test('several instances refuse the built-in simulator, which lives inside one process, before connecting anywhere', async () => {
  const config = {
    ...parseEnv({ DATABASE_URL: 'postgresql://nowhere.invalid/mj', REDIS_URL: 'redis://nowhere.invalid:6379' }),
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mj-env-')),
  };

  await expect(createServer(config, { logger: createLogger({ level: 'silent' }) })).rejects.toThrow(
    /built-in simulator lives inside one process.*\n.*npm run simulator/,
  );
});
