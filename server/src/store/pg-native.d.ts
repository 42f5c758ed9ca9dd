// Types for the part of pg-native (libpq's synchronous client) that server/src/store/pg-job-store.ts
// uses; the package ships none.
declare module 'pg-native' {
  /** A bound value; null is SQL NULL. libpq sends each as text (a string is cut at a NUL). */
  export type PgValue = string | number | boolean | null;

  /** How each column's text becomes a value, by its type's OID. */
  export interface PgTypeParsers {
    getTypeParser(oid: number): (text: string) => unknown;
  }

  export default class Client {
    constructor(config?: { types?: PgTypeParsers });
    /** Connects or throws libpq's message. */
    connectSync(params?: string): void;
    /** Runs a query (several statements when no values are given) and answers its rows, or throws. */
    querySync(text: string, values?: readonly PgValue[]): unknown[];
    /** Idle, in a transaction, in a failed transaction; null once the connection is lost. */
    getTransactionStatus(): 'I' | 'T' | 'E' | null;
    escapeIdentifier(value: string): string;
    end(): void;
  }
}
