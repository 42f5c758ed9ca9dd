// The simulator's stand-in for a CDN, mounted under /v1: finished images and a relay's rising
// previews as real PNGs, with no key and no rate limit, like real result links.
import express from 'express';
import type { SimJobView, SimulatorEngine } from './engine';
import { renderGrid, renderLandscape } from './image';

const IMAGE_CACHE_SIZE = 64;

export function imageRoutes(engine: SimulatorEngine): express.Router {
  const router = express.Router();
  const imageCache = new Map<string, Buffer>();

  const picture = (job: SimJobView, scale: number) => {
    const look = { seed: job.seed, wobble: job.wobble, style: job.style };
    return job.grid
      ? renderGrid(job.prompt, job.aspectRatio, job.quality, scale, look)
      : renderLandscape(job.prompt, job.aspectRatio, job.quality, scale, look);
  };
  const cached = (key: string, render: () => Buffer) => {
    let png = imageCache.get(key);
    if (!png) {
      png = render();
      imageCache.set(key, png);
      if (imageCache.size > IMAGE_CACHE_SIZE) imageCache.delete(imageCache.keys().next().value ?? '');
    }
    return png;
  };

  router.get('/images/:name', (req, res) => {
    const id = req.params.name.replace(/\.png$/, '');
    const job = engine.get(id);
    if (job?.status !== 'complete') {
      res.status(404).json({ error: 'Image not found' });
      return;
    }
    const png = cached(id, () => picture(job, engine.config.imageScale));
    res.set('Cache-Control', 'public, max-age=86400').type('png').send(png);
  });

  // A relay's in-progress preview: the picture at a resolution that rises with the progress.
  router.get('/previews/:name', (req, res) => {
    const match = /^([A-Za-z0-9_-]+)-(\d{1,3})\.png$/.exec(req.params.name);
    const job = match ? engine.get(match[1] ?? '') : undefined;
    const step = Number(match?.[2]);
    if (!job || job.status === 'pending' || !(step > 0 && step <= 100)) {
      res.status(404).json({ error: 'Preview not found' });
      return;
    }
    const png = cached(`${job.id}-${step}`, () => picture(job, engine.config.imageScale * (0.04 + step / 400)));
    res.set('Cache-Control', 'public, max-age=3600').type('png').send(png);
  });

  return router;
}
