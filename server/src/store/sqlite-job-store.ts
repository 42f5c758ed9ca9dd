// The embedded job store: one SQLite file in DATA_DIR through better-sqlite3, WAL mode, schema
// migrations applied in order at open. Its SQL is here; what its rows mean is in job-columns.ts.

import Database from 'better-sqlite3';
import { z } from 'zod';
import { DomainError } from '../errors';
import {
  ACTIVE_SQL,
  decodeCursor,
  distinct,
  encodeCursor,
  patchColumns,
  qualityOf,
  rowSchemas,
  storedStatusesOf,
} from './job-columns';
import {
  type ApiKeyRecord,
  FINAL_STATUSES,
  InvalidCursorError,
  type JobFilter,
  type JobPage,
  type JobPatch,
  type JobRecord,
  type JobStore,
  type NewJob,
  type SessionRecord,
  type StoredStatus,
  type UploadRecord,
} from './job-store';
import { SEARCH_MAX_WORDS, splitWords } from './prompt-words';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id           TEXT PRIMARY KEY,
     owner_id     TEXT NOT NULL,
     prompt       TEXT NOT NULL,
     aspect_ratio TEXT NOT NULL,
     quality      TEXT NOT NULL,
     status       TEXT NOT NULL,
     progress     REAL,
     upstream_id  TEXT,
     error        TEXT,
     image_file   TEXT,
     created_at   INTEGER NOT NULL,
     updated_at   INTEGER NOT NULL,
     finished_at  INTEGER,
     checked_at   INTEGER
   ) STRICT;
   CREATE INDEX jobs_by_owner ON jobs (owner_id, created_at DESC, id DESC);
   CREATE INDEX jobs_active ON jobs (status) WHERE status IN ('submitting', 'pending', 'processing');`,
  // Submissions can wait in a queue for budget: `queued` joins the active statuses.
  `DROP INDEX jobs_active;
   CREATE INDEX jobs_active ON jobs (status, created_at)
     WHERE status IN ('queued', 'submitting', 'pending', 'processing');`,
  // Webhooks name the upstream's id; each delivery id is remembered to ignore repeats.
  `CREATE INDEX jobs_by_upstream ON jobs (upstream_id) WHERE upstream_id IS NOT NULL;
   CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL) STRICT;`,
  // Grid actions make jobs linked to their grid; relays show a preview while rendering.
  `ALTER TABLE jobs ADD COLUMN parent_id TEXT;
   ALTER TABLE jobs ADD COLUMN action TEXT;
   ALTER TABLE jobs ADD COLUMN action_index INTEGER;
   ALTER TABLE jobs ADD COLUMN preview_url TEXT;`,
  // Sign-in sessions live on the server, so that signing out (or a new token) ends them.
  `CREATE TABLE sessions (
     id_hash    TEXT PRIMARY KEY,
     owner_id   TEXT NOT NULL,
     token_id   TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;`,
  // Every Midjourney parameter, images as input, describe and blend. The older rows' ratio and
  // quality become their parameters.
  `ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'imagine';
   UPDATE jobs SET kind = 'action' WHERE action IS NOT NULL;
   ALTER TABLE jobs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
   UPDATE jobs SET params = json_patch(
     CASE WHEN aspect_ratio <> '1:1' THEN json_object('aspect_ratio', aspect_ratio) ELSE '{}' END,
     CASE WHEN quality = 'high' THEN json_object('quality', 2) ELSE '{}' END);
   ALTER TABLE jobs ADD COLUMN image_urls TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE jobs ADD COLUMN refs TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE jobs ADD COLUMN final_prompt TEXT;
   ALTER TABLE jobs ADD COLUMN descriptions TEXT;
   CREATE TABLE uploads (
     id           TEXT PRIMARY KEY,
     owner_id     TEXT NOT NULL,
     file         TEXT NOT NULL,
     content_type TEXT NOT NULL,
     width        INTEGER NOT NULL,
     height       INTEGER NOT NULL,
     bytes        INTEGER NOT NULL,
     created_at   INTEGER NOT NULL
   ) STRICT;`,
  // What a job makes, favourites, every action's inputs and offers, videos, lineage and search.
  // Older rows get the output their kind or action says; the rest become what the configured
  // upstream's imagine makes (migrate's `legacyImagineOutput`; nothing stored tells a v7
  // single image from a relay's grid).
  // The search index is external-content over jobs' implicit rowid, kept by the triggers.
  // VACUUM keeps those rowids on this SQLite, but the documentation allows it to renumber a
  // table without an INTEGER PRIMARY KEY: anything that vacuums must then rebuild jobs_fts.
  `ALTER TABLE jobs ADD COLUMN output TEXT NOT NULL DEFAULT 'grid';
   UPDATE jobs SET output = CASE WHEN kind = 'describe' THEN 'text' WHEN action = 'upscale' THEN 'image' ELSE 'grid' END;
   ALTER TABLE jobs ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE jobs ADD COLUMN action_input TEXT;
   ALTER TABLE jobs ADD COLUMN offers TEXT;
   ALTER TABLE jobs ADD COLUMN video_file TEXT;
   CREATE INDEX jobs_by_parent ON jobs (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
   CREATE INDEX jobs_favourites ON jobs (owner_id, created_at DESC, id DESC) WHERE favourite = 1;
   CREATE VIRTUAL TABLE jobs_fts USING fts5(
     prompt, content='jobs', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2',
     prefix='2 3');
   CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
     INSERT INTO jobs_fts (rowid, prompt) VALUES (new.rowid, new.prompt);
   END;
   CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
     INSERT INTO jobs_fts (jobs_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
   END;
   CREATE TRIGGER jobs_fts_update AFTER UPDATE OF prompt ON jobs BEGIN
     INSERT INTO jobs_fts (jobs_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
     INSERT INTO jobs_fts (rowid, prompt) VALUES (new.rowid, new.prompt);
   END;
   INSERT INTO jobs_fts (jobs_fts) VALUES ('rebuild');`,
  // API keys made in the studio (the secret's keyed hash only), and relay-style task numbers.
  // The numbers start at 1700000000000000: 16 digits like a relay's, far below 2^53, so that
  // a client parsing them as JSON numbers keeps them exact. AUTOINCREMENT (seeded through
  // sqlite_sequence) never hands out a number again, even once its job and row are gone; the
  // row goes with its job, so that a deleted job's number is unknown, as a relay's would be.
  `CREATE TABLE api_keys (
     id           TEXT PRIMARY KEY,
     creator_id   TEXT NOT NULL,
     owner_id     TEXT NOT NULL UNIQUE,
     name         TEXT NOT NULL,
     hash         TEXT NOT NULL UNIQUE,
     created_at   INTEGER NOT NULL,
     last_used_at INTEGER,
     revoked_at   INTEGER
   ) STRICT;
   CREATE INDEX api_keys_by_creator ON api_keys (creator_id, created_at DESC, id DESC);
   CREATE TABLE task_numbers (
     task_number INTEGER PRIMARY KEY AUTOINCREMENT,
     job_id      TEXT NOT NULL UNIQUE,
     state       TEXT
   ) STRICT;
   INSERT INTO sqlite_sequence (name, seq) VALUES ('task_numbers', 1699999999999999);
   CREATE TRIGGER task_numbers_forget AFTER DELETE ON jobs BEGIN
     DELETE FROM task_numbers WHERE job_id = old.id;
   END;`,
  // The upstream account each job was sent to (account pools); older rows keep null.
  `ALTER TABLE jobs ADD COLUMN account TEXT;`,
];

/** better-sqlite3 hands back INTEGER and REAL columns as numbers, and a flag as 0 or 1. */
const ROWS = rowSchemas({
  time: z.number(),
  integer: z.number().int(),
  real: z.number(),
  boolean: z.literal([0, 1]).transform((value) => value === 1),
});
const toRecord = (row: unknown): JobRecord => ROWS.job.parse(row);
const toApiKey = (row: unknown): ApiKeyRecord => ROWS.apiKey.parse(row);

/**
 * The FTS5 query for a search's words: each a quoted prefix term (served by the 2- and
 * 3-character prefix indexes), all required; a one-letter word only as a whole word. Words are
 * split again on whatever is neither letter, digit nor mark (the tokenizer's separators, as
 * prompt-words.ts splits them), so no punctuation reaches FTS5's syntax. Marks stay with their word: inside the quotes the
 * tokenizer splits and strips them as it did the prompts (Devanagari, a decomposed é). A
 * search of punctuation alone has no words left and is no text filter (undefined), like an
 * empty search: matching nothing would only look broken.
 */
function matchQuery(words: readonly string[]): string | undefined {
  const terms = words.flatMap(splitWords).slice(0, SEARCH_MAX_WORDS);
  // A one-letter prefix would scan every word of every prompt: one letter is a word of its own.
  const written = terms.map((term) => `"${term.replaceAll('"', '""')}"${[...term].length > 1 ? '*' : ''}`);
  return written.length > 0 ? written.join(' ') : undefined;
}

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

/**
 * A filter as WHERE clauses from fixed fragments, every value bound: no user text is ever
 * part of the SQL. An empty list narrows nothing (as if it were not given).
 */
function filterClauses(filter: JobFilter): { clauses: string[]; values: (string | number)[] } {
  const clauses: string[] = [];
  const values: (string | number)[] = [];
  const match = matchQuery(filter.words ?? []);
  if (match !== undefined) {
    clauses.push('jobs.rowid IN (SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH ?)');
    values.push(match);
  }
  const statuses = storedStatusesOf(filter.statuses);
  if (statuses.length > 0) {
    clauses.push(`status IN (${placeholders(statuses.length)})`);
    values.push(...statuses);
  }
  const outputs = distinct(filter.outputs);
  if (outputs.length > 0) {
    clauses.push(`output IN (${placeholders(outputs.length)})`);
    values.push(...outputs);
  }
  if (filter.aspectRatio !== undefined) {
    clauses.push('aspect_ratio = ?');
    values.push(filter.aspectRatio);
  }
  // The keys come from the parameter table upstream; they are bound all the same.
  for (const key of distinct(filter.params)) {
    clauses.push(`json_type(params, '$.' || ?) IS NOT NULL`);
    values.push(key);
  }
  if (filter.from !== undefined) {
    clauses.push('created_at >= ?');
    values.push(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push('created_at < ?');
    values.push(filter.to);
  }
  // Literal 1, not a bound value, so that the planner can use the favourites' partial index.
  if (filter.favourite !== undefined) clauses.push(filter.favourite ? 'favourite = 1' : 'favourite = 0');
  return { clauses, values };
}

export interface MigrateOptions {
  /** What an imagine made before jobs recorded it (migration 7): the configured upstream's. */
  legacyImagineOutput?: 'grid' | 'image' | undefined;
}

/** Applies the migrations not yet applied, up to `target` (all by default). */
export function migrate(db: Database.Database, target = MIGRATIONS.length, options: MigrateOptions = {}): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  for (let version = current; version < target; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '');
      if (version === 6 && options.legacyImagineOutput === 'image') {
        db.exec(`UPDATE jobs SET output = 'image' WHERE kind = 'imagine'`);
      }
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/**
 * Finished jobs never change again, but for their favourite mark and deletion (both of which
 * drop them from the cache): the most recently read are kept in memory.
 */
const FINISHED_CACHE_SIZE = 2_000;
/** Lists combine filters freely and patches their fields: statements are kept by SQL text, the latest few. */
const STATEMENT_CACHE_SIZE = 64;
const FINAL: ReadonlySet<string> = new Set(FINAL_STATUSES);

export class SqliteJobStore implements JobStore {
  readonly #db: Database.Database;
  readonly #statements;
  readonly #finished = new Map<string, Readonly<JobRecord>>();
  readonly #prepared = new Map<string, Database.Statement>();
  #lastForget = 0;

  constructor(file: string, options: MigrateOptions = {}) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL survives a process crash (kill -9) without losing commits.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    migrate(this.#db, MIGRATIONS.length, options);
    this.#statements = {
      insert: this.#db.prepare(
        `INSERT INTO jobs (id, owner_id, kind, output, prompt, params, image_urls, refs, aspect_ratio, quality,
                           status, created_at, updated_at, parent_id, action, action_index, action_input)
         VALUES (@id, @ownerId, @kind, @output, @prompt, @params, @imageUrls, @refs, @aspectRatio, @quality,
                 'queued', @createdAt, @createdAt, @parentId, @action, @actionIndex, @actionInput)`,
      ),
      get: this.#db.prepare('SELECT * FROM jobs WHERE id = ?'),
      children: this.#db.prepare('SELECT * FROM jobs WHERE parent_id = ? ORDER BY created_at, id LIMIT ?'),
      setFavourite: this.#db.prepare('UPDATE jobs SET favourite = ?, updated_at = ? WHERE id = ?'),
      active: this.#db.prepare(`SELECT * FROM jobs WHERE ${ACTIVE_SQL} ORDER BY created_at`),
      delete: this.#db.prepare('DELETE FROM jobs WHERE id = ?'),
      byUpstream: this.#db.prepare('SELECT * FROM jobs WHERE upstream_id = ?'),
      delivered: this.#db.prepare('SELECT 1 FROM webhook_deliveries WHERE id = ?'),
      remember: this.#db.prepare('INSERT OR IGNORE INTO webhook_deliveries (id, received_at) VALUES (?, ?)'),
      forget: this.#db.prepare('DELETE FROM webhook_deliveries WHERE received_at < ?'),
      saveSession: this.#db.prepare(
        `INSERT INTO sessions (id_hash, owner_id, token_id, created_at, expires_at)
         VALUES (@idHash, @ownerId, @tokenId, @createdAt, @expiresAt)`,
      ),
      getSession: this.#db.prepare('SELECT * FROM sessions WHERE id_hash = ?'),
      deleteSession: this.#db.prepare('DELETE FROM sessions WHERE id_hash = ?'),
      deleteStaleSessions: this.#db.prepare('DELETE FROM sessions WHERE expires_at < ? OR token_id <> ?'),
      countActive: this.#db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE owner_id = ? AND ${ACTIVE_SQL}`),
      insertUpload: this.#db.prepare(
        `INSERT INTO uploads (id, owner_id, file, content_type, width, height, bytes, created_at)
         VALUES (@id, @ownerId, @file, @contentType, @width, @height, @bytes, @createdAt)`,
      ),
      insertApiKey: this.#db.prepare(
        `INSERT INTO api_keys (id, creator_id, owner_id, name, hash, created_at, last_used_at, revoked_at)
         VALUES (@id, @creatorId, @ownerId, @name, @hash, @createdAt, @lastUsedAt, @revokedAt)`,
      ),
      apiKeyByHash: this.#db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
      listApiKeys: this.#db.prepare('SELECT * FROM api_keys WHERE creator_id = ? ORDER BY created_at DESC, id DESC'),
      revokeApiKey: this.#db.prepare(
        'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND creator_id = ? AND revoked_at IS NULL',
      ),
      touchApiKey: this.#db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
      apiKeyCreators: this.#db.prepare('SELECT DISTINCT creator_id FROM api_keys WHERE revoked_at IS NULL'),
      revokeApiKeysOf: this.#db.prepare(
        'UPDATE api_keys SET revoked_at = ? WHERE creator_id = ? AND revoked_at IS NULL',
      ),
      taskNumberOf: this.#db.prepare('SELECT task_number FROM task_numbers WHERE job_id = ?'),
      // Only for a job that exists: a number for no job would never be cleaned up.
      numberTask: this.#db.prepare('INSERT OR IGNORE INTO task_numbers (job_id) SELECT id FROM jobs WHERE id = ?'),
      jobOfTaskNumber: this.#db.prepare('SELECT job_id FROM task_numbers WHERE task_number = ?'),
      relayState: this.#db.prepare('SELECT state FROM task_numbers WHERE job_id = ?'),
      reassignJobs: this.#db.prepare('UPDATE jobs SET owner_id = ? WHERE owner_id = ?'),
      reassignUploads: this.#db.prepare('UPDATE uploads SET owner_id = ? WHERE owner_id = ?'),
      reassignApiKeys: this.#db.prepare('UPDATE api_keys SET creator_id = ? WHERE creator_id = ?'),
      setRelayState: this.#db.prepare('UPDATE task_numbers SET state = ? WHERE job_id = ?'),
      getUpload: this.#db.prepare('SELECT * FROM uploads WHERE id = ?'),
      deleteUpload: this.#db.prepare('DELETE FROM uploads WHERE id = ?'),
    };
  }

  insert(job: NewJob): JobRecord {
    this.#statements.insert.run({
      parentId: null,
      action: null,
      actionIndex: null,
      ...job,
      params: JSON.stringify(job.params),
      imageUrls: JSON.stringify(job.imageUrls ?? []),
      refs: JSON.stringify(job.refs ?? []),
      actionInput: job.actionInput ? JSON.stringify(job.actionInput) : null,
      quality: qualityOf(job.params),
    });
    const stored = this.get(job.id);
    if (!stored) throw new Error('An inserted job could not be read back');
    return stored;
  }

  get(id: string): JobRecord | undefined {
    const cached = this.#finished.get(id);
    if (cached) return cached;
    const row = this.#statements.get.get(id);
    if (!row) return undefined;
    const job = toRecord(row);
    if (FINAL.has(job.status)) {
      if (this.#finished.size >= FINISHED_CACHE_SIZE) this.#finished.delete(this.#finished.keys().next().value ?? '');
      this.#finished.set(id, Object.freeze(job));
    }
    return job;
  }

  updateActive(id: string, patch: JobPatch, now: number, from?: readonly StoredStatus[]): JobRecord | undefined {
    const sets = patchColumns(patch);
    // Statuses are our own constants, never input: safe to write into the statement.
    const only = from ? `status IN (${from.map((status) => `'${status}'`).join(', ')})` : ACTIVE_SQL;
    // Each value is bound by its column's name: no patched column is called `id` or `now`.
    const result = this.#prepare(
      `UPDATE jobs SET ${[...sets.map(({ column }) => `${column} = @${column}`), 'updated_at = @now'].join(', ')}
         WHERE id = @id AND ${only}`,
    ).run({ ...Object.fromEntries(sets.map(({ column, value }) => [column, value])), id, now });
    return result.changes > 0 ? this.get(id) : undefined;
  }

  listByOwner(
    ownerId: string,
    options: { limit: number; cursor?: string | undefined; filter?: JobFilter | undefined },
  ): JobPage {
    const { clauses, values } = filterClauses(options.filter ?? {});
    // The cursor is a position in the order (created_at, id), whatever the filter: a page
    // never repeats or skips a job while new ones arrive, as long as the filter stays the same.
    if (options.cursor) {
      const position = decodeCursor(options.cursor);
      if (!position) throw new InvalidCursorError();
      clauses.push('(created_at, id) < (?, ?)');
      values.push(...position);
    }
    const rows = this.#prepare(
      `SELECT * FROM jobs WHERE ${['owner_id = ?', ...clauses].join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    ).all(ownerId, ...values, options.limit + 1);
    const jobs = rows.slice(0, options.limit).map(toRecord);
    const last = jobs.at(-1);
    return { jobs, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
  }

  listChildren(parentId: string, limit: number): JobRecord[] {
    return this.#statements.children.all(parentId, limit).map(toRecord);
  }

  setFavourite(id: string, favourite: boolean, now: number): JobRecord | undefined {
    const changed = this.#statements.setFavourite.run(favourite ? 1 : 0, now, id).changes > 0;
    // The cached record is frozen and shared: the next read must come from the row.
    this.#finished.delete(id);
    return changed ? this.get(id) : undefined;
  }

  listActive(): JobRecord[] {
    return this.#statements.active.all().map(toRecord);
  }

  getByUpstreamId(upstreamId: string, account: string, firstAccount: boolean): JobRecord | undefined {
    return this.#statements.byUpstream
      .all(upstreamId)
      .map(toRecord)
      .find((job) => job.account === account || (job.account === null && firstAccount));
  }

  hasDelivery(id: string): boolean {
    return this.#statements.delivered.get(id) !== undefined;
  }

  rememberDelivery(id: string, now: number): boolean {
    // Deliveries older than a day cannot come back (their timestamps would be refused):
    // forget them, at most once a minute rather than on every delivery.
    if (now - this.#lastForget > 60_000) {
      this.#statements.forget.run(now - 24 * 60 * 60 * 1000);
      this.#lastForget = now;
    }
    return this.#statements.remember.run(id, now).changes > 0;
  }

  countActiveByOwner(ownerId: string): number {
    return z.object({ n: z.number() }).parse(this.#statements.countActive.get(ownerId)).n;
  }

  delete(id: string): boolean {
    this.#finished.delete(id);
    return this.#statements.delete.run(id).changes > 0;
  }

  saveSession(session: SessionRecord): void {
    this.#statements.saveSession.run(session);
  }

  getSession(idHash: string): SessionRecord | undefined {
    const row = this.#statements.getSession.get(idHash);
    return row ? ROWS.session.parse(row) : undefined;
  }

  deleteSession(idHash: string): void {
    this.#statements.deleteSession.run(idHash);
  }

  deleteStaleSessions(now: number, tokenId: string): number {
    return this.#statements.deleteStaleSessions.run(now, tokenId).changes;
  }

  insertApiKey(key: ApiKeyRecord): void {
    this.#statements.insertApiKey.run(key);
  }

  getApiKeyByHash(hash: string): ApiKeyRecord | undefined {
    const row = this.#statements.apiKeyByHash.get(hash);
    return row ? toApiKey(row) : undefined;
  }

  listApiKeys(creatorId: string): ApiKeyRecord[] {
    return this.#statements.listApiKeys.all(creatorId).map(toApiKey);
  }

  revokeApiKey(id: string, creatorId: string, now: number): boolean {
    return this.#statements.revokeApiKey.run(now, id, creatorId).changes > 0;
  }

  listApiKeyCreators(): string[] {
    return this.#statements.apiKeyCreators.all().map((row) => ROWS.creator.parse(row).creator_id);
  }

  revokeApiKeysOf(creatorId: string, now: number): number {
    return this.#statements.revokeApiKeysOf.run(now, creatorId).changes;
  }

  touchApiKey(id: string, now: number): void {
    this.#statements.touchApiKey.run(now, id);
  }

  taskNumberOf(jobId: string): number {
    // Read first: most calls are for jobs already numbered (a client polling), and a read
    // takes no write lock.
    let row = this.#statements.taskNumberOf.get(jobId);
    if (!row) {
      this.#statements.numberTask.run(jobId);
      row = this.#statements.taskNumberOf.get(jobId);
    }
    if (!row) throw new DomainError('not_found', 'No such job');
    return ROWS.taskNumber.parse(row).task_number;
  }

  jobIdOfTaskNumber(taskNumber: number): string | undefined {
    if (!Number.isSafeInteger(taskNumber)) return undefined;
    const row = this.#statements.jobOfTaskNumber.get(taskNumber);
    return row ? ROWS.taskJob.parse(row).job_id : undefined;
  }

  reassignOwner(from: string, to: string): number {
    const moved = this.#db.transaction(() => {
      this.#statements.reassignUploads.run(to, from);
      // The keys it made, too: else they would authenticate with nobody left to list or revoke them.
      this.#statements.reassignApiKeys.run(to, from);
      return this.#statements.reassignJobs.run(to, from).changes;
    })();
    // Cached finished records name the old owner.
    if (moved > 0) this.#finished.clear();
    return moved;
  }

  relayStateOf(jobId: string): string | undefined {
    const row = this.#statements.relayState.get(jobId);
    return row ? (z.object({ state: z.string().nullable() }).parse(row).state ?? undefined) : undefined;
  }

  setRelayState(jobId: string, state: string): void {
    this.taskNumberOf(jobId);
    this.#statements.setRelayState.run(state, jobId);
  }

  insertUpload(upload: UploadRecord): void {
    this.#statements.insertUpload.run(upload);
  }

  getUpload(id: string): UploadRecord | undefined {
    const row = this.#statements.getUpload.get(id);
    return row ? ROWS.upload.parse(row) : undefined;
  }

  deleteUpload(id: string): boolean {
    return this.#statements.deleteUpload.run(id).changes > 0;
  }

  close(): void {
    this.#db.close();
  }

  #prepare(sql: string): Database.Statement {
    const cached = this.#prepared.get(sql);
    if (cached) {
      // Most recently used last, so that the oldest is the one forgotten.
      this.#prepared.delete(sql);
      this.#prepared.set(sql, cached);
      return cached;
    }
    const statement = this.#db.prepare(sql);
    if (this.#prepared.size >= STATEMENT_CACHE_SIZE) this.#prepared.delete(this.#prepared.keys().next().value ?? '');
    this.#prepared.set(sql, statement);
    return statement;
  }
}
