// The PostgreSQL the store tests run against, and a fresh schema per test so that test files
// running in parallel never see each other's rows. No PostgreSQL is a failure, never a skip.
import { randomBytes } from 'node:crypto';
import Client, { type PgValue } from 'pg-native';
import { onTestFinished } from 'vitest';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** A connection of the test's own to PG_URL, quiet about notices; end it with `closeClient`. */
export function openClient(): Client {
  const client = new Client();
  client.connectSync(PG_URL);
  client.querySync("SET client_min_messages = 'warning'");
  return client;
}

/**
 * Ends a connection, holding the client until the event loop's next turn: libpq's binding frees
 * the socket's libuv handle with the client, and a client collected before the loop has closed
 * that handle aborts the process (as server/src/store/pg-job-store.ts explains).
 */
export function closeClient(client: Client): void {
  client.end();
  setTimeout(() => client, 0).unref();
}

/** Runs statements on PG_URL over a connection of their own, and answers the last one's rows. */
export function sql(text: string, values?: readonly PgValue[]): unknown[] {
  const client = openClient();
  try {
    return client.querySync(text, values);
  } finally {
    closeClient(client);
  }
}

/**
 * A schema name no other test uses (the store makes the schema); it is dropped with everything
 * in it once the current test has finished, after its afterEach hooks have closed the stores.
 */
export function freshSchema(): string {
  const schema = `test_${randomBytes(8).toString('hex')}`;
  onTestFinished(() => {
    sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  return schema;
}
