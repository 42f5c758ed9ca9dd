// Links that open a kept image or clip to anyone holding them, with no cookie: relay-protocol
// clients show `imageUrl` straight in other people's browsers, and relays' own links expire,
// ours must not. The link names the file and carries an HMAC of it (unguessable); deleting the
// job revokes it (caches keep it a day at most), and a new SESSION_SECRET revokes every one.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class ShareLinks {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = createHmac('sha256', secret).update('mj-studio share links').digest();
  }

  /** The path (from the origin) of a file's share link. */
  path(name: string): string {
    return `/media/share/${encodeURIComponent(name)}?k=${this.#sign(name)}`;
  }

  verify(name: string, key: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(key)) return false;
    const expected = Buffer.from(this.#sign(name));
    const given = Buffer.from(key);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  #sign(name: string): string {
    return createHmac('sha256', this.#key).update(`share/${name}`).digest('hex');
  }
}
