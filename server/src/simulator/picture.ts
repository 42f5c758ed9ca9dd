// Paints any simulated job's picture: a prompt's landscape or grid, or an action's change to the
// picture of the job it was taken on (upscale, vary, zoom, pan, repaint, a clip's first frame).
import { PNG } from 'pngjs';
import type { SimJobView } from './engine';
import {
  hash,
  imageSize,
  type Look,
  mulberry32,
  paintRaster,
  type Raster,
  renderGrid,
  renderLandscape,
  tileLook,
  type Viewport,
  valueNoise,
} from './image';
import type { SimEdit } from './sim-store';

export type JobLookup = (id: string) => SimJobView | undefined;

/** Chains of actions deeper than this (or a cycle) paint the job's own prompt instead. */
const MAX_DEPTH = 12;
/** How many pixels the edge of a repainted region blends over. */
const FEATHER_PX = 4;
/** A mask larger than this many pixels is not decoded (it would only be scaled down). */
const MAX_MASK_PIXELS = 4096 * 4096;

interface Context {
  lookup: JobLookup;
  depth: number;
}

/** The job's picture as a PNG: what /v1/images/:id.png serves, at `scale` of the full size. */
export function renderPicture(job: SimJobView, lookup: JobLookup, scale: number): Buffer {
  if (!job.edit && job.sourceTile === undefined && job.kind !== 'VIDEO') {
    // A prompt's own picture is painted exactly as before edits existed.
    const look = { seed: job.seed, wobble: job.wobble, style: job.style };
    return job.grid
      ? renderGrid(job.prompt, job.aspectRatio, job.quality, scale, look)
      : renderLandscape(job.prompt, job.aspectRatio, job.quality, scale, look);
  }
  return encodePng(pictureRaster(job, lookup, scale));
}

/** The job's picture as raw pixels: a grid of four (even sizes, as renderGrid's) or one image. */
export function pictureRaster(job: SimJobView, lookup: JobLookup, scale: number): Raster {
  const size = imageSize(job.aspectRatio, job.quality, scale);
  // An upscale is twice the size of the image it starts from.
  const factor = job.edit?.op === 'upscale' ? 2 : 1;
  const context = { lookup, depth: 0 };
  if (laysOutGrid(job)) {
    const width = Math.max(1, Math.floor(size.width / 2)) * 2;
    const height = Math.max(1, Math.floor(size.height / 2)) * 2;
    return composite(job, width, height, context);
  }
  return imageOf(job, undefined, size.width * factor, size.height * factor, context);
}

/**
 * One image of the job at any size: tile `tile` of its grid, or its whole picture. Edits are
 * painted in the picture's own proportions, so an image looks the same at every size.
 */
export function imageRaster(job: SimJobView, lookup: JobLookup, width: number, height: number, tile?: number): Raster {
  return imageOf(job, tile, width, height, { lookup, depth: 0 });
}

/** An opaque raster as an RGB PNG: a fifth smaller than RGBA, and quicker to write. */
export function encodePng(raster: Raster): Buffer {
  const png = new PNG({ width: raster.width, height: raster.height });
  raster.data.copy(png.data);
  return PNG.sync.write(png, { colorType: 2 });
}

const GRIDLESS_OPS: ReadonlySet<SimEdit['op']> = new Set(['upscale', 'animate']);

function laysOutGrid(job: SimJobView): boolean {
  if (job.kind === 'VIDEO') return false;
  return job.grid && !(job.edit && GRIDLESS_OPS.has(job.edit.op));
}

function lookOf(job: SimJobView, tile: number | undefined): Look {
  const look = { seed: job.seed, wobble: job.wobble, style: job.style };
  return job.grid && tile !== undefined ? tileLook(look, tile) : look;
}

/** The job painted from its own prompt, ignoring any edit. */
function plain(job: SimJobView, tile: number | undefined, width: number, height: number): Raster {
  return paintRaster(job.prompt, job.aspectRatio, width, height, lookOf(job, tile));
}

function parentOf(job: SimJobView, context: Context): SimJobView | undefined {
  const startsFromParent = job.edit !== undefined || job.sourceTile !== undefined || job.kind === 'VIDEO';
  return startsFromParent && job.parentId ? context.lookup(job.parentId) : undefined;
}

