// The networked job store: PostgreSQL through libpq's synchronous client (pg-native), shared by
// several server processes at once. Its migrations, its SQL and its search index live here.
//
// Several processes may open one database at the same moment: migrations run under one advisory
// lock and are recorded in schema_migrations, so each is applied once, by whoever comes first.
// Nothing read is kept in memory, since another process may change or delete any row at any time:
// every call asks the database. Every value is bound ($1…); only fixed fragments and the schema's
// name (checked, then quoted) are ever part of the SQL text.

import Client, { type PgValue } from 'pg-native';
import { z } from 'zod';
import { DomainError } from '../errors';
import {
  ACTIVE_SQL,
  decodeCursor,
  distinct,
  encodeCursor,
  json,
  patchColumns,
  qualityOf,
  rowSchemas,
  storedStatusesOf,
} from './job-columns';
import {
  ACTIVE_STATUSES,
  type ActiveStatus,
  type ApiKeyRecord,
  InvalidCursorError,
  type JobFilter,
  type JobPage,
  type JobPatch,
  type JobRecord,
  type JobStore,
  type NewJob,
  type SessionRecord,
  type UploadRecord,
} from './job-store';
import { promptWords, searchWords } from './prompt-words';
import type { MigrateOptions } from './sqlite-job-store';

