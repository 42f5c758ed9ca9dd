import path from 'node:path';
import { JOB_OUTPUTS, JOB_STATUSES, type JobStatus } from '@shared/schemas/job';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import type { JobFilter, JobPage, NewJob, StoredStatus } from '../../server/src/store/job-store';
import { migrate, SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import { tempDir } from './helpers';

const newJob = (id: string, createdAt: number, prompt: string, extra: Partial<NewJob> = {}): NewJob => ({
  id,
  ownerId: 'owner-a',
  kind: 'imagine',
  output: 'grid',
  prompt,
  params: {},
  aspectRatio: '1:1',
  createdAt,
  ...extra,
});

const openStore = (file = path.join(tempDir(), 'jobs.sqlite')) => new SqliteJobStore(file);
const idsOf = (page: JobPage) => page.jobs.map((job) => job.id);
const search = (store: SqliteJobStore, filter: JobFilter) => idsOf(store.listByOwner('owner-a', { limit: 50, filter }));

test('a word finds the prompts with a word starting with it, newest first, whatever its case', () => {
  const store = openStore();
  store.insert(newJob('lighthouse', 1, 'a lighthouse at dusk'));
  store.insert(newJob('rain', 2, 'light rain'));
  store.insert(newJob('delight', 3, 'pure delight'));
  store.insert(newJob('storm', 4, 'LIGHTNING over the sea'));

  const found = search(store, { words: ['light'] });

  // A prefix of a word, not any part of one: "delight" does not start with "light".
  expect(found).toEqual(['storm', 'rain', 'lighthouse']);
});

test('a search ignores accents either way: cafe finds café, and café finds cafe', () => {
  const store = openStore();
  store.insert(newJob('accented', 1, 'a café in Paris'));
  store.insert(newJob('plain', 2, 'a cafe in Rome'));
  store.insert(newJob('decomposed', 3, 'a cafe\u0301 in Lyon'));

  const unaccented = search(store, { words: ['cafe'] });
  const accented = search(store, { words: ['Café'] });

  expect(unaccented).toEqual(['decomposed', 'plain', 'accented']);
  expect(accented).toEqual(['decomposed', 'plain', 'accented']);
});

test('every word of a search must be in the prompt, in any order', () => {
  const store = openStore();
  store.insert(newJob('both', 1, 'a red fox in the snow'));
  store.insert(newJob('fox', 2, 'a grey fox'));
  store.insert(newJob('snow', 3, 'snow on the roofs'));
  store.insert(newJob('reversed', 4, 'snowy hills and a fox'));

  const found = search(store, { words: ['snow', 'fox'] });

  expect(found).toEqual(['reversed', 'both']);
});

test('words are split on punctuation, so text of several words or FTS5 syntax is only words', () => {
  const store = openStore();
  store.insert(newJob('match', 1, 'a lighthouse at dusk, NOT near the sea'));
  store.insert(newJob('other', 2, 'a lighthouse at noon'));

  const phrase = search(store, { words: ['lighthouse dusk'] });
  const syntax = search(store, { words: ['"light*', '(dusk', 'NOT', 'near:sea^'] });

  expect(phrase).toEqual(['match']);
  expect(syntax).toEqual(['match']);
});

test('a search of punctuation alone is no text filter: it lists every job', () => {
  const store = openStore();
  store.insert(newJob('a', 1, 'a lighthouse'));
  store.insert(newJob('b', 2, 'a fox'));

  const found = search(store, { words: ['"*', '--', '(:)', '\u0301'] });

  expect(found).toEqual(['b', 'a']);
});

test('a search uses its first 8 words and ignores the rest', () => {
  const store = openStore();
  const eight = 'one two three four five six seven eight';
  store.insert(newJob('a', 1, eight));

  const found = search(store, { words: [...eight.split(' '), 'ninth'] });
  const withNinth = search(store, { words: ['ninth', ...eight.split(' ')] });

  expect(found).toEqual(['a']);
  expect(withNinth).toEqual([]);
});

test('a one-letter word matches only as a whole word, not as every word it begins', () => {
  const store = openStore();
  store.insert(newJob('a', 1, 'a lighthouse'));
  store.insert(newJob('b', 2, 'lighthouse at dusk'));

  const single = search(store, { words: ['a'] });
  const prefix = search(store, { words: ['at'] });

  expect(single).toEqual(['a']);
  expect(prefix).toEqual(['b']);
});

test('one owner’s search never finds another owner’s jobs', () => {
  const store = openStore();
  store.insert(newJob('mine', 1, 'a lighthouse'));
  store.insert(newJob('theirs', 2, 'a lighthouse', { ownerId: 'owner-b' }));

  const found = search(store, { words: ['lighthouse'] });

  expect(found).toEqual(['mine']);
});

/** Six jobs with one distinguishing trait each, for the filters one by one. */
function filterFixture() {
  const store = openStore();
  store.insert(newJob('queued', 100, 'a cat'));
  store.insert(newJob('submitting', 200, 'a dog'));
  store.updateActive('submitting', { status: 'submitting' }, 200);
  store.insert(newJob('pending', 300, 'a cat', { output: 'image', action: 'upscale', parentId: 'queued' }));
  store.updateActive('pending', { status: 'pending' }, 300);
  store.insert(newJob('wide', 400, 'a dog', { params: { aspect_ratio: '16:9' }, aspectRatio: '16:9' }));
  store.updateActive('wide', { status: 'complete' }, 400);
  store.insert(newJob('seeded', 500, 'a cat', { params: { seed: 0, stylize: 250 } }));
  store.updateActive('seeded', { status: 'failed' }, 500);
  store.insert(newJob('described', 600, 'a bird', { kind: 'describe', output: 'text' }));
  store.updateActive('described', { status: 'complete' }, 600);
  store.setFavourite('described', true, 700);
  return store;
}

test.each<[string, JobFilter, string[]]>([
  ['no filter', {}, ['described', 'seeded', 'wide', 'pending', 'submitting', 'queued']],
  ['a word', { words: ['cat'] }, ['seeded', 'pending', 'queued']],
  ['the pending status, which covers jobs still being submitted', { statuses: ['pending'] }, ['pending', 'submitting']],
  ['two statuses', { statuses: ['complete', 'queued'] }, ['described', 'wide', 'queued']],
  ['an output', { outputs: ['text'] }, ['described']],
  ['two outputs', { outputs: ['image', 'text'] }, ['described', 'pending']],
  ['an aspect ratio', { aspectRatio: '16:9' }, ['wide']],
  // A seed of 0 is still a seed given.
  ['a parameter present', { params: ['seed'] }, ['seeded']],
  ['two parameters present', { params: ['seed', 'aspect_ratio'] }, []],
  ['a date range, its end excluded', { from: 200, to: 500 }, ['wide', 'pending', 'submitting']],
  ['favourites', { favourite: true }, ['described']],
  ['jobs not marked favourite', { favourite: false }, ['seeded', 'wide', 'pending', 'submitting', 'queued']],
  [
    'empty lists, which narrow nothing',
    { words: [], statuses: [], outputs: [], params: [] },
    ['described', 'seeded', 'wide', 'pending', 'submitting', 'queued'],
  ],
])('a list narrowed by %s', (_name, filter, expected) => {
  const store = filterFixture();

  const found = search(store, filter);

  expect(found).toEqual(expected);
});

test('filters combine: a job is listed only when every filter given holds', () => {
  const store = filterFixture();

  const catsNotQueued = search(store, { words: ['cat'], statuses: ['pending', 'failed'], from: 300 });
  const favouriteGrids = search(store, { outputs: ['grid'], favourite: true });

  expect(catsNotQueued).toEqual(['seeded', 'pending']);
  expect(favouriteGrids).toEqual([]);
});

test('more filter combinations than the statement cache holds are all answered rightly', () => {
  const store = filterFixture();
  const everyJob = store.listByOwner('owner-a', { limit: 50 }).jobs;
  const publicStatus = (status: StoredStatus): JobStatus => (status === 'submitting' ? 'pending' : status);
  // 96 shapes of SQL (how many statuses, outputs, whether words and a ratio), each asked twice.
  const filters: JobFilter[] = [];
  for (let s = 1; s <= JOB_STATUSES.length; s++)
    for (let o = 1; o <= JOB_OUTPUTS.length; o++)
      for (const words of [undefined, ['cat']])
        for (const aspectRatio of [undefined, '1:1'])
          filters.push({ statuses: JOB_STATUSES.slice(0, s), outputs: JOB_OUTPUTS.slice(0, o), words, aspectRatio });
  const expected = filters.map((filter) =>
    everyJob
      .filter(
        (job) =>
          filter.statuses?.includes(publicStatus(job.status)) &&
          filter.outputs?.includes(job.output) &&
          (!filter.words || job.prompt.includes('cat')) &&
          (!filter.aspectRatio || job.aspectRatio === filter.aspectRatio),
      )
      .map((job) => job.id),
  );

  const found = [...filters, ...filters].map((filter) => search(store, filter));

  expect(found).toEqual([...expected, ...expected]);
});

test('a filtered list pages through every match once, while new jobs arrive between pages', () => {
  const store = openStore();
  for (let i = 0; i < 30; i++) store.insert(newJob(`job-${i}`, 1_000 + i, i % 3 === 0 ? `a red fox ${i}` : 'a cat'));
  // Two matches share a timestamp: the id breaks the tie, so neither is skipped or repeated.
  store.insert(newJob('job-15b', 1_015, 'a fox'));
  const filter: JobFilter = { words: ['fox'] };
  const expected = search(store, filter);

  const pages: JobPage[] = [store.listByOwner('owner-a', { limit: 4, filter })];
  for (let late = 0; pages.at(-1)?.nextCursor; late++) {
    store.insert(newJob(`late-fox-${late}`, 5_000 + late, 'a fox'));
    store.insert(newJob(`late-cat-${late}`, 5_000 + late, 'a cat'));
    pages.push(store.listByOwner('owner-a', { limit: 4, filter, cursor: pages.at(-1)?.nextCursor ?? undefined }));
  }

  expect(expected).toHaveLength(11);
  expect(pages.flatMap(idsOf)).toEqual(expected);
  expect(pages).toHaveLength(3);
});

test('a favourite mark shows on the next read of a finished job, though finished jobs are cached', () => {
  const store = openStore();
  store.insert(newJob('a', 1, 'a lighthouse'));
  store.updateActive('a', { status: 'complete', imageFile: 'a.png' }, 2);
  const cached = store.get('a');

  const marked = store.setFavourite('a', true, 3);
  const readAfterMark = store.get('a');
  store.setFavourite('a', false, 4);
  const readAfterUnmark = store.get('a');

  expect(marked).toMatchObject({ favourite: true, status: 'complete', updatedAt: 3 });
  expect(readAfterMark?.favourite).toBe(true);
  expect(readAfterUnmark?.favourite).toBe(false);
  // The record handed out before is left as it was: others may still hold it.
  expect(cached?.favourite).toBe(false);
  expect(store.setFavourite('missing', true, 5)).toBeUndefined();
});

test('a job’s children are listed oldest first, at most the limit asked', () => {
  const store = openStore();
  store.insert(newJob('grid', 1, 'a fox'));
  store.insert(
    newJob('second', 30, 'a fox', { kind: 'action', action: 'variation', actionIndex: 2, parentId: 'grid' }),
  );
  store.insert(newJob('first', 20, 'a fox', { kind: 'action', action: 'upscale', actionIndex: 1, parentId: 'grid' }));
  store.insert(newJob('third', 40, 'a fox', { kind: 'action', action: 'reroll', parentId: 'grid' }));
  store.insert(newJob('grandchild', 50, 'a fox', { kind: 'action', action: 'upscale', parentId: 'second' }));

  const all = store.listChildren('grid', 10);
  const two = store.listChildren('grid', 2);

  expect(all.map((job) => job.id)).toEqual(['first', 'second', 'third']);
  expect(two.map((job) => job.id)).toEqual(['first', 'second']);
  expect(store.listChildren('grandchild', 10)).toEqual([]);
});

test('a deleted job is no longer found by its words, and the search index stays whole', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const store = openStore(file);
  store.insert(newJob('kept', 1, 'a lighthouse at dusk'));
  store.insert(newJob('deleted', 2, 'a lighthouse at dawn'));

  store.delete('deleted');

  expect(search(store, { words: ['lighthouse'] })).toEqual(['kept']);
  expect(search(store, { words: ['dawn'] })).toEqual([]);
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