function imageOf(job: SimJobView, tile: number | undefined, width: number, height: number, context: Context): Raster {
  if (tile === undefined && laysOutGrid(job)) return composite(job, width, height, context);
  const parent = context.depth < MAX_DEPTH ? parentOf(job, context) : undefined;
  // A missing (forgotten) parent, or a chain too deep, leaves the job's own prompt to paint.
  if (!parent) return plain(job, tile, width, height);
  const inner: Context = { lookup: context.lookup, depth: context.depth + 1 };
  const source = (w: number, h: number) => imageOf(parent, job.sourceTile, w, h, inner);
  const { edit } = job;
  // A clip's poster is its first frame, the picture it starts from; a plain U, the tile itself.
  if (!edit || job.kind === 'VIDEO' || edit.op === 'animate') return source(width, height);
  const variant = tile ?? 1;
  const seed = `${job.seed}#${variant}`;
  switch (edit.op) {
    case 'upscale':
      // Painted afresh at the larger size, the picture is sharper with the same content.
      return edit.mode === 'subtle' ? source(width, height) : restyle(source(width, height), job.seed, CREATIVE);
    case 'vary': {
      if (edit.strength === 'subtle') return restyle(source(width, height), seed, SUBTLE_VARIATION);
      const scene = sceneOf(parent, job.sourceTile, inner);
      // A painted scene varies best as the painter varies a grid: the same scene, moved.
      return scene.exact
        ? restyle(
            paintRaster(scene.prompt, scene.aspectRatio, width, height, { ...scene.look, wobble: seed }),
            seed,
            STRONG_REPAINT,
          )
        : restyle(source(width, height), seed, STRONG_VARIATION);
    }
    case 'zoom':
      return zoomOut(job, parent, edit.factor, width, height, seed, source, inner);
    case 'pan':
      return pan(job, parent, edit.direction, width, height, seed, source, inner);
    case 'region':
      return repaint(job, parent, edit.mask, width, height, variant, source(width, height), inner);
  }
}

/** The 2x2 grid: tile n is the job's image with variant n. */
function composite(job: SimJobView, width: number, height: number, context: Context): Raster {
  const out = blank(width, height);
  const columns = [Math.max(1, Math.floor(width / 2)), Math.max(1, width - Math.floor(width / 2))];
  const rows = [Math.max(1, Math.floor(height / 2)), Math.max(1, height - Math.floor(height / 2))];
  for (let n = 1; n <= 4; n++) {
    const column = (n - 1) % 2;
    const row = Math.floor((n - 1) / 2);
    const tile = imageOf(job, n, columns[column] ?? 1, rows[row] ?? 1, context);
    paste(out, tile, column * (columns[0] ?? 1), row * (rows[0] ?? 1));
  }
  return out;
}

/** What a scene continues from: the prompt and look of the first ancestor painted from a prompt. */
interface Scene {
  prompt: string;
  aspectRatio: string;
  look: Look;
  /** Whether the image is that painting exactly (only plain and subtle upscales, clips between). */
  exact: boolean;
}

function sceneOf(job: SimJobView, tile: number | undefined, context: Context): Scene {
  let current = job;
  let currentTile = tile;
  let exact = true;
  for (let depth = context.depth; ; depth++) {
    const parent = depth < MAX_DEPTH ? parentOf(current, context) : undefined;
    if (!parent) break;
    const { edit } = current;
    if (edit && edit.op !== 'animate' && !(edit.op === 'upscale' && edit.mode === 'subtle')) exact = false;
    currentTile = current.sourceTile;
    current = parent;
  }
  // A whole grid is four paintings, not one.
  if (currentTile === undefined && laysOutGrid(current)) exact = false;
  return { prompt: current.prompt, aspectRatio: current.aspectRatio, look: lookOf(current, currentTile), exact };
}

/**
 * New scenery around the source at `rect`: the source's scene painted on past its edges (so a
 * prompt's landscape runs on seamlessly), drifting further from the source into a variant of it
 * (each tile its own), with a short blend where the source meets its surroundings.
 */
