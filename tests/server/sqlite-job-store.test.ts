// What the SQLite store alone does: its file, its migrations, rows it cannot fully read. What
// every store does is in store-contract.test.ts.
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { migrate, SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import { newJob } from '../support/job-records';
import { tempDir } from './helpers';

test('migrations are idempotent: running them again changes nothing', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  new SqliteJobStore(file).close();
  const db = new Database(file);
  const before = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();

  migrate(db);
  migrate(db);

  expect(db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all()).toEqual(before);
  expect(db.pragma('user_version', { simple: true })).toBe(9);
  db.close();
});

test('a database from before grid actions is upgraded in place, its jobs kept', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const old = new Database(file);
  migrate(old, 3); // as a server from before grid actions left the file
  old
    .prepare(
      `INSERT INTO jobs (id, owner_id, prompt, aspect_ratio, quality, status, image_file, created_at, updated_at)
     VALUES ('old', 'owner-a', 'an old lake', '16:9', 'high', 'complete', 'old.png', 5, 6)`,
    )
    .run();
  old.pragma('user_version = 3');
  old.close();

  const store = new SqliteJobStore(file);

  expect(store.get('old')).toMatchObject({
    prompt: 'an old lake',
    status: 'complete',
    imageFile: 'old.png',
    parentId: null,
    action: null,
    previewUrl: null,
    // Its ratio and quality became the parameters they stand for.
    kind: 'imagine',
    params: { aspect_ratio: '16:9', quality: 2 },
    aspectRatio: '16:9',
    quality: 'high',
    refs: [],
  });
  store.close();
});

test('offers it cannot read leave the job readable, without offers', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const store = new SqliteJobStore(file);
  store.insert(newJob('a', 1_000));
  store.insert(newJob('b', 1_001));
  store.close();
  const db = new Database(file);
  // Not JSON, and an action this version does not know.
  db.prepare(`UPDATE jobs SET offers = '[{"action":' WHERE id = 'a'`).run();
  db.prepare(`UPDATE jobs SET offers = '[{"action":"teleport"}]' WHERE id = 'b'`).run();
  db.close();

  const reopened = new SqliteJobStore(file);

  expect(reopened.get('a')).toMatchObject({ id: 'a', offers: null });
  expect(reopened.get('b')).toMatchObject({ id: 'b', offers: null });
  reopened.close();
});