// A migration, once released, never changes: a later change is a migration of its own.
// Times are milliseconds since the epoch (BIGINT). Ids sort bytewise (COLLATE "C"), as SQLite
// compares text, so that ties on a timestamp order the same in both stores. JSON columns are
// `json`, not `jsonb`: kept as written, key order included (a prompt's parameters keep theirs),
// and a string may hold U+0000, which `text` cannot.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id           TEXT COLLATE "C" PRIMARY KEY,
     owner_id     TEXT NOT NULL,
     kind         TEXT NOT NULL,
     output       TEXT NOT NULL,
     favourite    BOOLEAN NOT NULL DEFAULT false,
     prompt       TEXT NOT NULL,
     prompt_words TSVECTOR NOT NULL,
     params       JSON NOT NULL,
     image_urls   JSON NOT NULL,
     refs         JSON NOT NULL,
     aspect_ratio TEXT NOT NULL,
     quality      TEXT NOT NULL,
     final_prompt TEXT,
     descriptions JSON,
     status       TEXT NOT NULL,
     progress     DOUBLE PRECISION,
     upstream_id  TEXT,
     error        TEXT,
     image_file   TEXT,
     created_at   BIGINT NOT NULL,
     updated_at   BIGINT NOT NULL,
     finished_at  BIGINT,
     checked_at   BIGINT,
     preview_url  TEXT,
     parent_id    TEXT,
     action       TEXT,
     action_index INTEGER,
     action_input JSON,
     offers       JSON,
     video_file   TEXT,
     account      TEXT
   );
   CREATE INDEX jobs_by_owner ON jobs (owner_id, created_at, id);
   CREATE INDEX jobs_active ON jobs (created_at, id) WHERE status IN ('queued', 'submitting', 'pending', 'processing');
   CREATE INDEX jobs_by_upstream ON jobs (upstream_id) WHERE upstream_id IS NOT NULL;
   CREATE INDEX jobs_by_parent ON jobs (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
   CREATE INDEX jobs_favourites ON jobs (owner_id, created_at, id) WHERE favourite;
   CREATE INDEX jobs_by_words ON jobs USING GIN (prompt_words);
   CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, received_at BIGINT NOT NULL);
   CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (received_at);
   CREATE TABLE sessions (
     id_hash    TEXT PRIMARY KEY,
     owner_id   TEXT NOT NULL,
     token_id   TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE TABLE uploads (
     id           TEXT PRIMARY KEY,
     owner_id     TEXT NOT NULL,
     file         TEXT NOT NULL,
     content_type TEXT NOT NULL,
     width        INTEGER NOT NULL,
     height       INTEGER NOT NULL,
     bytes        BIGINT NOT NULL,
     created_at   BIGINT NOT NULL
   );
   CREATE TABLE api_keys (
     id           TEXT COLLATE "C" PRIMARY KEY,
     creator_id   TEXT NOT NULL,
     owner_id     TEXT NOT NULL UNIQUE,
     name         TEXT NOT NULL,
     hash         TEXT NOT NULL UNIQUE,
     created_at   BIGINT NOT NULL,
     last_used_at BIGINT,
     revoked_at   BIGINT
   );
   CREATE INDEX api_keys_by_creator ON api_keys (creator_id, created_at, id);
   -- 16 digits like a relay's task ids, far below 2^53 (see sqlite-job-store.ts). An identity is
   -- a sequence: never the same number twice, whichever process asks, even once its row is gone.
   -- The row goes with its job, so that a deleted job's number is unknown, as a relay's would be.
   CREATE TABLE task_numbers (
     task_number BIGINT GENERATED ALWAYS AS IDENTITY (START WITH 1700000000000000) PRIMARY KEY,
     job_id      TEXT NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE,
     state       JSON
   );`,
];

/** Any fixed number will do, as long as every version of this store takes the same one. */
export const MIGRATION_LOCK_KEY = 7_351_209_884_131;

/**
 * A synchronous query blocks the whole process, so none may hang: a query still running after
 * this long is cancelled and throws. Migrations are exempt (they wait for one another's lock).
 */
const STATEMENT_TIMEOUT_MS = 10_000;

/**
 * Every column reaches us as its text (or null) and is read here, not by pg-types, whose
 * parsers are global and which another library could change. Times come back as digits.
 */
const AS_TEXT = { getTypeParser: () => (text: string) => text };

const integer = z
  .string()
  .regex(/^-?\d+$/)
  .transform(Number)
  .refine(Number.isSafeInteger, 'beyond 2^53');
const real = z.string().transform(Number).pipe(z.number());
const bool = z.enum(['t', 'f']).transform((value) => value === 't');

const JOB_COLUMNS = `id, owner_id, kind, output, favourite, prompt, params, image_urls, refs, final_prompt,
  descriptions, aspect_ratio, quality, status, progress, upstream_id, error, image_file, created_at, updated_at,
  finished_at, checked_at, preview_url, parent_id, action, action_index, action_input, offers, video_file, account`;

/** The rows of every table, read from the columns' text with the parsers above. */
const ROWS = rowSchemas({ time: integer, integer, real, boolean: bool });

const countRowSchema = z.object({ n: integer });
const relayStateRowSchema = z.object({ state: json(z.string()).nullable() });
const versionRowSchema = z.object({ version: integer });

/** The values of one statement, each given its `$n` as it is added. */
class Bindings {
  readonly values: PgValue[] = [];

  add(value: PgValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * A search as one `tsquery`: each word a quoted lexeme, a prefix (`:*`) unless it has one
 * letter, all required (`&`). The words hold only letters, digits and marks (prompt-words.ts
 * splits on everything else), so none can close its quotes or add an operator. Undefined: no
 * text filter (no words, or punctuation alone), like an empty search.
 */
function wordsQuery(words: readonly string[]): string | undefined {
  const terms = searchWords(words).map(({ word, prefix }) => `'${word}'${prefix ? ':*' : ''}`);
  return terms.length > 0 ? terms.join(' & ') : undefined;
}

/**
 * A filter as WHERE clauses from fixed fragments, every value bound: no user text is ever
 * part of the SQL. An empty list narrows nothing (as if it were not given).
 */
function filterClauses(filter: JobFilter, bind: Bindings): string[] {
  const clauses: string[] = [];
  const query = wordsQuery(filter.words ?? []);
  if (query !== undefined) clauses.push(`prompt_words @@ ${bind.add(query)}::tsquery`);
  const statuses = storedStatusesOf(filter.statuses);
  if (statuses.length > 0) clauses.push(`status IN (${statuses.map((status) => bind.add(status)).join(', ')})`);
  const outputs = distinct(filter.outputs);
  if (outputs.length > 0) clauses.push(`output IN (${outputs.map((output) => bind.add(output)).join(', ')})`);
  if (filter.aspectRatio !== undefined) clauses.push(`aspect_ratio = ${bind.add(filter.aspectRatio)}`);
  // A key given with the value null is still given (SQLite's json_type answers 'null').
  for (const key of distinct(filter.params))
    clauses.push(`json_extract_path(params, ${bind.add(key)}::text) IS NOT NULL`);
  // Times are whole milliseconds: created_at >= t holds exactly when created_at >= ceil(t).
  if (filter.from !== undefined) clauses.push(`created_at >= ${bind.add(Math.ceil(filter.from))}`);
  if (filter.to !== undefined) clauses.push(`created_at < ${bind.add(Math.ceil(filter.to))}`);
  // A literal, not a bound value, so that the planner can use the favourites' partial index.
  if (filter.favourite !== undefined) clauses.push(filter.favourite ? 'favourite' : 'NOT favourite');
  return clauses;
}

/** A schema name as the tests and deployments give it: a plain identifier, never quoted text. */
const schemaNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'A schema name is letters, digits and underscores (at most 63)');

/**
 * libpq's own words about a failed connection (refused, no such host, bad password), without
 * the connection string or its password: libpq repeats pieces of a string it cannot parse.
 */
function connectionError(url: string, error: unknown): Error {
  const secrets = [url];
  try {
    const { password } = new URL(url);
    secrets.push(password);
    secrets.push(decodeURIComponent(password));
  } catch {
    // Not a URL (key=value pairs, read below), or a password that is not valid percent-encoding.
  }
  for (const match of url.matchAll(/password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) {
    const value = match[1] ?? '';
    secrets.push(value, value.replace(/^'(.*)'$/s, '$1'));
  }
  let words = error instanceof Error ? error.message : String(error);
  for (const secret of secrets.filter((one) => one.length > 0).sort((a, b) => b.length - a.length)) {
    words = words.replaceAll(secret, '…');
  }
  return new Error(`Could not connect to PostgreSQL: ${words.trim()}`);
}

/**
 * Ends a connection. libpq's binding closes the socket's libuv handle asynchronously but frees
 * that handle with the client object: were the client collected before the loop's next close
 * phase, the process would abort (uv__finish_close's assertion). So it is held until a timer of
 * the next turn has run.
 */
function finish(client: Client): void {
  client.end();
  setTimeout(() => client, 0).unref();
}

export interface PgJobStoreOptions {
  /**
   * The SQLite store's option for rows from before jobs recorded what they make. A PostgreSQL
   * database starts at the current schema and holds no such rows: accepted, and ignored.
   */
  legacyImagineOutput?: MigrateOptions['legacyImagineOutput'];
  /** The schema to keep the tables in, made if missing (tests take a fresh one each). */
  schema?: string | undefined;
}

export class PgJobStore implements JobStore {
  readonly #url: string;
  readonly #searchPath: string | undefined;
  #client: Client | undefined;
  #closed = false;
  /** While a transaction runs: a lost connection must end it, never let the rest run outside it. */
  #inTransaction = false;
  #lastForget = 0;

  constructor(url: string, options: PgJobStoreOptions = {}) {
    this.#url = withNetworkTimeouts(url);
    const schema = options.schema === undefined ? undefined : schemaNameSchema.parse(options.schema);
    const client = this.#connection();
    try {
      this.#searchPath = schema === undefined ? undefined : client.escapeIdentifier(schema);
      this.#migrate(client);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  insert(job: NewJob): JobRecord {
    const rows = this.#query(
      `INSERT INTO jobs (id, owner_id, kind, output, prompt, prompt_words, params, image_urls, refs, aspect_ratio,
                         quality, status, created_at, updated_at, parent_id, action, action_index, action_input)
       VALUES ($1, $2, $3, $4, $5, array_to_tsvector(ARRAY(SELECT json_array_elements_text($6::json))), $7, $8, $9,
               $10, $11, 'queued', $12, $12, $13, $14, $15, $16)
       RETURNING ${JOB_COLUMNS}`,
      [
        job.id,
        job.ownerId,
        job.kind,
        job.output,
        job.prompt,
        JSON.stringify(promptWords(job.prompt)),
        JSON.stringify(job.params),
        JSON.stringify(job.imageUrls ?? []),
        JSON.stringify(job.refs ?? []),
        job.aspectRatio,
        qualityOf(job.params),
        job.createdAt,
        job.parentId ?? null,
        job.action ?? null,
        job.actionIndex ?? null,
        job.actionInput ? JSON.stringify(job.actionInput) : null,
      ],
    );
    const stored = rows[0];
    if (!stored) throw new Error('An inserted job could not be read back');
    return ROWS.job.parse(stored);
  }

  get(id: string): JobRecord | undefined {
    return this.#jobs(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id], { read: true })[0];
  }

  updateActive(id: string, patch: JobPatch, now: number, from?: readonly ActiveStatus[]): JobRecord | undefined {
    // Never a finished job, whatever `from` says.
    const only = from ? ACTIVE_STATUSES.filter((status) => from.includes(status)) : ACTIVE_STATUSES;
    if (only.length === 0) return undefined;
    const bind = new Bindings();
    const sets = patchColumns(patch).map(({ column, value }) => `${column} = ${bind.add(value)}`);
    sets.push(`updated_at = ${bind.add(now)}`);
    const statuses = only.map((status) => bind.add(status)).join(', ');
    // One statement: the status is checked and the row changed at once, whoever else writes.
    return this.#jobs(
      `UPDATE jobs SET ${sets.join(', ')} WHERE id = ${bind.add(id)} AND status IN (${statuses}) RETURNING ${JOB_COLUMNS}`,
      bind.values,
    )[0];
  }

  listByOwner(
    ownerId: string,
    options: { limit: number; cursor?: string | undefined; filter?: JobFilter | undefined },
  ): JobPage {
    const bind = new Bindings();
    const clauses = [`owner_id = ${bind.add(ownerId)}`, ...filterClauses(options.filter ?? {}, bind)];
    // The cursor is a position in the order (created_at, id), whatever the filter: a page
    // never repeats or skips a job while new ones arrive, as long as the filter stays the same.
    if (options.cursor) {
      const position = decodeCursor(options.cursor);
      // No stored id holds U+0000 (text cannot): such a position was never made here.
      if (!position || position[1].includes('\0')) throw new InvalidCursorError();
      clauses.push(`(created_at, id) < (${bind.add(position[0])}, ${bind.add(position[1])})`);
    }
    const rows = this.#jobs(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE ${clauses.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT ${bind.add(options.limit + 1)}`,
      bind.values,
      { read: true },
    );
    const jobs = rows.slice(0, options.limit);
    const last = jobs.at(-1);
    return { jobs, nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
  }

  listChildren(parentId: string, limit: number): JobRecord[] {
    return this.#jobs(
      `SELECT ${JOB_COLUMNS} FROM jobs WHERE parent_id = $1 ORDER BY created_at, id LIMIT $2`,
      [parentId, limit],
      { read: true },
    );
  }

  setFavourite(id: string, favourite: boolean, now: number): JobRecord | undefined {
    return this.#jobs(`UPDATE jobs SET favourite = $1, updated_at = $2 WHERE id = $3 RETURNING ${JOB_COLUMNS}`, [
      favourite,
      now,
      id,
    ])[0];
  }

  listActive(): JobRecord[] {
    return this.#jobs(`SELECT ${JOB_COLUMNS} FROM jobs WHERE ${ACTIVE_SQL} ORDER BY created_at, id`, [], {
      read: true,
    });
  }

  getByUpstreamId(upstreamId: string, account: string, firstAccount: boolean): JobRecord | undefined {
    // Oldest first, as the SQLite store finds the first in the order rows were written.
    return this.#jobs(
      `SELECT ${JOB_COLUMNS} FROM jobs
        WHERE upstream_id = $1 AND (account = $2 OR (account IS NULL AND $3::boolean))
        ORDER BY created_at, id LIMIT 1`,
      [upstreamId, account, firstAccount],
      { read: true },
    )[0];
  }

  hasDelivery(id: string): boolean {
    return this.#query('SELECT 1 FROM webhook_deliveries WHERE id = $1', [id], { read: true }).length > 0;
  }

  rememberDelivery(id: string, now: number): boolean {
    // Deliveries older than a day cannot come back (their timestamps would be refused):
    // forget them, at most once a minute per process rather than on every delivery.
    if (now - this.#lastForget > 60_000) {
      this.#query('DELETE FROM webhook_deliveries WHERE received_at < $1', [now - 24 * 60 * 60 * 1000]);
      this.#lastForget = now;
    }
    return (
      this.#query(
        'INSERT INTO webhook_deliveries (id, received_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
        [id, now],
      ).length > 0
    );
  }

  countActiveByOwner(ownerId: string): number {
    return this.#count(`SELECT COUNT(*) AS n FROM jobs WHERE owner_id = $1 AND ${ACTIVE_SQL}`, [ownerId], true);
  }

  delete(id: string): boolean {
    return this.#query('DELETE FROM jobs WHERE id = $1 RETURNING id', [id]).length > 0;
  }

  saveSession(session: SessionRecord): void {
    this.#query(
      'INSERT INTO sessions (id_hash, owner_id, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [session.idHash, session.ownerId, session.tokenId, session.createdAt, session.expiresAt],
    );
  }

  getSession(idHash: string): SessionRecord | undefined {
    const row = this.#query('SELECT * FROM sessions WHERE id_hash = $1', [idHash], { read: true })[0];
    return row === undefined ? undefined : ROWS.session.parse(row);
  }

  deleteSession(idHash: string): void {
    this.#query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  deleteStaleSessions(now: number, tokenId: string): number {
    return this.#count(
      `WITH gone AS (DELETE FROM sessions WHERE expires_at < $1 OR token_id <> $2 RETURNING 1)
       SELECT COUNT(*) AS n FROM gone`,
      [now, tokenId],
    );
  }

  reassignOwner(from: string, to: string): number {
    return this.#transaction(() => {
      this.#query('UPDATE uploads SET owner_id = $1 WHERE owner_id = $2', [to, from]);
      // The keys it made, too: else they would authenticate with nobody left to list or revoke them.
      this.#query('UPDATE api_keys SET creator_id = $1 WHERE creator_id = $2', [to, from]);
      return this.#count(
        `WITH moved AS (UPDATE jobs SET owner_id = $1 WHERE owner_id = $2 RETURNING 1)
         SELECT COUNT(*) AS n FROM moved`,
        [to, from],
      );
    });
  }

  insertApiKey(key: ApiKeyRecord): void {
    this.#query(
      `INSERT INTO api_keys (id, creator_id, owner_id, name, hash, created_at, last_used_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [key.id, key.creatorId, key.ownerId, key.name, key.hash, key.createdAt, key.lastUsedAt, key.revokedAt],
    );
  }

  getApiKeyByHash(hash: string): ApiKeyRecord | undefined {
    const row = this.#query('SELECT * FROM api_keys WHERE hash = $1', [hash], { read: true })[0];
    return row === undefined ? undefined : ROWS.apiKey.parse(row);
  }

  listApiKeys(creatorId: string): ApiKeyRecord[] {
    return this.#query('SELECT * FROM api_keys WHERE creator_id = $1 ORDER BY created_at DESC, id DESC', [creatorId], {
      read: true,
    }).map((row) => ROWS.apiKey.parse(row));
  }

  revokeApiKey(id: string, creatorId: string, now: number): boolean {
    return (
      this.#query(
        'UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND creator_id = $3 AND revoked_at IS NULL RETURNING id',
        [now, id, creatorId],
      ).length > 0
    );
  }

  listApiKeyCreators(): string[] {
    return this.#query('SELECT DISTINCT creator_id FROM api_keys WHERE revoked_at IS NULL', [], { read: true }).map(
      (row) => ROWS.creator.parse(row).creator_id,
    );
  }

  revokeApiKeysOf(creatorId: string, now: number): number {
    return this.#count(
      `WITH revoked AS (UPDATE api_keys SET revoked_at = $1 WHERE creator_id = $2 AND revoked_at IS NULL RETURNING 1)
       SELECT COUNT(*) AS n FROM revoked`,
      [now, creatorId],
    );
  }

  touchApiKey(id: string, now: number): void {
    this.#query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [now, id]);
  }

  taskNumberOf(jobId: string): number {
    // Read first: most calls are for jobs already numbered (a client polling).
    const known = this.#query('SELECT task_number FROM task_numbers WHERE job_id = $1', [jobId], { read: true })[0];
    if (known) return ROWS.taskNumber.parse(known).task_number;
    // Only for a job that exists: a number for no job would never be cleaned up. When another
    // process numbers the same job meanwhile, its row wins and is read back below.
    const made = this.#query(
      `INSERT INTO task_numbers (job_id) SELECT id FROM jobs WHERE id = $1
       ON CONFLICT (job_id) DO NOTHING RETURNING task_number`,
      [jobId],
    )[0];
    const row = made ?? this.#query('SELECT task_number FROM task_numbers WHERE job_id = $1', [jobId])[0];
    if (!row) throw new DomainError('not_found', 'No such job');
    return ROWS.taskNumber.parse(row).task_number;
  }

  jobIdOfTaskNumber(taskNumber: number): string | undefined {
    if (!Number.isSafeInteger(taskNumber)) return undefined;
    const row = this.#query('SELECT job_id FROM task_numbers WHERE task_number = $1', [taskNumber], {
      read: true,
    })[0];
    return row ? ROWS.taskJob.parse(row).job_id : undefined;
  }

  relayStateOf(jobId: string): string | undefined {
    const row = this.#query('SELECT state FROM task_numbers WHERE job_id = $1', [jobId], { read: true })[0];
    return row ? (relayStateRowSchema.parse(row).state ?? undefined) : undefined;
  }

  setRelayState(jobId: string, state: string): void {
    this.taskNumberOf(jobId);
    // As JSON, so that the client's text comes back verbatim, even a U+0000 that text cannot hold.
    this.#query('UPDATE task_numbers SET state = $1 WHERE job_id = $2', [JSON.stringify(state), jobId]);
  }

  insertUpload(upload: UploadRecord): void {
    this.#query(
      `INSERT INTO uploads (id, owner_id, file, content_type, width, height, bytes, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        upload.id,
        upload.ownerId,
        upload.file,
        upload.contentType,
        upload.width,
        upload.height,
        upload.bytes,
        upload.createdAt,
      ],
    );
  }

  getUpload(id: string): UploadRecord | undefined {
    const row = this.#query('SELECT * FROM uploads WHERE id = $1', [id], { read: true })[0];
    return row === undefined ? undefined : ROWS.upload.parse(row);
  }

  deleteUpload(id: string): boolean {
    return this.#query('DELETE FROM uploads WHERE id = $1 RETURNING id', [id]).length > 0;
  }

  close(): void {
    this.#closed = true;
    if (this.#client) finish(this.#client);
    this.#client = undefined;
  }

  /**
   * Applies the migrations not yet recorded, one transaction each, while holding the lock:
   * another process opening the same database at once waits here, then finds them recorded.
   */
  #migrate(client: Client): void {
    client.querySync("SELECT set_config('statement_timeout', '0', false)");
    client.querySync('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // Under the lock too: two CREATE SCHEMA IF NOT EXISTS at once can both try, and one fail.
      if (this.#searchPath !== undefined) {
        client.querySync(`CREATE SCHEMA IF NOT EXISTS ${this.#searchPath}`);
        this.#setSearchPath(client);
      }
      client.querySync(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const applied = new Set(
        client.querySync('SELECT version FROM schema_migrations').map((row) => versionRowSchema.parse(row).version),
      );
      for (const [index, migration] of MIGRATIONS.entries()) {
        const version = index + 1;
        if (applied.has(version)) continue;
        client.querySync('BEGIN');
        try {
          client.querySync(migration);
          client.querySync('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
            version,
            Date.now(),
          ]);
          client.querySync('COMMIT');
        } catch (error) {
          if (client.getTransactionStatus() !== null) client.querySync('ROLLBACK');
          throw error;
        }
      }
    } finally {
      // A lost connection has released the lock already (it is the session's).
      if (client.getTransactionStatus() !== null) {
        client.querySync('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        client.querySync("SELECT set_config('statement_timeout', $1, false)", [String(STATEMENT_TIMEOUT_MS)]);
      }
    }
  }

  #setSearchPath(client: Client): void {
    if (this.#searchPath !== undefined) {
      client.querySync("SELECT set_config('search_path', $1, false)", [this.#searchPath]);
    }
  }

  /** The open connection, or a new one when there is none (first use, or the last one was lost). */
  #connection(): Client {
    if (this.#closed) throw new Error('The job store is closed');
    if (this.#client) return this.#client;
    if (this.#inTransaction) throw new Error('The connection to PostgreSQL was lost during a transaction');
    const client = new Client({ types: AS_TEXT });
    try {
      client.connectSync(this.#url);
    } catch (error) {
      throw connectionError(this.#url, error);
    }
    try {
      this.#setSearchPath(client);
      // Notices ("already exists, skipping") would go to stderr, libpq's default.
      client.querySync(
        "SELECT set_config('statement_timeout', $1, false), set_config('client_min_messages', 'warning', false)",
        [String(STATEMENT_TIMEOUT_MS)],
      );
    } catch (error) {
      finish(client);
      throw error;
    }
    this.#client = client;
    return client;
  }

  /**
   * One statement on the connection. A lost connection is dropped, so the next call opens a
   * new one; a read (`read`: it changes nothing) is then tried once more on the new one, a write
   * never (it may have been applied before the connection went).
   */
  #query(text: string, values: readonly PgValue[], options: { read?: boolean } = {}): unknown[] {
    // libpq sends text as C strings: a U+0000 would silently cut the value short, and a lookup
    // for 'a\0b' would find 'a'.
    if (values.some((value) => typeof value === 'string' && value.includes('\0'))) {
      throw new DomainError('invalid', 'Text holding U+0000 cannot be stored or looked up');
    }
    const client = this.#connection();
    try {
      return client.querySync(text, values);
    } catch (error) {
      if (client.getTransactionStatus() !== null) throw error;
      // At once: libpq has closed the socket, and its number must not be reused before the
      // binding lets go of it (closing the handle later could unwatch another socket's number).
      finish(client);
      if (this.#client === client) this.#client = undefined;
      if (options.read && !this.#inTransaction) return this.#query(text, values);
      throw error;
    }
  }

  /** Runs `work` in one transaction: all of it is applied, or none (a lost connection included). */
  #transaction<T>(work: () => T): T {
    // Nothing is applied yet: a BEGIN on a connection found lost may go again on a new one.
    this.#query('BEGIN', [], { read: true });
    const client = this.#connection();
    this.#inTransaction = true;
    try {
      const result = work();
      this.#query('COMMIT', []);
      return result;
    } catch (error) {
      // A lost connection rolled back by itself; a live one is told to.
      if (this.#client === client) {
        try {
          this.#query('ROLLBACK', []);
        } catch {
          // Lost while rolling back: the server rolls back a transaction whose connection went.
        }
      }
      throw error;
    } finally {
      this.#inTransaction = false;
    }
  }

  #jobs(text: string, values: readonly PgValue[], options: { read?: boolean } = {}): JobRecord[] {
    return this.#query(text, values, options).map((row) => ROWS.job.parse(row));
  }

  #count(text: string, values: readonly PgValue[], read = false): number {
    return countRowSchema.parse(this.#query(text, values, { read })[0]).n;
  }
}

/**
 * libpq's own limits on a connection that stops answering, unless the URL sets them: the
 * synchronous client blocks the process while it waits, so a dead network must fail in
 * seconds (connecting, and a query's packets unacknowledged), not when TCP gives up.
 */
const NETWORK_TIMEOUTS: Record<string, string> = {
  connect_timeout: '5',
  keepalives: '1',
  keepalives_idle: '5',
  keepalives_interval: '2',
  keepalives_count: '2',
  tcp_user_timeout: '10000',
};

function withNetworkTimeouts(url: string): string {
  // Appended as they are, never re-encoded: the rest of the string stays exactly as given.
  const isUri = /^postgres(ql)?:\/\//.test(url);
  let result = url;
  for (const [name, value] of Object.entries(NETWORK_TIMEOUTS)) {
    const given = isUri ? new RegExp(`[?&]${name}=`).test(url) : new RegExp(`(^|\\s)${name}\\s*=`).test(url);
    if (given) continue;
    if (isUri) result += `${result.includes('?') ? '&' : '?'}${name}=${value}`;
    else result += ` ${name}=${value}`;
  }
  return result;
}