function extend(
  source: Raster,
  rect: { left: number; top: number },
  scene: Scene,
  width: number,
  height: number,
  seed: string,
): Raster {
  const viewport: Viewport = {
    canvasWidth: source.width,
    canvasHeight: source.height,
    left: -rect.left,
    top: -rect.top,
  };
  const continued = paintRaster(scene.prompt, scene.aspectRatio, width, height, scene.look, viewport);
  const varied = paintRaster(
    scene.prompt,
    scene.aspectRatio,
    width,
    height,
    { ...scene.look, wobble: seed, clouds: seed },
    viewport,
  );
  const right = rect.left + source.width - 1;
  const bottom = rect.top + source.height - 1;
  // The widest stretch of new scenery: by its far edge the variant has taken over.
  const reach = Math.max(1, rect.left, rect.top, width - 1 - right, height - 1 - bottom);
  const seam = Math.max(2, Math.round(Math.min(width, height) * 0.03));
  const out = continued;
  for (let y = 0; y < height; y++) {
    const nearestY = Math.min(bottom, Math.max(rect.top, y));
    const dy = y - nearestY;
    for (let x = 0; x < width; x++) {
      const nearestX = Math.min(right, Math.max(rect.left, x));
      const dx = x - nearestX;
      const o = (y * width + x) * 4;
      // The source itself is pasted over last.
      if (dx === 0 && dy === 0) continue;
      const distance = Math.sqrt(dx * dx + dy * dy);
      const drift = smoothstep(distance / reach);
      const joined = smoothstep(distance / seam);
      const edge = ((nearestY - rect.top) * source.width + (nearestX - rect.left)) * 4;
      for (let c = 0; c < 3; c++) {
        const around = (continued.data[o + c] ?? 0) * (1 - drift) + (varied.data[o + c] ?? 0) * drift;
        out.data[o + c] = Math.round((source.data[edge + c] ?? 0) * (1 - joined) + around * joined);
      }
    }
  }
  paste(out, source, rect.left, rect.top);
  return out;
}

/** Zoom out: the source shrunk by `factor` in the centre, new scenery around it. */
function zoomOut(
  job: SimJobView,
  parent: SimJobView,
  factor: number,
  width: number,
  height: number,
  seed: string,
  source: (w: number, h: number) => Raster,
  context: Context,
): Raster {
  const shrink = Math.min(2, Math.max(1, factor));
  const inner = source(Math.max(1, Math.round(width / shrink)), Math.max(1, Math.round(height / shrink)));
  const rect = { left: Math.floor((width - inner.width) / 2), top: Math.floor((height - inner.height) / 2) };
  return extend(inner, rect, sceneOf(parent, job.sourceTile, context), width, height, seed);
}

/** Pan: the source keeps its pixels on the side opposite `direction`; new scenery fills the rest. */
function pan(
  job: SimJobView,
  parent: SimJobView,
  direction: 'left' | 'right' | 'up' | 'down',
  width: number,
  height: number,
  seed: string,
  source: (w: number, h: number) => Raster,
  context: Context,
): Raster {
  const [rw, rh] = parent.aspectRatio.split(':').map(Number);
  const ratio = rw && rh ? rw / rh : 1;
  const sideways = direction === 'left' || direction === 'right';
  const w = sideways ? Math.min(width, Math.max(1, Math.round(height * ratio))) : width;
  const h = sideways ? height : Math.min(height, Math.max(1, Math.round(width / ratio)));
  const rect = { left: direction === 'left' ? width - w : 0, top: direction === 'up' ? height - h : 0 };
  return extend(source(w, h), rect, sceneOf(parent, job.sourceTile, context), width, height, seed);
}

/** Vary region: the mask's white repainted from the job's prompt, everything else kept exactly. */
function repaint(
  job: SimJobView,
  parent: SimJobView,
  mask: string,
  width: number,
  height: number,
  variant: number,
  source: Raster,
  context: Context,
): Raster {
  const coverage = maskCoverage(mask, width, height);
  if (!coverage) return source;
  // The source's scene seed keeps a repaint of the same prompt related to what it replaces.
  const [sceneSeed = ''] = sceneOf(parent, job.sourceTile, context).look.seed.split('#');
  const fresh = paintRaster(job.prompt, job.aspectRatio, width, height, {
    seed: `${sceneSeed}#r${job.seed}${variant}`,
    style: job.style,
  });
  const out = source;
  for (let i = 0; i < coverage.length; i++) {
    const alpha = coverage[i] ?? 0;
    if (alpha === 0) continue;
    const o = i * 4;
    for (let c = 0; c < 3; c++) {
      out.data[o + c] = Math.round((source.data[o + c] ?? 0) * (1 - alpha) + (fresh.data[o + c] ?? 0) * alpha);
    }
  }
  return out;
}

