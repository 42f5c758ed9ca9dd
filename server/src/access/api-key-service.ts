// API keys made in the studio, for scripts (`Authorization: Bearer` on /api) and midjourney-proxy
// clients (the /mj routes): each key is an owner of its own, so it sees only the jobs made with it. The secret is shown once;
// the store keeps its HMAC under the server's secret, so a copy of the database opens nothing.
import { createHmac, randomBytes } from 'node:crypto';
import { API_KEY_PREFIX, API_KEY_SECRET_PATTERN, apiKeyNameSchema, MAX_LIVE_API_KEYS } from '@shared/schemas/api-key';
import { DomainError } from '../errors';
import type { ApiKeyRecord, JobStore } from '../store/job-store';
import { isTokenOwnerId, tokenOwnerId } from './token-owner';

/** A "last used" line needs no finer grain, and a busy client would otherwise write on every request. */
const TOUCH_EVERY_MS = 60_000;
/** The secret's characters the list shows to tell keys apart (kept as the end of the key's id). */
const HINT_CHARS = 4;

/** A key as the owner who made it sees it: never its secret, nor its hash. */
export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'> & {
  /** `mjk_…ab12`: the secret's last characters. */
  hint: string;
};

/** A secret judged: a live key's owner, a key of ours that was revoked, or a secret we never made. */
export type ApiKeyVerdict = { status: 'live'; owner: string } | { status: 'revoked' } | { status: 'unknown' };

export interface ApiKeyServiceOptions {
  store: JobStore;
  /**
   * Keys the hashes: the server's own secret (the one that signs cookies), so the stored
   * hashes are worthless without it. Changing it invalidates every key.
   */
  secret: string;
  /**
   * The current ACCESS_TOKEN; undefined when the server asks for none. Keys made by an earlier
   * token's owner, whom nobody can act as any more to list or revoke them, end with that token.
   */
  token: string | undefined;
  now?: () => number;
}

export class ApiKeyService {
  readonly #store: JobStore;
  readonly #secret: string;
  readonly #now: () => number;
  readonly #tokenOwner: string | undefined;

  constructor(options: ApiKeyServiceOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.#now = options.now ?? Date.now;
    this.#tokenOwner = options.token ? tokenOwnerId(options.token) : undefined;
    // As sessions are (session-service.ts): a new token ends the old token owner's keys for
    // good, so going back to the old token revives none. A cookie owner's keys are untouched.
    for (const creator of this.#store.listApiKeyCreators()) {
      if (this.#orphaned(creator)) this.#store.revokeApiKeysOf(creator, this.#now());
    }
  }

  /** Makes a key; the answer's `secret` is the only copy there will ever be. */
  create(creatorId: string, name: string): { record: ApiKeyInfo; secret: string } {
    const parsed = apiKeyNameSchema.safeParse(name);
    if (!parsed.success) {
      throw new DomainError('invalid', parsed.error.issues[0]?.message ?? 'Not a key name', { field: 'name' });
    }
    const live = this.#store.listApiKeys(creatorId).filter((key) => key.revokedAt === null).length;
    if (live >= MAX_LIVE_API_KEYS) {
      throw new DomainError('conflict', `You have ${MAX_LIVE_API_KEYS} API keys already: revoke one first`);
    }
    const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyRecord = {
      // The store keeps nothing of the secret but its hash: the hint's characters ride in the
      // id, which its owner sees anyway.
      id: `ak_${randomBytes(12).toString('base64url')}${secret.slice(-HINT_CHARS)}`,
      creatorId,
      ownerId: `key-${randomBytes(18).toString('base64url')}`,
      name: parsed.data,
      hash: this.#hash(secret),
      createdAt: this.#now(),
      lastUsedAt: null,
      revokedAt: null,
    };
    this.#store.insertApiKey(record);
    return { record: toInfo(record), secret };
  }

  /** The keys this owner made, newest first, revoked ones included. */
  list(creatorId: string): ApiKeyInfo[] {
    return this.#store.listApiKeys(creatorId).map(toInfo);
  }

  /**
   * Revokes one of this owner's keys, at once: the next request with it fails. Revoking a key
   * already revoked changes nothing; another owner's key is not found.
   */
  revoke(creatorId: string, id: string): void {
    if (this.#store.revokeApiKey(id, creatorId, this.#now())) return;
    if (!this.#store.listApiKeys(creatorId).some((key) => key.id === id)) {
      throw new DomainError('not_found', 'No such API key');
    }
  }

  /**
   * What a secret is: a live key (and the owner it stands for), one of our keys that was
   * revoked, or nothing this server made. The lookup is by the keyed hash, so its timing tells
   * nothing about any secret. Unknown secrets are guesses, for the caller to count and limit
   * as the access guard does for ACCESS_TOKEN; a revoked one was a real key, and is no guess.
   */
  authenticate(secret: string): ApiKeyVerdict {
    if (!API_KEY_SECRET_PATTERN.test(secret)) return { status: 'unknown' };
    const key = this.#store.getApiKeyByHash(this.#hash(secret));
    if (!key) return { status: 'unknown' };
    if (key.revokedAt !== null || this.#orphaned(key.creatorId)) return { status: 'revoked' };
    const now = this.#now();
    if (key.lastUsedAt === null || now - key.lastUsedAt >= TOUCH_EVERY_MS) this.#store.touchApiKey(key.id, now);
    return { status: 'live', owner: key.ownerId };
  }

  /** Made by an access token's owner, and not the current token's: nobody can manage it now. */
  #orphaned(creatorId: string): boolean {
    return isTokenOwnerId(creatorId) && creatorId !== this.#tokenOwner;
  }

  #hash(secret: string): string {
    return createHmac('sha256', this.#secret).update(`api-key:${secret}`).digest('hex');
  }
}

function toInfo({ hash: _hash, ...key }: ApiKeyRecord): ApiKeyInfo {
  return { ...key, hint: `${API_KEY_PREFIX}…${key.id.slice(-HINT_CHARS)}` };
}
