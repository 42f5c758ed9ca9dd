// Downloads a result image from the upstream's link. The key is never sent along (the link
// may point anywhere); the bytes must really be a raster image, within the size bound.

import { UpstreamError } from '../errors';
import { sniffImage } from '../store/image-files';
import type { UpstreamHttpClient } from './http-client';

export interface FetchedImage {
  ext: 'png' | 'jpg' | 'webp' | 'gif';
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
      if (reply.status < 200 || reply.status >= 300) {
        throw new UpstreamError('unavailable', `The image download failed with HTTP ${reply.status}`);
      }
      const image = sniffImage(reply.body);
      if (!image) throw new UpstreamError('bad_response', 'The upstream image link did not answer with an image');
      return { ext: image.ext, contentType: image.type, body: reply.body };
    },
  };
}
