// The simulator's stand-in for a CDN, mounted under /v1: finished images, a relay's rising
// previews and finished clips, with no key and no rate limit, like real result links.
import express from 'express';
import type { SimulatorEngine } from './engine';
import { sharedRenderPool } from './render-pool';

/** Rendered files kept, by their bytes: images and previews share one budget, clips another. */
const IMAGE_CACHE_BYTES = 48 * 1024 * 1024;
const CLIP_CACHE_BYTES = 32 * 1024 * 1024;

/** The most recently used files whose sizes add up to at most `budget` bytes. */
class ByteCache {
  readonly #entries = new Map<string, Buffer>();
  readonly #budget: number;
  #bytes = 0;

  constructor(budget: number) {
    this.#budget = budget;
  }

  get(key: string): Buffer | undefined {
    const hit = this.#entries.get(key);
    if (hit) {
      // Re-inserted, it becomes the newest.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.#budget) return;
    this.#bytes += value.length - (this.#entries.get(key)?.length ?? 0);
    this.#entries.delete(key);
    this.#entries.set(key, value);
    for (const [oldest, bytes] of this.#entries) {
      if (this.#bytes <= this.#budget) break;
      this.#entries.delete(oldest);
      this.#bytes -= bytes.length;
    }
  }
}

/**
 * Files rendered once each: a file asked for again while it renders (a player's range requests,
 * a gallery and its viewer) waits for the same render, then everyone reads it from the cache.
 */
class RenderCache {
  readonly #files: ByteCache;
  readonly #rendering = new Map<string, Promise<Buffer>>();

  constructor(budget: number) {
    this.#files = new ByteCache(budget);
  }

  async get(key: string, render: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.#files.get(key);
    if (hit) return hit;
    let pending = this.#rendering.get(key);
    if (!pending) {
      pending = render().finally(() => this.#rendering.delete(key));
      this.#rendering.set(key, pending);
    }
    const file = await pending;
    this.#files.set(key, file);
    return file;
  }
}

type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range of a file of `size` bytes; undefined
 * (send the whole file) for no header, several ranges or anything unreadable, as RFC 9110 allows.
 */
export function byteRange(header: string | undefined, size: number): ByteRange {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(size - 1, Number(last));
  if (last !== '' && Number(last) < start) return undefined;
  return start >= size ? 'unsatisfiable' : { start, end };
}

export function imageRoutes(engine: SimulatorEngine): express.Router {
  const router = express.Router();
  const images = new RenderCache(IMAGE_CACHE_BYTES);
  const clips = new RenderCache(CLIP_CACHE_BYTES);
  const lookup = (id: string) => engine.get(id);
  // Files are painted on worker threads (render-pool.ts): by default the API server shares this
  // process, and a render of seconds on its event loop would hold up every request it serves.

  router.get('/images/:name', async (req, res) => {
    const id = req.params.name.replace(/\.png$/, '');
    const job = engine.get(id);
    if (job?.status !== 'complete') {
      res.status(404).json({ error: 'Image not found' });
      return;
    }
    const png = await images.get(id, () => sharedRenderPool().renderPicture(job, lookup, engine.config.imageScale));
    res.set('Cache-Control', 'public, max-age=86400').type('png').send(png);
  });

  // A relay's in-progress preview: the picture at a resolution that rises with the progress.
  router.get('/previews/:name', async (req, res) => {
    const match = /^([A-Za-z0-9_-]+)-(\d{1,3})\.png$/.exec(req.params.name);
    const job = match ? engine.get(match[1] ?? '') : undefined;
    const step = Number(match?.[2]);
    if (!job || job.status === 'pending' || !(step > 0 && step <= 100)) {
      res.status(404).json({ error: 'Preview not found' });
      return;
    }
    const png = await images.get(`${job.id}-${step}`, () =>
      sharedRenderPool().renderPicture(job, lookup, engine.config.imageScale * (0.04 + step / 400)),
    );
    res.set('Cache-Control', 'public, max-age=3600').type('png').send(png);
  });

  // A finished clip, in whole or (for players that seek) by a byte range.
  router.get('/videos/:name', async (req, res) => {
    const id = /^([A-Za-z0-9_-]+)\.webm$/.exec(req.params.name)?.[1];
    const job = id ? engine.get(id) : undefined;
    if (!id || job?.status !== 'complete' || job.kind !== 'VIDEO') {
      res.status(404).json({ error: 'Video not found' });
      return;
    }
    const clip = await clips.get(id, () => sharedRenderPool().renderClip(job, lookup, engine.config.imageScale));
    res.set({ 'Cache-Control': 'public, max-age=86400', 'Accept-Ranges': 'bytes' }).type('video/webm');
    const range = byteRange(req.get('range'), clip.length);
    if (range === 'unsatisfiable') {
      res.status(416).set('Content-Range', `bytes */${clip.length}`).end();
      return;
    }
    if (!range) {
      res.send(clip);
      return;
    }
    const part = clip.subarray(range.start, range.end + 1);
    res
      .status(206)
      .set({
        'Content-Range': `bytes ${range.start}-${range.end}/${clip.length}`,
        'Content-Length': String(part.length),
      })
      .end(part);
  });

  return router;
}
