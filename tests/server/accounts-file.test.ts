import { expect, test } from 'vitest';
import { parseAccountsFile, singleAccount } from '../../server/src/accounts/accounts-file';
import { parseEnv } from '../../server/src/env';

const file = (accounts: unknown[]) => JSON.stringify({ accounts });

test('an accounts file is read with its defaults, and env: secrets come from the environment', () => {
  const text = file([
    { name: 'relay-a', kind: 'mj-proxy', base_url: 'https://relay.example/mj', secret: 'env:RELAY_A', per_minute: 40 },
    { name: 'paid', kind: 'useapi', secret: 'literal-token', max_running: 3, weight: 2, modes: ['fast', 'relax'] },
    { name: 'sim', kind: 'simulator', enabled: false },
  ]);

  const specs = parseAccountsFile(text, { RELAY_A: 'from-the-environment' });

  expect(specs).toEqual([
    {
      name: 'relay-a',
      kind: 'mj-proxy',
      baseUrl: 'https://relay.example/mj',
      secret: 'from-the-environment',
      perMinute: 40,
      maxRunning: 10,
      weight: 1,
      modes: ['fast', 'relax', 'turbo'],
      enabled: true,
      channel: undefined,
    },
    {
      name: 'paid',
      kind: 'useapi',
      baseUrl: 'https://api.useapi.net',
      secret: 'literal-token',
      perMinute: 60,
      maxRunning: 3,
      weight: 2,
      modes: ['fast', 'relax'],
      enabled: true,
      channel: undefined,
    },
    {
      name: 'sim',
      kind: 'simulator',
      baseUrl: undefined,
      secret: undefined,
      perMinute: 60,
      maxRunning: 10,
      weight: 1,
      modes: ['fast', 'relax', 'turbo'],
      enabled: false,
      channel: undefined,
    },
  ]);
});

test('a wrong entry stops start-up with a message naming the entry and the field, never the secret', () => {
  const text = file([
    { name: 'good', kind: 'v7', base_url: 'https://api.example/v1', secret: 'a-very-secret-value' },
    { name: 'bad', kind: 'v7', base_url: 'ftp://nope', secret: 'another-secret-value', per_minute: 0 },
  ]);

  let message = '';
  try {
    parseAccountsFile(text, {}, 'ACCOUNTS_FILE pool.json');
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }

  expect(message).toContain('Invalid accounts in ACCOUNTS_FILE pool.json');
  expect(message).toContain('accounts[1] ("bad").base_url: must be an http(s) URL');
  expect(message).toContain('accounts[1] ("bad").per_minute');
  expect(message).not.toContain('secret-value');
});

test('a relay without a secret or an address, an unknown kind and an unknown field are each named', () => {
  const text = file([
    { name: 'relay', kind: 'mj-proxy' },
    { name: 'odd', kind: 'midjourney-direct', secret: 'x' },
    { name: 'typo', kind: 'simulator', per_minut: 60 },
  ]);

  expect(() => parseAccountsFile(text, {})).toThrow(/accounts\[0\] \("relay"\)\.secret: required for kind mj-proxy/);
  expect(() => parseAccountsFile(text, {})).toThrow(/accounts\[0\] \("relay"\)\.base_url: required for kind mj-proxy/);
  expect(() => parseAccountsFile(text, {})).toThrow(/accounts\[1\] \("odd"\)\.kind/);
  expect(() => parseAccountsFile(text, {})).toThrow(/accounts\[2\] \("typo"\).*per_minut/);
});

test('two accounts of one name, none enabled, or an env: secret that is not set stop start-up', () => {
  const twice = file([
    { name: 'same', kind: 'simulator' },
    { name: 'same', kind: 'simulator' },
  ]);
  const off = file([{ name: 'off', kind: 'simulator', enabled: false }]);
  const unset = file([{ name: 'r', kind: 'mj-proxy', base_url: 'https://relay.example/mj', secret: 'env:MISSING' }]);

  expect(() => parseAccountsFile(twice, {})).toThrow(/accounts\[1\] \("same"\)\.name: "same" is used twice/);
  expect(() => parseAccountsFile(off, {})).toThrow(/at least one account must be enabled/);
  expect(() => parseAccountsFile(unset, {})).toThrow(/accounts\[0\] \("r"\)\.secret: MISSING is not set/);
  expect(() => parseAccountsFile('{"accounts": [', {})).toThrow(/is not valid JSON/);
  // The parser's message quotes the text near the fault; ours leaves that out.
  expect(() => parseAccountsFile('{"accounts":[{"secret":user-secret-1234}]}', {})).toThrow(
    "ACCOUNTS_FILE is not valid JSON (Unexpected token 'u')",
  );
});

test("without ACCOUNTS_FILE, today's single-account settings are a pool of one", () => {
  const env = parseEnv({
    UPSTREAM: 'mj-proxy',
    MJ_PROXY_BASE: 'https://relay.example/mj',
    MJ_PROXY_SECRET: 's3cret',
    BUDGET_PER_MINUTE: '45',
  });

  expect(singleAccount(env)).toMatchObject({
    name: 'mj-proxy',
    kind: 'mj-proxy',
    baseUrl: 'https://relay.example/mj',
    secret: 's3cret',
    perMinute: 45,
    enabled: true,
  });
});
