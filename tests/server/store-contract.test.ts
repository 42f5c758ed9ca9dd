// The job store's contract (server/src/store/job-store.ts), run against every store: SQLite in a
// temporary directory and PostgreSQL in a fresh schema. What one store alone does (its files, its
// migrations, several processes) is tested beside it: sqlite-job-store.test.ts, job-search.test.ts,
// pg-job-store.test.ts.
import path from 'node:path';
import { JOB_OUTPUTS, JOB_STATUSES, type JobStatus } from '@shared/schemas/job';
import { afterEach, expect, test } from 'vitest';
import {
  type ApiKeyRecord,
  InvalidCursorError,
  type JobFilter,
  type JobPage,
  type JobPatch,
  type JobStore,
  type SessionRecord,
  type StoredStatus,
  type UploadRecord,
} from '../../server/src/store/job-store';
import { PgJobStore } from '../../server/src/store/pg-job-store';
import { SqliteJobStore } from '../../server/src/store/sqlite-job-store';
import { insertedJob, newJob } from '../support/job-records';
import { freshSchema, PG_URL } from '../support/pg';
import { tempDir } from './helpers';

/**
 * Each store by where it keeps its data (a new place per call) and how it opens there: a second
 * store opened on the same place finds what the first kept, as after a restart.
 */
const STORES: readonly (readonly [name: string, newPlace: () => string, openAt: (place: string) => JobStore])[] = [
  ['SQLite', () => path.join(tempDir(), 'jobs.sqlite'), (file) => new SqliteJobStore(file)],
  ['PostgreSQL', freshSchema, (schema) => new PgJobStore(PG_URL, { schema })],
];

const opened: JobStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

const idsOf = (page: JobPage | { jobs: { id: string }[] }) => page.jobs.map((job) => job.id);

const upload = (id: string, ownerId: string): UploadRecord => ({
  id,
  ownerId,
  file: `${id}.png`,
  contentType: 'image/png',
  width: 64,
  height: 32,
  bytes: 1234,
  createdAt: 5,
});

const apiKey = (id: string, creatorId: string, createdAt = 1): ApiKeyRecord => ({
  id,
  creatorId,
  ownerId: `key-${id}`,
  name: id,
  hash: `hash-${id}`,
  createdAt,
  lastUsedAt: null,
  revokedAt: null,
});

