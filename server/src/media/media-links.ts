// Signed, expiring links to our own images (uploads and kept results), for an upstream that
// fetches its image inputs by URL: the link names the file and a deadline, and an HMAC of
// both proves we made it. Nothing else about the owner or the server is in it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type MediaFolder = 'uploads' | 'images';

export interface MediaLinkOptions {
  secret: string;
  /** Where the upstream reaches this server (PUBLIC_URL, or loopback for the built-in simulator). */
  origin: () => string | undefined;
  /** How long a link works: long enough for a queued job to be sent and fetched. */
  ttlMs: number;
  now: () => number;
}

export class MediaLinks {
  readonly #key: Buffer;
  readonly #options: MediaLinkOptions;

  constructor(options: MediaLinkOptions) {
    this.#options = options;
    this.#key = createHmac('sha256', options.secret).update('mj-studio media links').digest();
  }

  /** Whether links can be made at all (the server knows an address the upstream reaches). */
  get available(): boolean {
    return Boolean(this.#options.origin());
  }

  link(folder: MediaFolder, name: string): string | undefined {
    const origin = this.#options.origin();
    if (!origin) return undefined;
    const expires = Math.ceil((this.#options.now() + this.#options.ttlMs) / 1000);
    const query = `e=${expires}&s=${this.#sign(folder, name, expires)}`;
    return `${origin.replace(/\/+$/, '')}/media/${folder}/${encodeURIComponent(name)}?${query}`;
  }

  /** Whether the link's signature is ours and it has not expired. */
  verify(folder: MediaFolder, name: string, expires: string, signature: string): boolean {
    if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return false;
    const deadline = Number(expires);
    if (deadline * 1000 < this.#options.now()) return false;
    const expected = Buffer.from(this.#sign(folder, name, deadline));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  #sign(folder: MediaFolder, name: string, expires: number): string {
    // Hex, not base64url: a link goes into a prompt, where `--x` would read as a parameter.
    return createHmac('sha256', this.#key).update(`${folder}/${name}/${expires}`).digest('hex');
  }
}
