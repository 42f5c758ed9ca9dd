// What the PostgreSQL store alone does: several stores and processes on one database at once
// (migrations under one lock, task numbers, no stale reads), reopening, a lost connection, and
// errors that never show the connection string. The contract both stores keep is in
// store-contract.test.ts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, test } from 'vitest';
import { z } from 'zod';
import type { JobRecord } from '../../server/src/store/job-store';
import { MIGRATION_LOCK_KEY, PgJobStore } from '../../server/src/store/pg-job-store';
import { newJob } from '../support/job-records';
import { closeClient, freshSchema, openClient, PG_URL, sql } from '../support/pg';
import { ROOT } from '../support/server-process';
import { waitFor } from '../support/wait';

const run = promisify(execFile);

const opened: PgJobStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

function openStore(schema: string, url = PG_URL) {
  const store = new PgJobStore(url, { schema });
  opened.push(store);
  return store;
}

/** What `act` threw, or undefined. */
function thrown(act: () => unknown): unknown {
  try {
    act();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** PG_URL with a name of its own in pg_stat_activity, to find (and end) that store's connection. */
function namedUrl(name: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', name);
  return url.toString();
}

const migrationsOf = (schema: string) =>
  sql(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`).map(
    (row) => z.object({ version: z.number() }).parse(row).version,
  );

/**
 * A separate node process that opens the store (when GO_AT comes, so that several open it at
 * once), numbers `JOBS` new jobs of its own, and prints their numbers as JSON.
 */
const CHILD = `
const { PgJobStore } = await import('./server/src/store/pg-job-store.ts');
const env = process.env;
await new Promise((resolve) => setTimeout(resolve, Number(env.GO_AT) - Date.now()));
const store = new PgJobStore(env.STORE_URL, { schema: env.STORE_SCHEMA });
const numbers = [];
for (let i = 0; i < Number(env.JOBS); i++) {
  const id = env.NAME + '-' + i;
  store.insert({ id, ownerId: 'owner-a', kind: 'imagine', output: 'grid', prompt: 'a fox', params: {}, aspectRatio: '1:1', createdAt: i });
  numbers.push(store.taskNumberOf(id));
}
store.close();
console.log(JSON.stringify(numbers));
`;

async function childStore(options: { schema: string; name: string; goAt?: number; jobs?: number; url?: string }) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: {
      ...process.env,
      STORE_URL: options.url ?? PG_URL,
      STORE_SCHEMA: options.schema,
      NAME: options.name,
      GO_AT: String(options.goAt ?? 0),
      JOBS: String(options.jobs ?? 0),
    },
  });
  return stdout;
}

test('three processes opening one fresh schema at the same moment all succeed, and each migration is recorded once', async () => {
  const schema = freshSchema();
  // Far enough ahead for each process to have started; then all three open the store at once.
  const goAt = Date.now() + 2_500;

  const outputs = await Promise.all(
    ['one', 'two', 'three'].map((name) => childStore({ schema, name, goAt, jobs: 20 })),
  );

  const numbers = outputs.flatMap((output) => z.array(z.number()).parse(JSON.parse(output)));
  expect(numbers).toHaveLength(60);
  expect(new Set(numbers).size).toBe(60);
  expect(migrationsOf(schema)).toEqual([1]);
  expect(openStore(schema).listByOwner('owner-a', { limit: 100 }).jobs).toHaveLength(60);
}, 30_000);

test('a store opening while another session holds the migration lock waits for it, then migrates', async () => {
  const schema = freshSchema();
  const name = `lock-${schema}`;
  const holder = openClient();
  holder.querySync('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  let released = false;
  try {
    const child = childStore({ schema, name, url: namedUrl(name) });
    const waiting = () =>
      sql(
        `SELECT 1 FROM pg_locks JOIN pg_stat_activity USING (pid)
          WHERE locktype = 'advisory' AND NOT granted AND application_name = $1`,
        [name],
      ).length === 1;

    await waitFor(waiting, { message: 'the child store to wait for the migration lock', timeoutMs: 15_000 });
    const schemaWhileWaiting = sql('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    holder.querySync('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    released = true;
    await child;

    expect(schemaWhileWaiting).toEqual([]);
    expect(migrationsOf(schema)).toEqual([1]);
  } finally {
    if (!released) holder.querySync('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    closeClient(holder);
  }
}, 30_000);

test('task numbers made by two stores on one schema never collide', () => {
  const schema = freshSchema();
  const stores = [openStore(schema), openStore(schema)];
  for (let i = 0; i < 40; i++) stores[i % 2]?.insert(newJob(`job-${i}`, i));

  const numbers = Array.from({ length: 40 }, (_, i) => stores[(i + 1) % 2]?.taskNumberOf(`job-${i}`));
  const readAcross = numbers.map((number, i) => stores[i % 2]?.jobIdOfTaskNumber(number ?? 0));

  expect(new Set(numbers).size).toBe(40);
  expect(readAcross).toEqual(Array.from({ length: 40 }, (_, i) => `job-${i}`));
  expect(numbers.map((_, i) => stores[i % 2]?.taskNumberOf(`job-${i}`))).toEqual(numbers);
});

test('a favourite mark or a delete made through one store is seen at once through another', () => {
  const schema = freshSchema();
  const [one, two] = [openStore(schema), openStore(schema)];
  one.insert(newJob('a', 1));
  one.insert(newJob('b', 2));
  one.updateActive('a', { status: 'complete', imageFile: 'a.png' }, 3);
  const seenBefore = two.get('a');

  one.setFavourite('a', true, 4);
  const seenMarked = two.get('a');
  one.delete('b');
  const seenAfterDelete = two.listByOwner('owner-a', { limit: 10 }).jobs.map((job) => job.id);

  expect(seenBefore?.favourite).toBe(false);
  expect(seenMarked).toMatchObject({ favourite: true, updatedAt: 4 });
  expect(two.get('b')).toBeUndefined();
  expect(seenAfterDelete).toEqual(['a']);
  expect(two.listByOwner('owner-a', { limit: 10, filter: { favourite: true } }).jobs.map((job) => job.id)).toEqual([
    'a',
  ]);
});

test('closing and reopening keeps every field of a job, and applies no migration again', () => {
  const schema = freshSchema();
  const store = new PgJobStore(PG_URL, { schema });
  store.insert(
    newJob('a', 1_000, 'a café at dusk', {
      kind: 'action',
      output: 'image',
      params: { stylize: 250, no: ['red cars'], quality: 2, aspect_ratio: '16:9' },
      aspectRatio: '16:9',
      imageUrls: ['https://example.com/a.png'],
      refs: [{ role: 'style', jobId: 'grid-1' }],
      parentId: 'grid-1',
      action: 'upscale',
      actionIndex: 3,
      actionInput: { prompt: 'sharper', zoom: 1.5, maskFile: 'a-mask.png' },
    }),
  );
  store.updateActive(
    'a',
    {
      status: 'complete',
      progress: 100,
      upstreamId: 'up-1',
      error: 'a note',
      imageFile: 'a.png',
      finishedAt: 2_000,
      checkedAt: 1_900,
      previewUrl: 'https://cdn/p.png',
      finalPrompt: 'a café at dusk --s 250',
      descriptions: ['one'],
      offers: [{ action: 'variation', index: 2, customId: 'MJ::x' }],
      videoFile: 'a.mp4',
      account: 'second',
    },
    2_000,
  );
  store.setFavourite('a', true, 2_100);
  const before = store.get('a');
  const migrations = sql(`SELECT * FROM ${schema}.schema_migrations`);
  store.close();

  const reopened = openStore(schema);

  expect(reopened.get('a')).toEqual<JobRecord>({
    id: 'a',
    ownerId: 'owner-a',
    kind: 'action',
    output: 'image',
    favourite: true,
    prompt: 'a café at dusk',
    params: { stylize: 250, no: ['red cars'], quality: 2, aspect_ratio: '16:9' },
    imageUrls: ['https://example.com/a.png'],
    refs: [{ role: 'style', jobId: 'grid-1' }],
    aspectRatio: '16:9',
    quality: 'high',
    finalPrompt: 'a café at dusk --s 250',
    descriptions: ['one'],
    status: 'complete',
    progress: 100,
    upstreamId: 'up-1',
    error: 'a note',
    imageFile: 'a.png',
    createdAt: 1_000,
    updatedAt: 2_100,
    finishedAt: 2_000,
    checkedAt: 1_900,
    previewUrl: 'https://cdn/p.png',
    parentId: 'grid-1',
    action: 'upscale',
    actionIndex: 3,
    actionInput: { prompt: 'sharper', zoom: 1.5, maskFile: 'a-mask.png' },
    offers: [{ action: 'variation', index: 2, customId: 'MJ::x' }],
    videoFile: 'a.mp4',
    account: 'second',
  });
  expect(reopened.get('a')).toEqual(before);
  expect(reopened.listByOwner('owner-a', { limit: 10, filter: { words: ['cafe', 'du'] } }).jobs).toHaveLength(1);
  expect(sql(`SELECT * FROM ${schema}.schema_migrations`)).toEqual(migrations);
});

test('offers it cannot read leave the job readable, without offers', () => {
  const schema = freshSchema();
  const store = openStore(schema);
  store.insert(newJob('a', 1));
  store.insert(newJob('b', 2));
  // An action this version does not know, and JSON that is not a list.
  sql(`UPDATE ${schema}.jobs SET offers = '[{"action":"teleport"}]' WHERE id = 'a'`);
  sql(`UPDATE ${schema}.jobs SET offers = '{"action":"upscale"}' WHERE id = 'b'`);

  const read = [store.get('a'), store.get('b')];

  expect(read).toEqual([
    expect.objectContaining({ id: 'a', offers: null }),
    expect.objectContaining({ id: 'b', offers: null }),
  ]);
});

test('each schema is a store of its own: jobs in one are not seen from another', () => {
  const [one, two] = [openStore(freshSchema()), openStore(freshSchema())];

  one.insert(newJob('a', 1));

  expect(two.get('a')).toBeUndefined();
  expect(two.listActive()).toEqual([]);
  expect(one.get('a')?.id).toBe('a');
});

test('after its connection is lost, the store reconnects: a read is answered, a write fails once and is not applied twice', () => {
  const schema = freshSchema();
  const name = `lost-${schema}`;
  const store = openStore(schema, namedUrl(name));
  store.insert(newJob('a', 1));
  const end = () =>
    sql('SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1', [name]);

  end();
  const read = store.get('a');
  end();
  const lostWrite = thrown(() => store.insert(newJob('b', 2)));
  const afterLostWrite = store.get('b');
  const written = store.insert(newJob('b', 2));

  expect(read?.id).toBe('a');
  expect(lostWrite).toBeInstanceOf(Error);
  expect(afterLostWrite).toBeUndefined();
  expect(written.id).toBe('b');
  expect(store.listByOwner('owner-a', { limit: 10 }).jobs.map((job) => job.id)).toEqual(['b', 'a']);
});

test('a reassignment cut off by a lost connection moves nothing, and the next call reconnects', () => {
  const schema = freshSchema();
  const store = openStore(schema);
  store.insert(newJob('a', 1));
  store.insertUpload({
    id: 'up-a',
    ownerId: 'owner-a',
    file: 'up-a.png',
    contentType: 'image/png',
    width: 1,
    height: 1,
    bytes: 1,
    createdAt: 1,
  });
  // The jobs' update, after the uploads' in the same transaction, ends its own connection.
  sql(`CREATE FUNCTION ${schema}.end_connection() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
       CREATE TRIGGER end_connection BEFORE UPDATE ON ${schema}.jobs
       FOR EACH ROW EXECUTE FUNCTION ${schema}.end_connection()`);

  const cut = thrown(() => store.reassignOwner('owner-a', 'owner-b'));
  const ownersAfterCut = [store.getUpload('up-a')?.ownerId, store.get('a')?.ownerId];
  sql(`DROP TRIGGER end_connection ON ${schema}.jobs`);
  const moved = store.reassignOwner('owner-a', 'owner-b');

  expect(cut).toBeInstanceOf(Error);
  expect(ownersAfterCut).toEqual(['owner-a', 'owner-a']);
  expect(moved).toBe(1);
  expect([store.getUpload('up-a')?.ownerId, store.get('a')?.ownerId]).toEqual(['owner-b', 'owner-b']);
});

test('a failed connection says why without the connection string or its password', () => {
  const secret = 'hunter2-Secret';
  const attempts = [
    `postgresql://postgres:${secret}@127.0.0.1:1/test`,
    `postgresql://postgres:${secret}@127.0.0.1:1/test?bogus=1`,
    `host=127.0.0.1 port=1 dbname=test password=${secret}`,
    `host=127.0.0.1 port=1 password= ${secret}`,
    `host=127.0.0.1 port=1 password='${secret}'`,
    `postgresql://postgres:${secret}%zz@127.0.0.1:1/test`,
  ];

  const messages = attempts.map((url) => {
    const error = thrown(() => new PgJobStore(url, { schema: 'never_made' }));
    return error instanceof Error ? error.message : 'no error';
  });

  for (const [i, message] of messages.entries()) {
    expect(message).toMatch(/^Could not connect to PostgreSQL: \S/);
    expect(message).not.toContain(secret);
    expect(message).not.toContain(attempts[i]);
  }
  expect(messages[0]).toMatch(/refused/i);
});