for (const [name, newPlace, openAt] of STORES) {
  const openStore = (place = newPlace()) => {
    const store = openAt(place);
    opened.push(store);
    return store;
  };
  const search = (store: JobStore, filter: JobFilter) => idsOf(store.listByOwner('owner-a', { limit: 50, filter }));

  test(`${name}: a job reads back with every field it was given, the rest at their defaults, after a reopen too`, () => {
    const place = newPlace();
    const store = openStore(place);
    const patch: JobPatch = {
      upstreamId: 'up-1',
      status: 'processing',
      progress: 42.5,
      checkedAt: 1_500,
      previewUrl: 'https://cdn/p.png',
    };

    const inserted = store.insert(newJob('a', 1_000));
    const updated = store.updateActive('a', patch, 1_500);
    const read = store.get('a');
    store.close();
    const reopened = openStore(place);

    expect(inserted).toEqual(insertedJob(newJob('a', 1_000)));
    expect(updated).toEqual({ ...inserted, ...patch, updatedAt: 1_500 });
    expect(read).toEqual(updated);
    expect(reopened.get('a')).toEqual(updated);
    expect(reopened.get('missing')).toBeUndefined();
  });

  test(`${name}: a job keeps its parameters, image links, references and a describe answer`, () => {
    const store = openStore();
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
    // The parameters come back in the order they were given (a prompt is written from them).
    expect(Object.keys(store.get('p')?.params ?? {})).toEqual(['stylize', 'no', 'quality', 'sref', 'model']);
  });

  test(`${name}: a job keeps what its action was asked, the offers made on it and its video, after a reopen too`, () => {
    const place = newPlace();
    const store = openStore(place);
    store.insert({
      ...newJob('v', 1_000),
      kind: 'action',
      output: 'video',
      parentId: 'grid-1',
      action: 'animate_high',
      actionIndex: 2,
      actionInput: { prompt: 'the sea moves', zoom: 1.5, maskFile: 'v-mask.png' },
    });
    const offers = [
      { action: 'extend_low' as const, customId: 'MJ::JOB::low' },
      { action: 'extend_high' as const, customId: 'MJ::JOB::high' },
      { action: 'upscale' as const, index: 3 },
    ];

    store.updateActive('v', { status: 'complete', offers, videoFile: 'v.mp4', imageFile: 'v.png' }, 1_100);
    const read = store.get('v');
    store.close();
    const reopened = openStore(place);

    expect(reopened.get('v')).toEqual(read);
    expect(read).toMatchObject({
      output: 'video',
      parentId: 'grid-1',
      action: 'animate_high',
      actionIndex: 2,
      actionInput: { prompt: 'the sea moves', zoom: 1.5, maskFile: 'v-mask.png' },
      offers,
      videoFile: 'v.mp4',
      imageFile: 'v.png',
    });
  });

  test(`${name}: a patch's null clears a field, a field it leaves out or gives as undefined is kept`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));
    store.updateActive('a', { upstreamId: 'up-1', error: 'slow', previewUrl: 'https://cdn/p.png' }, 2);

    const patched = store.updateActive('a', { error: null, previewUrl: undefined, account: 'second' }, 3);

    expect(patched).toMatchObject({
      upstreamId: 'up-1',
      error: null,
      previewUrl: 'https://cdn/p.png',
      account: 'second',
    });
    expect(store.updateActive('missing', { status: 'processing' }, 4)).toBeUndefined();
  });

  test(`${name}: a finished job cannot be changed by a late update`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));
    store.updateActive('a', { status: 'cancelled', finishedAt: 2 }, 2);

    const late = store.updateActive('a', { status: 'complete', imageFile: 'a.png' }, 3);

    expect(late).toBeUndefined();
    expect(store.get('a')).toMatchObject({ status: 'cancelled', imageFile: null, updatedAt: 2 });
  });

  test(`${name}: an update from given statuses applies only while the job is in one of them, so one claim wins`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));

    const claimed = store.updateActive('a', { status: 'submitting' }, 2, ['queued']);
    const claimedAgain = store.updateActive('a', { status: 'submitting' }, 3, ['queued']);
    const fromEither = store.updateActive('a', { status: 'pending' }, 4, ['queued', 'submitting']);

    expect(claimed).toMatchObject({ status: 'submitting', updatedAt: 2 });
    expect(claimedAgain).toBeUndefined();
    expect(fromEither).toMatchObject({ status: 'pending', updatedAt: 4 });
  });

  test(`${name}: a deleted job is gone, and deleting it again answers false`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));

    const deleted = store.delete('a');
    const again = store.delete('a');

    expect([deleted, again]).toEqual([true, false]);
    expect(store.get('a')).toBeUndefined();
    expect(store.listByOwner('owner-a', { limit: 10 }).jobs).toEqual([]);
  });

  test(`${name}: an upload is kept with its owner and can be deleted`, () => {
    const store = openStore();
    const kept = upload('up_bbbbbbbbbbbbbbbbbbbbbb', 'owner-a');

    store.insertUpload(kept);

    expect(store.getUpload(kept.id)).toEqual(kept);
    expect(store.deleteUpload(kept.id)).toBe(true);
    expect(store.getUpload(kept.id)).toBeUndefined();
    expect(store.deleteUpload(kept.id)).toBe(false);
  });

  test(`${name}: pagination is stable while new jobs arrive between pages`, () => {
    const store = openStore();
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

  test(`${name}: jobs of one timestamp are ordered by their ids as bytes, capitals and punctuation included`, () => {
    const store = openStore();
    for (const id of ['a-b', 'ab', 'B', 'a', 'a_b', 'é']) store.insert(newJob(id, 1));

    const ids = idsOf(store.listByOwner('owner-a', { limit: 10 }));

    expect(ids).toEqual(['é', 'ab', 'a_b', 'a-b', 'a', 'B']);
  });

  test(`${name}: a cursor the store did not make is refused`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));
    const made = [
      'not a cursor',
      Buffer.from('not JSON').toString('base64url'),
      Buffer.from(JSON.stringify({ createdAt: 1, id: 'a' })).toString('base64url'),
      Buffer.from(JSON.stringify([1.5, 'a'])).toString('base64url'),
      Buffer.from(JSON.stringify(['1', 'a'])).toString('base64url'),
      Buffer.from(JSON.stringify([1, 'a', 'extra'])).toString('base64url'),
    ];

    const attempts = made.map((cursor) => () => store.listByOwner('owner-a', { limit: 10, cursor }));

    for (const attempt of attempts) expect(attempt).toThrow(InvalidCursorError);
  });

  test(`${name}: one owner never sees another owner’s jobs in a list`, () => {
    const store = openStore();
    store.insert(newJob('mine', 1, 'a fox', { ownerId: 'owner-a' }));
    store.insert(newJob('theirs', 2, 'a fox', { ownerId: 'owner-b' }));

    expect(idsOf(store.listByOwner('owner-a', { limit: 10 }))).toEqual(['mine']);
  });

  test(`${name}: listActive returns only unfinished jobs, oldest first`, () => {
    const store = openStore();
    store.insert(newJob('b', 2));
    store.insert(newJob('a', 1));
    store.insert(newJob('done', 3));
    store.insert(newJob('c', 4, 'x', { ownerId: 'owner-b' }));
    store.updateActive('done', { status: 'complete', finishedAt: 4 }, 4);
    store.updateActive('b', { status: 'processing' }, 5);

    expect(idsOf({ jobs: store.listActive() })).toEqual(['a', 'b', 'c']);
  });

  test(`${name}: countActiveByOwner counts the owner's jobs still running, and no one else's`, () => {
    const store = openStore();
    const statuses: StoredStatus[] = [
      'queued',
      'submitting',
      'pending',
      'processing',
      'complete',
      'failed',
      'cancelled',
    ];
    for (const [i, status] of statuses.entries()) {
      store.insert(newJob(`job-${status}`, i));
      if (status !== 'queued') store.updateActive(`job-${status}`, { status }, i);
    }
    store.insert(newJob('theirs', 10, 'x', { ownerId: 'owner-b' }));

    const counts = ['owner-a', 'owner-b', 'nobody'].map((owner) => store.countActiveByOwner(owner));

    expect(counts).toEqual([4, 1, 0]);
  });

  test(`${name}: an upstream id finds the job of its own account, and jobs from before accounts count as the first account's`, () => {
    const store = openStore();
    store.insert(newJob('first-17', 1));
    store.updateActive('first-17', { upstreamId: '17', account: 'first' }, 1);
    store.insert(newJob('second-17', 2));
    store.updateActive('second-17', { upstreamId: '17', account: 'second' }, 2);
    store.insert(newJob('legacy-9', 3));
    store.updateActive('legacy-9', { upstreamId: '9' }, 3);

    const found = [
      store.getByUpstreamId('17', 'first', true),
      store.getByUpstreamId('17', 'second', false),
      store.getByUpstreamId('17', 'third', false),
      store.getByUpstreamId('9', 'first', true),
      store.getByUpstreamId('9', 'second', false),
      store.getByUpstreamId('404', 'first', true),
    ].map((job) => job?.id);

    expect(found).toEqual(['first-17', 'second-17', undefined, 'legacy-9', undefined, undefined]);
  });

  test(`${name}: a webhook delivery is remembered once; a repeat answers false`, () => {
    const store = openStore();
    const t0 = 1_800_000_000_000;

    const before = store.hasDelivery('d1');
    const first = store.rememberDelivery('d1', t0);
    const repeat = store.rememberDelivery('d1', t0 + 1);

    expect([before, first, repeat]).toEqual([false, true, false]);
    expect(store.hasDelivery('d1')).toBe(true);
    expect(store.hasDelivery('d2')).toBe(false);
  });

  test(`${name}: a delivery remembered more than a day before is forgotten`, () => {
    const store = openStore();
    const t0 = 1_800_000_000_000;
    store.rememberDelivery('old', t0);

    const later = store.rememberDelivery('new', t0 + 24 * 60 * 60 * 1000 + 61_000);

    expect(later).toBe(true);
    expect(store.hasDelivery('old')).toBe(false);
    expect(store.hasDelivery('new')).toBe(true);
  });

  test(`${name}: a job's task number is made on first use, stays the same and leads back to the job`, () => {
    const store = openStore();
    for (const id of ['a', 'b', 'c']) store.insert(newJob(id, 1));

    const b = store.taskNumberOf('b');
    const a = store.taskNumberOf('a');
    const again = [store.taskNumberOf('a'), store.taskNumberOf('b')];

    expect(b).toBe(1_700_000_000_000_000);
    expect(a).toBeGreaterThan(b);
    expect(again).toEqual([a, b]);
    expect([store.jobIdOfTaskNumber(a), store.jobIdOfTaskNumber(b)]).toEqual(['a', 'b']);
    expect(String(a)).toMatch(/^\d{16}$/);
    expect(Number.isSafeInteger(a)).toBe(true);
    // A client that parses the JSON number keeps the same digits.
    expect(JSON.parse(JSON.stringify({ id: a })).id).toBe(a);
  });

  test(`${name}: a deleted job's task number is unknown from then on and never given to another job, after a reopen too`, () => {
    const place = newPlace();
    const store = openStore(place);
    store.insert(newJob('a', 1));
    store.insert(newJob('b', 2));
    const a = store.taskNumberOf('a');
    const b = store.taskNumberOf('b');

    store.delete('b');
    const unknownAtOnce = store.jobIdOfTaskNumber(b);
    // Reopened while the deleted job's number is the greatest made: a store that took its next
    // number from the numbers still held would hand it out again.
    store.close();
    const reopened = openStore(place);
    reopened.insert(newJob('c', 3));
    reopened.insert(newJob('b', 4));
    const c = reopened.taskNumberOf('c');
    const bAgain = reopened.taskNumberOf('b');

    expect(unknownAtOnce).toBeUndefined();
    expect(reopened.jobIdOfTaskNumber(b)).toBeUndefined();
    expect(reopened.jobIdOfTaskNumber(a)).toBe('a');
    expect(c).toBeGreaterThan(b);
    expect(bAgain).toBeGreaterThan(c);
  });

  test(`${name}: a number no job has, or one that is not a safe integer, stands for no job; a job that does not exist gets no number`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));
    const a = store.taskNumberOf('a');

    const unknown = [a + 1, 0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN].map((n) => store.jobIdOfTaskNumber(n));

    expect(unknown).toEqual(unknown.map(() => undefined));
    expect(() => store.taskNumberOf('no-such-job')).toThrow(expect.objectContaining({ kind: 'not_found' }));
    expect(store.jobIdOfTaskNumber(a)).toBe('a');
    expect(store.taskNumberOf('a')).toBe(a);
  });

  test(`${name}: a relay client's state comes back verbatim, the latest one given, and numbers the job`, () => {
    const store = openStore();
    store.insert(newJob('a', 1));
    const state = '{"chat": 42} « état » 🦊 \u0000 \\ \' "';

    const before = store.relayStateOf('a');
    store.setRelayState('a', 'first');
    store.setRelayState('a', state);

    expect(before).toBeUndefined();
    expect(store.relayStateOf('a')).toBe(state);
    expect(store.jobIdOfTaskNumber(store.taskNumberOf('a'))).toBe('a');
    expect(store.relayStateOf('missing')).toBeUndefined();
    expect(() => store.setRelayState('missing', 'x')).toThrow(expect.objectContaining({ kind: 'not_found' }));
  });

  test(`${name}: a session is kept by the hash of its id until it is deleted`, () => {
    const store = openStore();
    const session: SessionRecord = {
      idHash: 'hash-a',
      ownerId: 'owner-a',
      tokenId: 't1',
      createdAt: 1,
      expiresAt: 100,
    };

    store.saveSession(session);
    const read = store.getSession('hash-a');
    store.deleteSession('hash-a');

    expect(read).toEqual(session);
    expect(store.getSession('hash-a')).toBeUndefined();
    expect(store.getSession('hash-none')).toBeUndefined();
  });

  test(`${name}: stale sessions are those expired before now or opened with another token`, () => {
    const store = openStore();
    const session = (idHash: string, tokenId: string, expiresAt: number): SessionRecord => ({
      idHash,
      ownerId: `owner-${idHash}`,
      tokenId,
      createdAt: 1,
      expiresAt,
    });
    store.saveSession(session('expired', 't1', 149));
    store.saveSession(session('expiring-now', 't1', 150));
    store.saveSession(session('live', 't1', 300));
    store.saveSession(session('old-token', 't0', 300));

    const forgotten = store.deleteStaleSessions(150, 't1');

    expect(forgotten).toBe(2);
    expect(['expired', 'expiring-now', 'live', 'old-token'].map((id) => store.getSession(id)?.idHash)).toEqual([
      undefined,
      'expiring-now',
      'live',
      undefined,
    ]);
  });

  test(`${name}: reassigning an owner moves its jobs, uploads and the keys it made, and nobody else's`, () => {
    const store = openStore();
    store.insert(newJob('a1', 1, 'x', { ownerId: 'anonymous' }));
    store.insert(newJob('a2', 2, 'x', { ownerId: 'anonymous' }));
    store.insert(newJob('b1', 3, 'x', { ownerId: 'other' }));
    store.insertUpload(upload('up-a', 'anonymous'));
    store.insertUpload(upload('up-b', 'other'));
    store.insertApiKey(apiKey('key-a', 'anonymous'));
    store.insertApiKey(apiKey('key-b', 'other'));

    const moved = store.reassignOwner('anonymous', 'signed-in');
    const none = store.reassignOwner('nobody', 'signed-in');

    expect([moved, none]).toEqual([2, 0]);
    expect(idsOf(store.listByOwner('signed-in', { limit: 10 }))).toEqual(['a2', 'a1']);
    expect(store.listByOwner('anonymous', { limit: 10 }).jobs).toEqual([]);
    expect(idsOf(store.listByOwner('other', { limit: 10 }))).toEqual(['b1']);
    expect([store.getUpload('up-a')?.ownerId, store.getUpload('up-b')?.ownerId]).toEqual(['signed-in', 'other']);
    // The key moves to its new creator and stays an owner of its own.
    expect(store.listApiKeys('signed-in')).toEqual([{ ...apiKey('key-a', 'anonymous'), creatorId: 'signed-in' }]);
    expect(store.listApiKeys('anonymous')).toEqual([]);
    expect(store.listApiKeys('other').map((key) => key.id)).toEqual(['key-b']);
  });

  test(`${name}: an API key is found by its hash, revoked or not, and listed to its creator newest first`, () => {
    const store = openStore();
    store.insertApiKey(apiKey('a', 'alice', 1));
    store.insertApiKey(apiKey('c', 'alice', 2));
    store.insertApiKey(apiKey('b', 'alice', 2));
    store.insertApiKey(apiKey('d', 'bob', 3));

    store.touchApiKey('b', 20);
    const bobRevokesAlices = store.revokeApiKey('a', 'bob', 10);
    const aliceRevokes = store.revokeApiKey('a', 'alice', 11);
    const aliceRevokesAgain = store.revokeApiKey('a', 'alice', 12);

    expect([bobRevokesAlices, aliceRevokes, aliceRevokesAgain]).toEqual([false, true, false]);
    expect(store.getApiKeyByHash('hash-a')).toEqual({ ...apiKey('a', 'alice', 1), revokedAt: 11 });
    expect(store.getApiKeyByHash('hash-b')).toEqual({ ...apiKey('b', 'alice', 2), lastUsedAt: 20 });
    expect(store.getApiKeyByHash('hash-none')).toBeUndefined();
    // A tie on the time goes to the greater id, as for jobs; the list holds each key as it is now.
    expect(store.listApiKeys('alice')).toEqual([
      apiKey('c', 'alice', 2),
      { ...apiKey('b', 'alice', 2), lastUsedAt: 20 },
      { ...apiKey('a', 'alice', 1), revokedAt: 11 },
    ]);
    expect(store.listApiKeys('bob')).toEqual([apiKey('d', 'bob', 3)]);
    expect(store.listApiKeys('carol')).toEqual([]);
  });

  test(`${name}: the creators of live keys are listed, and all of one creator's live keys are revoked at once`, () => {
    const store = openStore();
    for (const [id, creator] of [
      ['a', 'alice'],
      ['b', 'alice'],
      ['c', 'bob'],
      ['d', 'carol'],
    ] as const)
      store.insertApiKey(apiKey(id, creator));
    store.revokeApiKey('d', 'carol', 5);

    const creators = store.listApiKeyCreators().sort();
    const revoked = store.revokeApiKeysOf('alice', 10);
    const revokedAgain = store.revokeApiKeysOf('alice', 11);

    expect(creators).toEqual(['alice', 'bob']);
    expect([revoked, revokedAgain]).toEqual([2, 0]);
    expect(store.listApiKeys('alice').map((key) => key.revokedAt)).toEqual([10, 10]);
    expect(store.listApiKeyCreators()).toEqual(['bob']);
  });

  test(`${name}: a word finds the prompts with a word starting with it, newest first, whatever its case`, () => {
    const store = openStore();
    store.insert(newJob('lighthouse', 1, 'a lighthouse at dusk'));
    store.insert(newJob('rain', 2, 'light rain'));
    store.insert(newJob('delight', 3, 'pure delight'));
    store.insert(newJob('storm', 4, 'LIGHTNING over the sea'));

    const found = search(store, { words: ['light'] });

    // A prefix of a word, not any part of one: "delight" does not start with "light".
    expect(found).toEqual(['storm', 'rain', 'lighthouse']);
  });

  test(`${name}: a search ignores accents either way: cafe finds café, and café finds cafe`, () => {
    const store = openStore();
    store.insert(newJob('accented', 1, 'a café in Paris'));
    store.insert(newJob('plain', 2, 'a cafe in Rome'));
    store.insert(newJob('decomposed', 3, 'a cafe\u0301 in Lyon'));

    const unaccented = search(store, { words: ['cafe'] });
    const accented = search(store, { words: ['Café'] });

    expect(unaccented).toEqual(['decomposed', 'plain', 'accented']);
    expect(accented).toEqual(['decomposed', 'plain', 'accented']);
  });

  test(`${name}: every word of a search must be in the prompt, in any order`, () => {
    const store = openStore();
    store.insert(newJob('both', 1, 'a red fox in the snow'));
    store.insert(newJob('fox', 2, 'a grey fox'));
    store.insert(newJob('snow', 3, 'snow on the roofs'));
    store.insert(newJob('reversed', 4, 'snowy hills and a fox'));

    const found = search(store, { words: ['snow', 'fox'] });

    expect(found).toEqual(['reversed', 'both']);
  });

  test(`${name}: words are split on punctuation, so text of several words or query syntax is only words`, () => {
    const store = openStore();
    store.insert(newJob('match', 1, 'a lighthouse at dusk, NOT near the sea'));
    store.insert(newJob('other', 2, 'a lighthouse at noon'));

    const phrase = search(store, { words: ['lighthouse dusk'] });
    const syntax = search(store, { words: ['"light*', '(dusk', 'NOT', 'near:sea^'] });
    const tsquery = search(store, { words: ["light':*", 'dusk|near', '!sea', 'the&'] });

    expect(phrase).toEqual(['match']);
    expect(syntax).toEqual(['match']);
    expect(tsquery).toEqual(['match']);
  });

  test(`${name}: a search of punctuation alone is no text filter: it lists every job`, () => {
    const store = openStore();
    store.insert(newJob('a', 1, 'a lighthouse'));
    store.insert(newJob('b', 2, 'a fox'));

    const found = search(store, { words: ['"*', '--', '(:)', '\u0301', "'", '&|!'] });

    expect(found).toEqual(['b', 'a']);
  });

  test(`${name}: a search uses its first 8 words and ignores the rest`, () => {
    const store = openStore();
    const eight = 'one two three four five six seven eight';
    store.insert(newJob('a', 1, eight));

    const found = search(store, { words: [...eight.split(' '), 'ninth'] });
    const withNinth = search(store, { words: ['ninth', ...eight.split(' ')] });

    expect(found).toEqual(['a']);
    expect(withNinth).toEqual([]);
  });

  test(`${name}: a one-letter word matches only as a whole word, not as every word it begins`, () => {
    const store = openStore();
    store.insert(newJob('a', 1, 'a lighthouse'));
    store.insert(newJob('b', 2, 'lighthouse at dusk'));

    const single = search(store, { words: ['a'] });
    const prefix = search(store, { words: ['at'] });

    expect(single).toEqual(['a']);
    expect(prefix).toEqual(['b']);
  });

  test(`${name}: one owner’s search never finds another owner’s jobs`, () => {
    const store = openStore();
    store.insert(newJob('mine', 1, 'a lighthouse'));
    store.insert(newJob('theirs', 2, 'a lighthouse', { ownerId: 'owner-b' }));

    const found = search(store, { words: ['lighthouse'] });

    expect(found).toEqual(['mine']);
  });

  test(`${name}: a deleted job is no longer found by its words`, () => {
    const store = openStore();
    store.insert(newJob('kept', 1, 'a lighthouse at dusk'));
    store.insert(newJob('deleted', 2, 'a lighthouse at dawn'));

    store.delete('deleted');

    expect(search(store, { words: ['lighthouse'] })).toEqual(['kept']);
    expect(search(store, { words: ['dawn'] })).toEqual([]);
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
    [
      'the pending status, which covers jobs still being submitted',
      { statuses: ['pending'] },
      ['pending', 'submitting'],
    ],
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
  ])(`${name}: a list narrowed by %s`, (_label, filter, expected) => {
    const store = filterFixture();

    const found = search(store, filter);

    expect(found).toEqual(expected);
  });

  test(`${name}: filters combine: a job is listed only when every filter given holds`, () => {
    const store = filterFixture();

    const catsNotQueued = search(store, { words: ['cat'], statuses: ['pending', 'failed'], from: 300 });
    const favouriteGrids = search(store, { outputs: ['grid'], favourite: true });

    expect(catsNotQueued).toEqual(['seeded', 'pending']);
    expect(favouriteGrids).toEqual([]);
  });

  test(`${name}: many filter combinations, each asked twice, are all answered rightly`, () => {
    const store = filterFixture();
    const everyJob = store.listByOwner('owner-a', { limit: 50 }).jobs;
    const publicStatus = (status: StoredStatus): JobStatus => (status === 'submitting' ? 'pending' : status);
    // 96 shapes of SQL (how many statuses, outputs, whether words and a ratio): more than
    // SQLite's statement cache holds.
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

  test(`${name}: a filtered list pages through every match once, while new jobs arrive between pages`, () => {
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

  test(`${name}: a favourite mark shows on the next read of a finished job; a record handed out before is left as it was`, () => {
    const store = openStore();
    store.insert(newJob('a', 1, 'a lighthouse'));
    store.updateActive('a', { status: 'complete', imageFile: 'a.png' }, 2);
    const before = store.get('a');

    const marked = store.setFavourite('a', true, 3);
    const readAfterMark = store.get('a');
    store.setFavourite('a', false, 4);
    const readAfterUnmark = store.get('a');

    expect(marked).toMatchObject({ favourite: true, status: 'complete', updatedAt: 3 });
    expect(readAfterMark?.favourite).toBe(true);
    expect(readAfterUnmark?.favourite).toBe(false);
    // Others may still hold the record handed out before.
    expect(before?.favourite).toBe(false);
    expect(store.setFavourite('missing', true, 5)).toBeUndefined();
  });

  test(`${name}: a job’s children are listed oldest first, at most the limit asked`, () => {
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
}