interface Mask {
  width: number;
  height: number;
  /** 1 where the mask is white (repaint), 0 elsewhere. */
  on: Uint8Array;
}

const decodedMasks = new Map<string, Mask | undefined>();

/** The mask's PNG read once (the four tiles share it); undefined for anything unreadable. */
function decodeMask(encoded: string): Mask | undefined {
  if (decodedMasks.has(encoded)) return decodedMasks.get(encoded);
  let mask: Mask | undefined;
  try {
    const bytes = Buffer.from(encoded.replace(/^data:image\/png;base64,/, ''), 'base64');
    // The header's size, checked before inflating, keeps a tiny file from becoming a huge image.
    const declared = bytes.length >= 24 ? bytes.readUInt32BE(16) * bytes.readUInt32BE(20) : 0;
    if (declared > 0 && declared <= MAX_MASK_PIXELS) {
      const png = PNG.sync.read(bytes);
      const on = new Uint8Array(png.width * png.height);
      for (let i = 0; i < on.length; i++) {
        const o = i * 4;
        const light = 0.299 * (png.data[o] ?? 0) + 0.587 * (png.data[o + 1] ?? 0) + 0.114 * (png.data[o + 2] ?? 0);
        // Transparent counts as black: a mask drawn on a clear layer repaints only its strokes.
        on[i] = (light * (png.data[o + 3] ?? 0)) / 255 >= 128 ? 1 : 0;
      }
      mask = { width: png.width, height: png.height, on };
    }
  } catch {
    mask = undefined;
  }
  decodedMasks.set(encoded, mask);
  if (decodedMasks.size > 4) decodedMasks.delete(decodedMasks.keys().next().value ?? '');
  return mask;
}

/**
 * How much of each pixel is repainted (0..1): the mask scaled to the picture, full inside,
 * fading over FEATHER_PX towards its edge, and exactly 0 outside it.
 */
function maskCoverage(encoded: string, width: number, height: number): Float32Array | undefined {
  const mask = decodeMask(encoded);
  if (!mask) return undefined;
  const far = FEATHER_PX + 1;
  const distance = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const my = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / height));
    for (let x = 0; x < width; x++) {
      const mx = Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / width));
      distance[y * width + x] = mask.on[my * mask.width + mx] ? far : 0;
    }
  }
  // Two chamfer passes: each inside pixel learns its distance to the nearest outside one.
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= width || y >= height ? far : (distance[y * width + x] ?? far);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const d = distance[i] ?? 0;
      if (d === 0) continue;
      distance[i] = Math.min(
        d,
        at(x - 1, y) + 1,
        at(x, y - 1) + 1,
        at(x - 1, y - 1) + Math.SQRT2,
        at(x + 1, y - 1) + Math.SQRT2,
      );
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      const d = distance[i] ?? 0;
      if (d === 0) continue;
      distance[i] = Math.min(
        d,
        at(x + 1, y) + 1,
        at(x, y + 1) + 1,
        at(x + 1, y + 1) + Math.SQRT2,
        at(x - 1, y + 1) + Math.SQRT2,
      );
    }
  }
  for (let i = 0; i < distance.length; i++) distance[i] = Math.min(1, (distance[i] ?? 0) / FEATHER_PX);
  return distance;
}

/**
 * How far a restyle moves the picture: warp (a share of the short side), colour (a share of
 * each channel), texture (levels, with `cells` across the short side) and per-pixel grain.
 */
interface Restyle {
  warp: number;
  color: number;
  texture: number;
  cells: number;
  grain: number;
}

const CREATIVE: Restyle = { warp: 0.012, color: 0.09, texture: 10, cells: 70, grain: 3 };
const SUBTLE_VARIATION: Restyle = { warp: 0.006, color: 0.025, texture: 3, cells: 40, grain: 1 };
const STRONG_VARIATION: Restyle = { warp: 0.02, color: 0.1, texture: 6, cells: 30, grain: 2 };
const STRONG_REPAINT: Restyle = { warp: 0.008, color: 0.08, texture: 4, cells: 40, grain: 1 };

