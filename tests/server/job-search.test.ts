// What the SQLite store's search alone does: its FTS5 index, kept whole, and older files upgraded
// into it. What every store's search does is in store-contract.test.ts.
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import type { JobFilter, JobPage } from '../../server/src/store/job-store';
import { migrate, SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import { newJob } from '../support/job-records';
import { tempDir } from './helpers';

const openStore = (file = path.join(tempDir(), 'jobs.sqlite')) => new SqliteJobStore(file);
const idsOf = (page: JobPage) => page.jobs.map((job) => job.id);
const search = (store: SqliteJobStore, filter: JobFilter) => idsOf(store.listByOwner('owner-a', { limit: 50, filter }));

test('deleting a job keeps the search index whole', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const store = openStore(file);
  store.insert(newJob('kept', 1, 'a lighthouse at dusk'));
  store.insert(newJob('deleted', 2, 'a lighthouse at dawn'));

  store.delete('deleted');
  store.close();

  const db = new Database(file);
  // FTS5 compares its index with the jobs' prompts and throws at the first difference.
  expect(() => db.prepare(`INSERT INTO jobs_fts (jobs_fts, rank) VALUES ('integrity-check', 1)`).run()).not.toThrow();
  db.close();
});

test('a database from migration 6 is upgraded in place: every job kept, found by its words', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const old = new Database(file);
  migrate(old, 6); // as a server from before search left the file
  const insert = old.prepare(
    `INSERT INTO jobs (id, owner_id, kind, prompt, aspect_ratio, quality, status, created_at, updated_at, parent_id, action)
     VALUES (?, 'owner-a', ?, ?, '1:1', 'standard', 'complete', ?, ?, ?, ?)`,
  );
  insert.run('grid', 'imagine', 'an old lighthouse', 1, 1, null, null);
  insert.run('upscaled', 'action', 'an old lighthouse', 2, 2, 'grid', 'upscale');
  insert.run('varied', 'action', 'an old lighthouse', 3, 3, 'grid', 'variation');
  insert.run('described', 'describe', 'a café by the sea', 4, 4, null, null);
  old.close();

  const store = openStore(file);

  expect(idsOf(store.listByOwner('owner-a', { limit: 10 }))).toEqual(['described', 'varied', 'upscaled', 'grid']);
  expect(search(store, { words: ['lighthouse'] })).toEqual(['varied', 'upscaled', 'grid']);
  expect(search(store, { words: ['cafe'] })).toEqual(['described']);
  expect(store.get('grid')).toMatchObject({ output: 'grid', favourite: false, offers: null, videoFile: null });
  expect(store.get('upscaled')?.output).toBe('image');
  expect(store.get('varied')?.output).toBe('grid');
  expect(store.get('described')?.output).toBe('text');
  expect(store.listChildren('grid', 10).map((job) => job.id)).toEqual(['upscaled', 'varied']);
  store.close();
});

test('upgraded under the v7 contract, an older imagine is the single image it made, not a grid', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const old = new Database(file);
  migrate(old, 6);
  old
    .prepare(
      `INSERT INTO jobs (id, owner_id, kind, prompt, aspect_ratio, quality, status, created_at, updated_at)
       VALUES ('single', 'owner-a', 'imagine', 'a fox', '1:1', 'standard', 'complete', 1, 1)`,
    )
    .run();
  old.close();

  const store = new SqliteJobStore(file, { legacyImagineOutput: 'image' });

  expect(store.get('single')?.output).toBe('image');
  store.close();
});
