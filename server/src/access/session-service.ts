// Browser sessions opened by signing in with ACCESS_TOKEN, kept on the server: each has an
// expiry, belongs to one owner, and is bound to the token it was opened with, so signing
// out ends it everywhere and a new ACCESS_TOKEN ends every old one. The cookie carries only a
// random id; the store keeps its hash. Checked on every request, from memory when possible.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { JobStore, SessionRecord } from '../store/job-store';

export const SESSION_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** Sessions checked recently are kept in memory (bounded); signing out removes them at once. */
const REMEMBERED = 10_000;

const hashId = (id: string) => createHash('sha256').update(id).digest('base64url');

export interface SessionServiceOptions {
  store: JobStore;
  /** The current ACCESS_TOKEN; undefined when the server asks for none. */
  token: string | undefined;
  /** Keys the token's fingerprint, so the store never holds anything derived from the token alone. */
  secret: string;
  /**
   * Keep sessions checked recently in memory (default). Off with several instances: another
   * instance may end a session (signing out), and only the store knows at once.
   */
  remember?: boolean;
  now?: () => number;
}

export class SessionService {
  readonly #store: JobStore;
  readonly #tokenId: string;
  readonly #now: () => number;
  readonly #known = new Map<string, SessionRecord>();
  readonly #remember: boolean;

  constructor(options: SessionServiceOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#remember = options.remember ?? true;
    this.#tokenId = createHmac('sha256', options.secret)
      .update(`session-token:${options.token ?? ''}`)
      .digest('base64url')
      .slice(0, 22);
    // Sessions of an earlier token, or long expired, are gone for good.
    this.#store.deleteStaleSessions(this.#now(), this.#tokenId);
  }

  /** Opens a session for this owner; answers the id the cookie carries. */
  open(ownerId: string): { id: string; maxAgeMs: number } {
    const id = randomBytes(32).toString('base64url');
    const now = this.#now();
    this.#store.saveSession({
      idHash: hashId(id),
      ownerId,
      tokenId: this.#tokenId,
      createdAt: now,
      expiresAt: now + SESSION_MAX_AGE_MS,
    });
    return { id, maxAgeMs: SESSION_MAX_AGE_MS };
  }

  /** The owner of a live session; undefined when it is unknown, ended, expired or of another token. */
  ownerOf(id: string): string | undefined {
    const idHash = hashId(id);
    let session = this.#known.get(idHash);
    if (!session) {
      session = this.#store.getSession(idHash);
      if (!session) return undefined;
      if (this.#remember) {
        if (this.#known.size >= REMEMBERED) this.#known.delete(this.#known.keys().next().value ?? '');
        this.#known.set(idHash, session);
      }
    }
    if (session.tokenId !== this.#tokenId || session.expiresAt <= this.#now()) {
      this.close(id);
      return undefined;
    }
    return session.ownerId;
  }

  /** Ends a session (signing out): the same cookie, copied anywhere, no longer works. */
  close(id: string): void {
    const idHash = hashId(id);
    this.#known.delete(idHash);
    this.#store.deleteSession(idHash);
  }
}
