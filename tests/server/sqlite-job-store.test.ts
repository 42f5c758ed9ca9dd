import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from 'vitest';
import { migrate, SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import { tempDir } from './helpers';

const newJob = (id: string, createdAt: number, ownerId = 'owner-a') => ({
  id,
  ownerId,
  kind: 'imagine' as const,
  output: 'grid' as const,
  prompt: `prompt ${id}`,
  params: {},
  aspectRatio: '1:1',
  createdAt,
});

test('closing and reopening the file keeps every job and field', () => {
  const file = path.join(tempDir(), 'jobs.sqlite');
  const store = new SqliteJobStore(file);
  store.insert(newJob('a', 1_000));
  store.updateActive(
    'a',
    { upstreamId: 'up-1', status: 'processing', progress: 42.5, checkedAt: 1_500, previewUrl: 'https://cdn/p.png' },
    1_500,
  );
  store.insert({ ...newJob('b', 2_000), parentId: 'a', action: 'upscale', actionIndex: 3 });
  store.close();

  const reopened = new SqliteJobStore(file);

  expect(reopened.get('a')).toEqual({
    ...newJob('a', 1_000),
    favourite: false,
    quality: 'standard',
    imageUrls: [],
    refs: [],
    finalPrompt: null,
    descriptions: null,
    status: 'processing',
    progress: 42.5,
    upstreamId: 'up-1',
    error: null,
    imageFile: null,
    updatedAt: 1_500,
    finishedAt: null,
    checkedAt: 1_500,
    previewUrl: 'https://cdn/p.png',
    parentId: null,
    action: null,
    actionIndex: null,
    actionInput: null,
    offers: null,
    videoFile: null,
    account: null,
  });
  expect(reopened.get('b')).toMatchObject({ parentId: 'a', action: 'upscale', actionIndex: 3, status: 'queued' });
  reopened.close();
});

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

test('a job keeps its parameters, image links, references and a describe answer', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  store.insert({
    ...newJob('p', 1_000),
    params: { stylize: 250, no: ['red cars', 'people'], quality: 4, sref: ['123'], model: '7' },
    imageUrls: ['https://example.com/a.png'],
    refs: [
      { role: 'image', uploadId: 'up_aaaaaaaaaaaaaaaaaaaaaa' },
      { role: 'style', jobId: 'grid-1' },
    ],
  });

  store.updateActive('p', { finalPrompt: 'a cat --s 250', descriptions: ['one', 'two'] }, 1_100);

  expect(store.get('p')).toMatchObject({
    params: { stylize: 250, no: ['red cars', 'people'], quality: 4, sref: ['123'], model: '7' },
    quality: 'high',
    imageUrls: ['https://example.com/a.png'],
    refs: [
      { role: 'image', uploadId: 'up_aaaaaaaaaaaaaaaaaaaaaa' },
      { role: 'style', jobId: 'grid-1' },
    ],
    finalPrompt: 'a cat --s 250',
    descriptions: ['one', 'two'],
  });
  store.close();
});

test('a job keeps what its action was asked, the offers made on it and its video', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  store.insert({
    ...newJob('v', 1_000),
    kind: 'action',
    output: 'video',
    parentId: 'grid-1',
    action: 'animate_high',
    actionInput: { prompt: 'the sea moves' },
  });
  const offers = [
    { action: 'extend_low' as const, customId: 'MJ::JOB::low' },
    { action: 'extend_high' as const, customId: 'MJ::JOB::high' },
  ];

  store.updateActive('v', { status: 'complete', offers, videoFile: 'v.mp4', imageFile: 'v.png' }, 1_100);

  expect(store.get('v')).toMatchObject({
    output: 'video',
    action: 'animate_high',
    actionInput: { prompt: 'the sea moves' },
    offers,
    videoFile: 'v.mp4',
    imageFile: 'v.png',
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

test('an upload is kept with its owner and can be deleted', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  const upload = {
    id: 'up_bbbbbbbbbbbbbbbbbbbbbb',
    ownerId: 'owner-a',
    file: 'up_bbbbbbbbbbbbbbbbbbbbbb.png',
    contentType: 'image/png' as const,
    width: 64,
    height: 32,
    bytes: 1234,
    createdAt: 5,
  };

  store.insertUpload(upload);

  expect(store.getUpload(upload.id)).toEqual(upload);
  expect(store.deleteUpload(upload.id)).toBe(true);
  expect(store.getUpload(upload.id)).toBeUndefined();
  store.close();
});

test('a finished job cannot be changed by a late update', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  store.insert(newJob('a', 1));
  store.updateActive('a', { status: 'cancelled', finishedAt: 2 }, 2);

  const late = store.updateActive('a', { status: 'complete', imageFile: 'a.png' }, 3);

  expect(late).toBeUndefined();
  expect(store.get('a')?.status).toBe('cancelled');
});

test('pagination is stable while new jobs arrive between pages', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  for (let i = 0; i < 10; i++) store.insert(newJob(`job-${i}`, 1_000 + i));
  // Two jobs share a timestamp: the id breaks the tie, so none is skipped or repeated.
  store.insert(newJob('job-5b', 1_005));

  const first = store.listByOwner('owner-a', { limit: 4 });
  for (let i = 0; i < 5; i++) store.insert(newJob(`late-${i}`, 2_000 + i));
  const second = store.listByOwner('owner-a', { limit: 4, cursor: first.nextCursor ?? undefined });
  const third = store.listByOwner('owner-a', { limit: 4, cursor: second.nextCursor ?? undefined });

  const ids = [...first.jobs, ...second.jobs, ...third.jobs].map((job) => job.id);
  expect(ids).toEqual([
    'job-9',
    'job-8',
    'job-7',
    'job-6',
    'job-5b',
    'job-5',
    'job-4',
    'job-3',
    'job-2',
    'job-1',
    'job-0',
  ]);
  expect(third.nextCursor).toBeNull();
});

test('one owner never sees another owner’s jobs in a list', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  store.insert(newJob('mine', 1, 'owner-a'));
  store.insert(newJob('theirs', 2, 'owner-b'));

  expect(store.listByOwner('owner-a', { limit: 10 }).jobs.map((job) => job.id)).toEqual(['mine']);
});

test('listActive returns only unfinished jobs, oldest first', () => {
  const store = new SqliteJobStore(path.join(tempDir(), 'jobs.sqlite'));
  store.insert(newJob('b', 2));
  store.insert(newJob('a', 1));
  store.insert(newJob('done', 3));
  store.updateActive('done', { status: 'complete', finishedAt: 4 }, 4);

  expect(store.listActive().map((job) => job.id)).toEqual(['a', 'b']);
});
