// Downloads a result image or a preview from the upstream's link. The key is never sent along
// (the link may point anywhere), the link may not lead into our own network (safe-fetch.ts),
// and the bytes must really be a raster image, within the size bound.
import type { Logger } from 'pino';
import { UpstreamError } from '../errors';
import { sniffImage } from '../store/image-files';
import type { UpstreamHttpClient } from './http-client';
import { type FetchAllow, fetchLink, type HostResolver, LinkFailure, systemResolver } from './safe-fetch';

export interface FetchedImage {
  ext: 'png' | 'jpg' | 'webp' | 'gif';
  contentType: string;
  body: Uint8Array;
}

export interface ImageFetcher {
  fetch(url: string): Promise<FetchedImage>;
}

export interface ImageFetcherOptions {
  /** The configured upstream's base URL: links on its host (and port) are its own, wherever it runs. */
  upstreamBase?: string | undefined;
  /** UPSTREAM_FETCH_ALLOW: hosts and ranges allowed although not public. */
  allow?: FetchAllow;
  resolve?: HostResolver;
  /** Where the reason a link failed is kept; the user only learns that it did. */
  logger?: Logger;
}

/**
 * What a user reads for every link that failed before an image arrived: a refused address, a
 * closed port, silence and an error page must look alike, or job errors would map our network.
 */
export const LINK_FAILED = "The upstream's image link could not be downloaded";

export function createImageFetcher(
  http: UpstreamHttpClient,
  maxBytes: number,
  options: ImageFetcherOptions = {},
): ImageFetcher {
  const upstreamHost = options.upstreamBase ? hostOf(options.upstreamBase) : undefined;
  const policy = {
    // The upstream's own host: the one configured, and any the client speaks to as its API.
    isUpstreamHost: (host: string) => host === upstreamHost || http.isUpstreamHost(host),
    allow: options.allow ?? { hosts: new Set<string>(), ranges: [] },
    resolve: options.resolve ?? systemResolver,
  };
  return {
    async fetch(url) {
      let body: Uint8Array;
      try {
        ({ body } = await fetchLink(url, { policy, timeoutMs: http.timeoutMs, maxBytes }));
      } catch (error) {
        if (!(error instanceof LinkFailure)) throw error;
        options.logger?.warn({ link: withoutQuery(url), reason: error.reason, detail: error.message }, LINK_FAILED);
        if (error.reason === 'too_large') {
          throw new UpstreamError('bad_response', `The upstream image is larger than ${maxBytes} bytes`);
        }
        throw new UpstreamError('unavailable', LINK_FAILED, { cause: error });
      }
      const image = sniffImage(body);
      if (!image) throw new UpstreamError('bad_response', 'The upstream image link did not answer with an image');
      return { ext: image.ext, contentType: image.type, body };
    },
  };
}

function hostOf(base: string): string | undefined {
  try {
    return new URL(base).host;
  } catch {
    return undefined;
  }
}

/** Signed links carry their signature in the query: the log keeps where, not the credentials. */
function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
