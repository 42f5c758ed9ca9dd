// Downloads a result image from the upstream's link. The key is never sent along (the link
// may point anywhere); the answer must be a bounded raster image or it is refused.
import { UpstreamError } from '../errors';
import type { UpstreamHttpClient } from './http-client';

const RASTER_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif'];

export interface FetchedImage {
  contentType: string;
  body: Uint8Array;
}

export interface ImageFetcher {
  fetch(url: string): Promise<FetchedImage>;
}

export function createImageFetcher(http: UpstreamHttpClient, maxBytes: number): ImageFetcher {
  return {
    async fetch(url) {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new UpstreamError('bad_response', 'The upstream image link is not an http(s) URL');
      }
      const reply = await http.request(parsed.href, { method: 'GET', maxBytes });
      if (reply.status === 404 || reply.status === 410) {
        throw new UpstreamError('not_found', 'The upstream no longer has this image');
      }
      if (reply.status < 200 || reply.status >= 300) {
        throw new UpstreamError('unavailable', `The image download failed with HTTP ${reply.status}`);
      }
      const contentType = (reply.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!RASTER_TYPES.includes(contentType)) {
        throw new UpstreamError('bad_response', 'The upstream image link did not answer with a raster image');
      }
      return { contentType, body: reply.body };
    },
  };
}