test('a schema name that is not a plain identifier is refused before anything runs', () => {
  const attempts = ['x"; DROP SCHEMA public CASCADE; --', 'with space', '1starts_with_a_digit', 'a'.repeat(64), ''];

  const opening = attempts.map((schema) => () => new PgJobStore(PG_URL, { schema }));

  for (const open of opening) expect(open).toThrow(/schema name/);
});

test('text holding U+0000 is refused rather than cut short at it', () => {
  const store = openStore(freshSchema());
  store.insert(newJob('a', 1));

  const insert = () => store.insert(newJob('b\u0000c', 2));
  const lookUp = () => store.get('a\u0000suffix');

  expect(insert).toThrow(expect.objectContaining({ kind: 'invalid' }));
  expect(lookUp).toThrow(expect.objectContaining({ kind: 'invalid' }));
  expect(store.get('b')).toBeUndefined();
});

test('a closed store refuses to be used rather than opening a connection again', () => {
  const store = new PgJobStore(PG_URL, { schema: freshSchema() });

  store.close();

  expect(() => store.get('a')).toThrow(/closed/);
  expect(() => store.close()).not.toThrow();
});

test('a DATABASE_URL with encoded values of its own keeps them exactly, the network time-outs added after', () => {
  const schema = freshSchema();
  const url = `${PG_URL}?application_name=mj%20studio%20test&options=-c%20statement_timeout%3D9000`;

  const store = openStore(schema, url);
  store.insert(newJob('encoded-url', 1_000));

  expect(store.get('encoded-url')?.id).toBe('encoded-url');
  const sessions = sql("SELECT application_name FROM pg_stat_activity WHERE application_name = 'mj studio test'");
  expect(sessions.length).toBeGreaterThanOrEqual(1);
});