/**
 * The same composition with its details changed: features pushed about by a smooth field,
 * colours shifted, a new texture and grain. Everything but the grain is laid out in the
 * picture's proportions, so a restyled image looks the same at every size.
 */
function restyle(source: Raster, seed: string, amount: Restyle): Raster {
  const { width, height } = source;
  const random = mulberry32(hash(`restyle|${seed}`));
  const short = Math.min(width, height);
  // A sum of separable waves, one to three cycles across: dx = sum of column[k][x] * row[k][y].
  const waves = 3;
  const fieldX = separableField(random, waves, width, height);
  const fieldY = separableField(random, waves, width, height);
  const push = amount.warp * short;
  const gains = [0, 1, 2].map(() => 1 + (random() - 0.5) * 2 * amount.color);
  const shifts = [0, 1, 2].map(() => (random() - 0.5) * 2 * amount.color * 40);
  const noise = valueNoise(hash(`texture|${seed}`));
  const cell = short / amount.cells;
  const grain = mulberry32(hash(`grain|${seed}`));
  const out = blank(width, height);
  const rgb: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let dx = 0;
      let dy = 0;
      for (let k = 0; k < waves; k++) {
        dx += (fieldX.columns[k]?.[x] ?? 0) * (fieldX.rows[k]?.[y] ?? 0);
        dy += (fieldY.columns[k]?.[x] ?? 0) * (fieldY.rows[k]?.[y] ?? 0);
      }
      sample(source, x + dx * push, y + dy * push, rgb);
      const detail = (noise(x / cell, y / cell) - 0.5) * 2 * amount.texture + (grain() - 0.5) * 2 * amount.grain;
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        out.data[o + c] = clamp(rgb[c as 0 | 1 | 2] * (gains[c] ?? 1) + (shifts[c] ?? 0) + detail);
      }
    }
  }
  return out;
}

function separableField(
  random: () => number,
  waves: number,
  width: number,
  height: number,
): { columns: Float32Array[]; rows: Float32Array[] } {
  const columns: Float32Array[] = [];
  const rows: Float32Array[] = [];
  for (let k = 0; k < waves; k++) {
    const fx = 1 + random() * 2;
    const fy = 1 + random() * 2;
    const px = random() * Math.PI * 2;
    const py = random() * Math.PI * 2;
    const weight = 1 / (k + 1);
    columns.push(
      Float32Array.from({ length: width }, (_, x) => weight * Math.sin((x / width) * fx * Math.PI * 2 + px)),
    );
    rows.push(Float32Array.from({ length: height }, (_, y) => Math.cos((y / height) * fy * Math.PI * 2 + py)));
  }
  return { columns, rows };
}

/** Bilinear sample of the raster at pixel coordinates (clamped to its edges). */
function sample(raster: Raster, x: number, y: number, out: [number, number, number]): void {
  const { width, height, data } = raster;
  const cx = Math.min(width - 1, Math.max(0, x));
  const cy = Math.min(height - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const a = (y0 * width + x0) * 4;
  const b = (y0 * width + x1) * 4;
  const c = (y1 * width + x0) * 4;
  const d = (y1 * width + x1) * 4;
  for (let k = 0; k < 3; k++) {
    const top = (data[a + k] ?? 0) * (1 - fx) + (data[b + k] ?? 0) * fx;
    const bottom = (data[c + k] ?? 0) * (1 - fx) + (data[d + k] ?? 0) * fx;
    out[k as 0 | 1 | 2] = top * (1 - fy) + bottom * fy;
  }
}

function blank(width: number, height: number): Raster {
  const data = Buffer.alloc(width * height * 4, 255);
  return { width, height, data };
}

function paste(target: Raster, tile: Raster, left: number, top: number): void {
  const columns = Math.min(tile.width, target.width - left);
  for (let y = 0; y < tile.height && top + y < target.height; y++) {
    tile.data.copy(
      target.data,
      ((top + y) * target.width + left) * 4,
      y * tile.width * 4,
      (y * tile.width + columns) * 4,
    );
  }
}

const smoothstep = (t: number) => {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
};

const clamp = (value: number) => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
