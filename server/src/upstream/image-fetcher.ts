// Downloads a result image, a video clip or a preview from the upstream's link. The key is never sent along
// (the link may point anywhere), the link may not lead into our own network (safe-fetch.ts),
// and the bytes must really be a raster image (or a WebM/MP4 clip), within the size bound.
import type { Logger } from 'pino';
import { UpstreamError } from '../errors';
import { sniffImage, sniffVideo, type VideoExt } from '../store/image-files';
import type { UpstreamHttpClient } from './http-client';
import { type FetchAllow, fetchLink, type HostResolver, LinkFailure, systemResolver } from './safe-fetch';

export interface FetchedImage {
  ext: 'png' | 'jpg' | 'webp' | 'gif';
  contentType: string;
  body: Uint8Array;
}

export interface FetchedVideo {
  ext: VideoExt;
  contentType: string;
  body: Uint8Array;
}

/**
 * `source`: the base URL of the upstream account whose answer gave the link: only its host is
 * trusted beyond the public internet (a pool's other accounts' hosts are not). Absent: every
 * configured upstream's host.
 */
export interface ImageFetcher {
  fetch(url: string, source?: string): Promise<FetchedImage>;
  /** A video clip (WebM or MP4 by its bytes), within the video size bound. */
  fetchVideo(url: string, source?: string): Promise<FetchedVideo>;
}

export interface ImageFetcherOptions {
  /** The configured upstreams' base URLs: links on their hosts (and ports) are their own, wherever they run. */
  upstreamBases?: readonly string[];
  /** UPSTREAM_FETCH_ALLOW: hosts and ranges allowed although not public. */
  allow?: FetchAllow;
  resolve?: HostResolver;
  /** Where the reason a link failed is kept; the user only learns that it did. */
  logger?: Logger;
  /** The most bytes a video clip may have (default: the image bound). */
  videoMaxBytes?: number;
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
  const upstreamHosts = new Set((options.upstreamBases ?? []).map(hostOf));
  const videoSlots = slots(VIDEO_DOWNLOADS);
  const allow = options.allow ?? { hosts: new Set<string>(), ranges: [] };
  const resolve = options.resolve ?? systemResolver;
  const policyFor = (source: string | undefined) => {
    const own = source === undefined ? undefined : hostOf(source);
    return {
      // The upstream's own host: the account's that gave the link, else any configured one
      // and any the client speaks to as its API.
      isUpstreamHost: (host: string) =>
        source === undefined ? upstreamHosts.has(host) || http.isUpstreamHost(host) : host === own,
      allow,
      resolve,
    };
  };
  async function download(
    url: string,
    bound: number,
    what: string,
    source: string | undefined,
    timeoutMs = http.timeoutMs,
  ): Promise<Uint8Array> {
    try {
      return (await fetchLink(url, { policy: policyFor(source), timeoutMs, maxBytes: bound })).body;
    } catch (error) {
      if (!(error instanceof LinkFailure)) throw error;
      options.logger?.warn({ link: withoutQuery(url), reason: error.reason, detail: error.message }, LINK_FAILED);
      if (error.reason === 'too_large') {
        throw new UpstreamError('bad_response', `The upstream ${what} is larger than ${bound} bytes`);
      }
      throw new UpstreamError('unavailable', LINK_FAILED, { cause: error });
    }
  }
  return {
    async fetch(url, source) {
      const body = await download(url, maxBytes, 'image', source);
      const image = sniffImage(body);
      if (!image) throw new UpstreamError('bad_response', 'The upstream image link did not answer with an image');
      return { ext: image.ext, contentType: image.type, body };
    },
    async fetchVideo(url, source) {
      // A clip is tens of megabytes: more time than a call, and few at once (each is held in memory).
      await videoSlots.take();
      let body: Uint8Array;
      try {
        body = await download(url, options.videoMaxBytes ?? maxBytes, 'video', source, videoTimeoutMs(http.timeoutMs));
      } finally {
        videoSlots.give();
      }
      const video = sniffVideo(body);
      if (!video)
        throw new UpstreamError('bad_response', 'The upstream video link did not answer with a WebM or MP4 clip');
      return { ext: video.ext, contentType: video.type, body };
    },
  };
}

/** How long a clip's download may take: ten calls' time, between 30 s and 5 min. */
const videoTimeoutMs = (callMs: number) => Math.min(300_000, Math.max(30_000, callMs * 10));

/** At most this many clips download at once; the others wait their turn. */
const VIDEO_DOWNLOADS = 2;

function slots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async take(): Promise<void> {
      if (free > 0) {
        free -= 1;
        return;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
    give(): void {
      const next = waiting.shift();
      if (next) next();
      else free += 1;
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
