// API keys made in the studio, through the API as a browser would use it (the secret shown once,
// owned like jobs, capped, revoked at once), the service the /mj routes authenticate with, and what
// the SQLite file alone keeps: keyed hashes, task numbers across a reopen and from older files.
// What every store does with keys and task numbers is in store-contract.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { apiKeyListSchema, createdApiKeySchema, MAX_LIVE_API_KEYS } from '@shared/schemas/api-key';
import { errorBodySchema } from '@shared/schemas/error';
import Database from 'better-sqlite3';
import express from 'express';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { markApiKeyRequest } from '../../server/src/http/api-key-request';
import { errorHandler } from '../../server/src/http/error-handler';
import { setOwner } from '../../server/src/http/owner';
import { apiKeyRoutes } from '../../server/src/routes/api-keys';
import { migrate, SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import { newJob } from '../support/job-records';
import { buildTestApp, cookieOf, mockUpstreamForEachTest, tempDir } from './helpers';

mockUpstreamForEachTest();

const TOKEN = 'correct-horse-battery-staple-42';

const apps: Awaited<ReturnType<typeof buildTestApp>>[] = [];
const stores: SqliteJobStore[] = [];
afterEach(async () => {
  for (const setup of apps.splice(0)) await setup.close();
  for (const store of stores.splice(0)) store.close();
});

async function app(options: Parameters<typeof buildTestApp>[0] = {}) {
  const setup = await buildTestApp(options);
  apps.push(setup);
  return setup;
}

function openStore(file = path.join(tempDir(), 'jobs.sqlite')) {
  const store = new SqliteJobStore(file);
  stores.push(store);
  return store;
}

async function createKey(agent: request.Agent, name = 'my script') {
  const response = await agent.post('/api/keys').send({ name });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  return createdApiKeySchema.parse(response.body);
}

test('POST /api/keys answers the new key and its secret, once; the list never shows the secret again', async () => {
  const { agent, logs } = await app();

  const response = await agent.post('/api/keys').send({ name: '  chat bot  ' });
  const created = createdApiKeySchema.parse(response.body);
  const listed = await agent.get('/api/keys');

  expect(response.status).toBe(201);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(created.secret).toMatch(/^mjk_[A-Za-z0-9_-]{43}$/);
  expect(created.key).toEqual({
    id: expect.stringMatching(/^ak_/),
    name: 'chat bot',
    hint: `mjk_…${created.secret.slice(-4)}`,
    created_at: expect.any(String),
    last_used_at: null,
    revoked_at: null,
  });
  expect(apiKeyListSchema.parse(listed.body).keys).toEqual([created.key]);
  expect(listed.text).not.toContain(created.secret);
  expect(listed.text).not.toContain('hash');
  expect(logs.join('')).not.toContain(created.secret);
});

test('the list is newest first and includes revoked keys, marked as such', async () => {
  const { agent } = await app();
  const first = await createKey(agent, 'first');
  const second = await createKey(agent, 'second');

  const revoked = await agent.delete(`/api/keys/${first.key.id}`);
  const keys = apiKeyListSchema.parse((await agent.get('/api/keys')).body).keys;

  expect(revoked.status).toBe(204);
  expect(keys.map((key) => key.name)).toEqual(['second', 'first']);
  expect(keys.map((key) => key.id)).toEqual([second.key.id, first.key.id]);
  expect(keys[0]?.revoked_at).toBeNull();
  expect(keys[1]?.revoked_at).toEqual(expect.any(String));
});

test('a key authenticates as an owner of its own, a new one per key, and not as its creator', async () => {
  const { agent, apiKeys } = await app();
  const one = await createKey(agent, 'one');
  const two = await createKey(agent, 'two');

  const ownerOne = apiKeys.authenticate(one.secret);
  const ownerTwo = apiKeys.authenticate(two.secret);

  expect(ownerOne).toEqual({ status: 'live', owner: expect.stringMatching(/^key-[A-Za-z0-9_-]{16,}$/) });
  expect(ownerTwo).toEqual({ status: 'live', owner: expect.stringMatching(/^key-/) });
  expect(ownerOne).not.toEqual(ownerTwo);
  expect(apiKeys.authenticate(one.secret)).toEqual(ownerOne);
});

test('anything but a key secret this server made is unknown', async () => {
  const { agent, apiKeys } = await app();
  const { secret } = await createKey(agent);

  const answers = [
    '',
    TOKEN,
    `${secret}x`,
    secret.slice(0, -1),
    `mjk_${'A'.repeat(43)}`,
    secret.replace('mjk_', 'MJK_'),
    ` ${secret}`,
  ].map((attempt) => apiKeys.authenticate(attempt));

  expect(answers).toEqual(answers.map(() => ({ status: 'unknown' })));
});

test('a revoked key fails at once, told apart from a secret never made, and revoking it again changes nothing', async () => {
  const { agent, apiKeys } = await app();
  const { key, secret } = await createKey(agent);
  const before = apiKeys.authenticate(secret);

  const revoked = await agent.delete(`/api/keys/${key.id}`);
  const after = apiKeys.authenticate(secret);
  const again = await agent.delete(`/api/keys/${key.id}`);

  expect(before).toMatchObject({ status: 'live' });
  expect(revoked.status).toBe(204);
  expect(after).toEqual({ status: 'revoked' });
  expect(again.status).toBe(204);
});

test("another owner neither sees nor revokes someone's key", async () => {
  const { agent, app: express, apiKeys } = await app();
  const { key, secret } = await createKey(agent);
  const stranger = request.agent(express);

  const listed = await stranger.get('/api/keys');
  const revoke = await stranger.delete(`/api/keys/${key.id}`);

  expect(apiKeyListSchema.parse(listed.body).keys).toEqual([]);
  expect(revoke.status).toBe(404);
  expect(errorBodySchema.parse(revoke.body).error.code).toBe('not_found');
  expect(apiKeys.authenticate(secret)).toMatchObject({ status: 'live' });
  expect(apiKeyListSchema.parse((await agent.get('/api/keys')).body).keys[0]?.revoked_at).toBeNull();
});

test(`an owner may have ${MAX_LIVE_API_KEYS} live keys; past that, 409 until one is revoked`, async () => {
  const { agent } = await app();
  const made = [];
  for (let i = 0; i < MAX_LIVE_API_KEYS; i++) made.push(await createKey(agent, `key ${i}`));

  const over = await agent.post('/api/keys').send({ name: 'one too many' });
  await agent.delete(`/api/keys/${made[0]?.key.id}`);
  const afterRevoking = await agent.post('/api/keys').send({ name: 'in its place' });

  expect(over.status).toBe(409);
  expect(errorBodySchema.parse(over.body).error).toMatchObject({ code: 'conflict', message: /revoke one/ });
  expect(afterRevoking.status).toBe(201);
});

test.each([
  ['an empty name', { name: '' }],
  ['a name of spaces', { name: '   ' }],
  ['a name of 61 characters', { name: 'x'.repeat(61) }],
  ['a name with a line break inside', { name: 'two\nlines' }],
  ['a name with a tab inside', { name: 'tab\there' }],
  ['a name with a bidirectional override', { name: 'evil\u202Egnp.exe' }],
  ['a name that is not a string', { name: 42 }],
  ['no name', {}],
  ['an unknown field', { name: 'ok', scope: 'admin' }],
])('POST /api/keys answers 400 for %s', async (_label, body) => {
  const { agent } = await app();

  const response = await agent.post('/api/keys').send(body);

  expect(response.status).toBe(400);
  expect(errorBodySchema.parse(response.body).error.code).toBe('invalid_request');
  expect(apiKeyListSchema.parse((await agent.get('/api/keys')).body).keys).toEqual([]);
});

test('a name of 60 characters is accepted', async () => {
  const { agent } = await app();

  const { key } = await createKey(agent, 'é'.repeat(60));

  expect(key.name).toBe('é'.repeat(60));
});

test('DELETE /api/keys/:id answers 400 for an id this server never makes', async () => {
  const { agent } = await app();

  const response = await agent.delete('/api/keys/not-a-key');

  expect(response.status).toBe(400);
});

test('the SQLite file holds a keyed hash of the secret, never the secret', async () => {
  const { agent, dataDir } = await app();
  const { secret } = await createKey(agent);
  const file = path.join(dataDir, 'jobs.sqlite');

  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT * FROM api_keys').all();
  db.close();
  const bytes = Buffer.concat([readFileSync(file), ...[`${file}-wal`].flatMap((wal) => readOrNothing(wal))]);

  expect(rows).toEqual([expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
  expect(JSON.stringify(rows)).not.toContain(secret.slice(4, 20));
  expect(bytes.includes(secret.slice(4, 20))).toBe(false);
});

const readOrNothing = (file: string): Buffer[] => {
  try {
    return [readFileSync(file)];
  } catch {
    return [];
  }
};

test('a use is recorded as "last used", at most once a minute', async () => {
  let now = Date.parse('2026-05-01T10:00:00Z');
  const { agent, apiKeys } = await app({ now: () => now });
  const { secret } = await createKey(agent);
  const lastUsed = async () => apiKeyListSchema.parse((await agent.get('/api/keys')).body).keys[0]?.last_used_at;

  const never = await lastUsed();
  apiKeys.authenticate(secret);
  const first = await lastUsed();
  now += 30_000;
  apiKeys.authenticate(secret);
  const halfAMinuteLater = await lastUsed();
  now += 31_000;
  apiKeys.authenticate(secret);
  const aMinuteLater = await lastUsed();

  expect(never).toBeNull();
  expect(first).toBe('2026-05-01T10:00:00.000Z');
  expect(halfAMinuteLater).toBe('2026-05-01T10:00:00.000Z');
  expect(aMinuteLater).toBe('2026-05-01T10:01:01.000Z');
});

test('with ACCESS_TOKEN set, /api/keys needs the token or a session', async () => {
  const { app: express } = await app({ security: { accessToken: TOKEN } });

  const anonymous = await request(express).post('/api/keys').send({ name: 'sneaky' });
  const withToken = await request(express)
    .post('/api/keys')
    .set('authorization', `Bearer ${TOKEN}`)
    .send({ name: 'ok' });

  expect(anonymous.status).toBe(401);
  expect(withToken.status).toBe(201);
});

test('keys a browser made before ACCESS_TOKEN was set come along when it signs in: listed and revocable there', async () => {
  const before = await app();
  const first = await before.agent.get('/api/jobs');
  const { key, secret } = await createKey(before.agent);
  await before.close();
  const guarded = await app({ dataDir: before.dataDir, security: { accessToken: TOKEN } });
  const browser = request.agent(guarded.app);

  await browser.post('/api/session').set('cookie', cookieOf(first, 'mj_owner')).send({ token: TOKEN });
  const listed = apiKeyListSchema.parse((await browser.get('/api/keys')).body).keys;
  const revoked = await browser.delete(`/api/keys/${key.id}`);
  const used = await request(guarded.app).get('/api/jobs').set('authorization', `Bearer ${secret}`);

  expect(listed.map((one) => one.id)).toEqual([key.id]);
  expect(revoked.status).toBe(204);
  expect(used.status).toBe(401);
});

test("a new ACCESS_TOKEN ends the keys its old owner made, for good; a cookie owner's keys keep working", async () => {
  const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
  const open = await app();
  const byCookie = await createKey(open.agent);
  await open.close();
  const first = await app({ dataDir: open.dataDir, security: { accessToken: TOKEN } });
  const byToken = createdApiKeySchema.parse(
    (await request(first.app).post('/api/keys').set(bearer(TOKEN)).send({ name: 'old token' })).body,
  );
  await first.close();

  const rotated = await app({ dataDir: open.dataDir, security: { accessToken: `${TOKEN}-rotated` } });
  const ended = await request(rotated.app).get('/api/jobs').set(bearer(byToken.secret));
  const kept = await request(rotated.app).get('/api/jobs').set(bearer(byCookie.secret));
  await rotated.close();
  const back = await app({ dataDir: open.dataDir, security: { accessToken: TOKEN } });
  const afterRotation = await request(back.app).get('/api/jobs').set(bearer(byToken.secret));
  const listed = apiKeyListSchema.parse((await request(back.app).get('/api/keys').set(bearer(TOKEN))).body).keys;

  expect(ended.status).toBe(401);
  expect(errorBodySchema.parse(ended.body).error.message).toBe('This API key was revoked');
  expect(kept.status).toBe(200);
  expect(afterRotation.status).toBe(401);
  expect(listed.map((key) => [key.id, key.revoked_at !== null])).toEqual([[byToken.key.id, true]]);
});

test('a request authenticated by an API key may not list, create or revoke keys', async () => {
  const { apiKeys } = await app();
  const keyed = express();
  keyed.use((req, _res, next) => {
    setOwner(req, 'key-owner-of-its-own');
    markApiKeyRequest(req);
    next();
  });
  const router = express.Router();
  apiKeyRoutes(router, apiKeys);
  keyed.use('/api', router);
  keyed.use(errorHandler);

  const answers = await Promise.all([
    request(keyed).get('/api/keys'),
    request(keyed).post('/api/keys').send({ name: 'another' }),
    request(keyed).delete('/api/keys/ak_AAAAAAAAAAAAAAAAAAAA'),
  ]);

  expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403]);
  expect(answers.map((answer) => errorBodySchema.parse(answer.body).error.code)).toEqual([
    'forbidden',
    'forbidden',
    'forbidden',
  ]);
  expect(apiKeys.list('key-owner-of-its-own')).toEqual([]);
});

test("a job's task number is made on first use and stays the same, across a reopen too", () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const store = new SqliteJobStore(file);
  store.insert(newJob('a', 1_000));
  store.insert(newJob('b', 1_000));
  const b = store.taskNumberOf('b');
  const a = store.taskNumberOf('a');
  store.close();

  const reopened = openStore(file);

  expect(reopened.taskNumberOf('a')).toBe(a);
  expect(reopened.taskNumberOf('b')).toBe(b);
  expect(reopened.jobIdOfTaskNumber(a)).toBe('a');
  expect(reopened.jobIdOfTaskNumber(b)).toBe('b');
  expect(a).toBeGreaterThan(b);
});

test('a store from before API keys is upgraded in place and numbers its old jobs from 1700000000000000', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const old = new Database(file);
  migrate(old, 7); // as a server from before API keys left the file
  old
    .prepare(
      `INSERT INTO jobs (id, owner_id, prompt, aspect_ratio, quality, status, created_at, updated_at)
       VALUES ('old', 'owner-a', 'an old lake', '1:1', 'standard', 'complete', 5, 6)`,
    )
    .run();
  old.close();

  const store = openStore(file);

  expect(store.get('old')?.prompt).toBe('an old lake');
  expect(store.taskNumberOf('old')).toBe(1_700_000_000_000_000);
});
