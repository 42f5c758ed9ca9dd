// Paints the simulator's result: a layered landscape whose palette, sky, ridges and sun are
// derived from the prompt, in the requested aspect ratio, encoded as a real PNG. The prompt's
// parameters show: the seed picks the scene, stylize the colour's strength, chaos how far the
// grid's four drift apart, weird a shift of hue, --no removes sun, water, stars or mountains,
// and image prompts tint the palette with their colours.

import type { Quality } from '@shared/schemas/imagine';
import { PNG } from 'pngjs';

export type Rgb = readonly [number, number, number];

interface Mood {
  skyTop: Rgb;
  skyBottom: Rgb;
  sun: Rgb;
  far: Rgb;
  near: Rgb;
  stars: boolean;
}

const MOODS: Record<string, Mood> = {
  dawn: {
    skyTop: [72, 96, 170],
    skyBottom: [250, 190, 170],
    sun: [255, 236, 200],
    far: [170, 150, 190],
    near: [40, 36, 70],
    stars: false,
  },
  day: {
    skyTop: [70, 140, 230],
    skyBottom: [200, 230, 250],
    sun: [255, 252, 230],
    far: [130, 170, 200],
    near: [30, 70, 60],
    stars: false,
  },
  sunset: {
    skyTop: [60, 40, 110],
    skyBottom: [255, 150, 80],
    sun: [255, 220, 140],
    far: [190, 100, 110],
    near: [40, 20, 45],
    stars: false,
  },
  night: {
    skyTop: [8, 10, 35],
    skyBottom: [40, 50, 110],
    sun: [235, 235, 255],
    far: [50, 60, 110],
    near: [10, 12, 30],
    stars: true,
  },
  forest: {
    skyTop: [120, 170, 200],
    skyBottom: [230, 240, 210],
    sun: [255, 250, 220],
    far: [120, 160, 130],
    near: [20, 55, 35],
    stars: false,
  },
  desert: {
    skyTop: [90, 150, 220],
    skyBottom: [250, 220, 180],
    sun: [255, 250, 230],
    far: [220, 170, 120],
    near: [140, 80, 50],
    stars: false,
  },
};

const MOOD_WORDS: [RegExp, string][] = [
  [/\b(night|moon|star|stars|galaxy|midnight|neon|cyberpunk)\b/, 'night'],
  [/\b(sunset|dusk|golden|autumn|fire|lava)\b/, 'sunset'],
  [/\b(dawn|sunrise|morning|pastel|dream)\b/, 'dawn'],
  [/\b(forest|jungle|green|spring|garden)\b/, 'forest'],
  [/\b(desert|dune|sand|canyon|mars)\b/, 'desert'],
  [/\b(day|summer|sky|alps|mountain)\b/, 'day'],
];

/** Width and height of a "W:H" ratio (1:1 for anything unreadable). */
function ratioOf(aspectRatio: string): [number, number] {
  const [w, h] = aspectRatio.split(':').map(Number);
  return w && h && w > 0 && h > 0 ? [w, h] : [1, 1];
}

export function imageSize(aspectRatio: string, quality: Quality, scale = 1): { width: number; height: number } {
  const long = Math.max(16, Math.round((quality === 'high' ? 1024 : 768) * scale));
  const [w, h] = ratioOf(aspectRatio);
  return w >= h
    ? { width: long, height: Math.max(1, Math.round((long * h) / w)) }
    : { width: Math.max(1, Math.round((long * w) / h)), height: long };
}

/** FNV-1a: a text's 32-bit seed. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small seeded generator of numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Smooth value noise, 0..1, over the plane in lattice units (one random value per whole
 * coordinate, blended between): the same seed gives the same pattern everywhere, negative
 * coordinates included.
 */
export function valueNoise(seed: number): (u: number, v: number) => number {
  const at = (i: number, j: number) => {
    let h = (seed ^ Math.imul(i, 374761393) ^ Math.imul(j, 668265263)) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 1274126177);
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  };
  return latticeNoise(at);
}

/** The plane's noise from one value per lattice point (`at`), blended smoothly between them. */
export function latticeNoise(at: (i: number, j: number) => number): (u: number, v: number) => number {
  const ease = (t: number) => t * t * (3 - 2 * t);
  return (u, v) => {
    const i = Math.floor(u);
    const j = Math.floor(v);
    const fu = ease(u - i);
    const fv = ease(v - j);
    const top = at(i, j) * (1 - fu) + at(i + 1, j) * fu;
    const bottom = at(i, j + 1) * (1 - fu) + at(i + 1, j + 1) * fu;
    return top * (1 - fv) + bottom * fv;
  };
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  a[0] + (b[0] - a[0]) * t,
  a[1] + (b[1] - a[1]) * t,
  a[2] + (b[2] - a[2]) * t,
];

export function pickMood(prompt: string): string {
  const lower = prompt.toLowerCase();
  for (const [pattern, mood] of MOOD_WORDS) if (pattern.test(lower)) return mood;
  const names = Object.keys(MOODS);
  return names[hash(lower) % names.length] ?? 'day';
}

/** How the parameters change the painting; every field has Midjourney's default when absent. */
export interface Style {
  stylize?: number | undefined;
  chaos?: number | undefined;
  weird?: number | undefined;
  /** Elements left out (--no): sun, water, stars, mountains and their synonyms. */
  no?: string[] | undefined;
  /** The image prompts' average colour, mixed into the palette. */
  tint?: [number, number, number] | undefined;
}

/** Which picture of a prompt: `seed` picks the scene, `wobble` moves it a little (variations). */
export interface Look {
  seed: string;
  wobble?: string | undefined;
  style?: Style | undefined;
  /** Seeds soft clouds in the sky (the new scenery a zoom or pan paints); none when absent. */
  clouds?: string | undefined;
}

const LEFT_OUT: Record<'sun' | 'water' | 'stars' | 'mountains', RegExp> = {
  sun: /\b(sun|suns|sunlight|moon|glow)\b/,
  water: /\b(water|sea|ocean|lake|river|reflection|reflections|coast)\b/,
  stars: /\b(star|stars|starlight)\b/,
  mountains: /\b(mountain|mountains|hill|hills|ridge|ridges|peaks?)\b/,
};
const leftOut = (style: Style | undefined, element: keyof typeof LEFT_OUT): boolean =>
  (style?.no ?? []).some((item) => LEFT_OUT[element].test(item.toLowerCase()));

/** A colour's saturation scaled around its grey (stylize), and its hue turned (weird). */
function stylized(color: Rgb, style: Style | undefined): Rgb {
  const strength = 0.55 + Math.min(1000, style?.stylize ?? 100) / 1000;
  const grey = (color[0] + color[1] + color[2]) / 3;
  let out: Rgb = [
    grey + (color[0] - grey) * strength,
    grey + (color[1] - grey) * strength,
    grey + (color[2] - grey) * strength,
  ];
  const turn = ((style?.weird ?? 0) / 3000) * Math.PI;
  if (turn > 0) {
    // Rotate about the grey axis: the same brightness, another hue.
    const cos = Math.cos(turn);
    const sin = Math.sin(turn);
    const k = (1 - cos) / 3;
    const r3 = Math.sqrt(1 / 3) * sin;
    const [r, g, b] = out;
    out = [
      r * (cos + k) + g * (k - r3) + b * (k + r3),
      r * (k + r3) + g * (cos + k) + b * (k - r3),
      r * (k - r3) + g * (k + r3) + b * (cos + k),
    ];
  }
  return style?.tint ? mix(out, style.tint, 0.45) : out;
}

/** One landscape for the prompt, in the aspect ratio, as a PNG. */
export function renderLandscape(
  prompt: string,
  aspectRatio: string,
  quality: Quality,
  scale = 1,
  look: Look = { seed: '' },
): Buffer {
  const { width, height } = imageSize(aspectRatio, quality, scale);
  const png = new PNG({ width, height });
  paintLandscape(png.data, width, height, prompt, aspectRatio, look);
  return PNG.sync.write(png);
}

/** Tile n (1-4) of a grid: tile n of a varied grid is the same scene moved its own way. */
export function tileLook(look: Look, n: number): Look {
  const style = look.style ? { style: look.style } : {};
  return look.wobble
    ? { seed: look.seed, wobble: `${look.wobble}#${n}`, ...style }
    : { seed: `${look.seed}#${n}`, ...style };
}

/** Midjourney's grid: four landscapes of the prompt in a 2x2 grid, each in the aspect ratio. */
export function renderGrid(prompt: string, aspectRatio: string, quality: Quality, scale = 1, look: Look): Buffer {
  const { width, height } = imageSize(aspectRatio, quality, scale);
  const tileWidth = Math.max(1, Math.floor(width / 2));
  const tileHeight = Math.max(1, Math.floor(height / 2));
  const png = new PNG({ width: tileWidth * 2, height: tileHeight * 2 });
  const tile = Buffer.alloc(tileWidth * tileHeight * 4);
  for (let n = 1; n <= 4; n++) {
    paintLandscape(tile, tileWidth, tileHeight, prompt, aspectRatio, tileLook(look, n));
    const left = ((n - 1) % 2) * tileWidth;
    const top = Math.floor((n - 1) / 2) * tileHeight;
    for (let y = 0; y < tileHeight; y++) {
      tile.copy(png.data, ((top + y) * png.width + left) * 4, y * tileWidth * 4, (y + 1) * tileWidth * 4);
    }
  }
  return PNG.sync.write(png);
}

/** Raw RGBA pixels, four bytes a pixel, row by row. */
export interface Raster {
  width: number;
  height: number;
  data: Buffer;
}

/**
 * Where a painting's window sits on the scene's canvas: the canvas's size, and the canvas
 * coordinates of the window's top-left pixel. A window larger than the canvas, or beside it,
 * paints the scene's continuation (ridges run on, the sky and ground extend).
 */
export interface Viewport {
  canvasWidth: number;
  canvasHeight: number;
  left: number;
  top: number;
}

/** One landscape as raw pixels: the whole canvas, or the viewport's window onto it. */
export function paintRaster(
  prompt: string,
  aspectRatio: string,
  width: number,
  height: number,
  look: Look,
  viewport?: Viewport,
): Raster {
  const data = Buffer.alloc(width * height * 4);
  paintLandscape(data, width, height, prompt, aspectRatio, look, viewport);
  return { width, height, data };
}

function paintLandscape(
  data: Buffer,
  width: number,
  height: number,
  prompt: string,
  aspectRatio: string,
  look: Look,
  viewport: Viewport = { canvasWidth: width, canvasHeight: height, left: 0, top: 0 },
): void {
  const { style } = look;
  // The scene is laid out on the canvas; only the window's pixels are painted.
  const { canvasWidth, canvasHeight, left, top: windowTop } = viewport;
  // A grid's tiles (seed "…#n") share the scene; chaos lets each drift from it.
  const [sceneSeed = '', tile = ''] = look.seed.split('#');
  const chaos = Math.min(100, style?.chaos ?? 0) / 100;
  const scene = mulberry32(hash(`${prompt}|${aspectRatio}${sceneSeed}`));
  const own = mulberry32(hash(`${prompt}|${aspectRatio}${look.seed}`));
  const random = () => {
    const shared = scene();
    const mine = own();
    // Without chaos the four still differ as Midjourney's do; with full chaos they share nothing.
    const kept = 0.3 * (1 - chaos);
    return tile ? shared * kept + mine * (1 - kept) : mine;
  };
  // A variation keeps the scene's random draws and nudges each by a little of its own.
  const nudge = look.wobble ? mulberry32(hash(look.wobble)) : () => 0.5;
  const wobbled = (share: number) => random() + (nudge() - 0.5) * share;
  const base = MOODS[pickMood(prompt)] ?? (MOODS.day as Mood);
  const mood: Mood = {
    skyTop: stylized(base.skyTop, style),
    skyBottom: stylized(base.skyBottom, style),
    sun: stylized(base.sun, style),
    far: stylized(base.far, style),
    near: stylized(base.near, style),
    stars: base.stars && !leftOut(style, 'stars'),
  };
  const water =
    /\b(ocean|sea|lake|water|river|reflection|coast)\b/.test(prompt.toLowerCase()) && !leftOut(style, 'water');
  const sunless = leftOut(style, 'sun');
  const flat = leftOut(style, 'mountains');
  const cloudNoise = look.clouds ? valueNoise(hash(look.clouds)) : undefined;
  const cloudCell = Math.min(canvasWidth, canvasHeight) / 5;
  const horizon = water ? Math.round(canvasHeight * 0.72) : canvasHeight;

  const min = Math.min(canvasWidth, canvasHeight);
  const sunX = canvasWidth * (0.2 + wobbled(0.3) * 0.6);
  const sunY = canvasHeight * (0.12 + wobbled(0.3) * 0.2);
  const sunR = min * (0.05 + random() * 0.05);

  const layers = 5;
  const ridges: Float32Array[] = [];
  const colors: Rgb[] = [];
  for (let layer = 0; layer < layers; layer++) {
    const depth = layer / (layers - 1);
    const baseline = canvasHeight * (0.42 + depth * 0.3) * (water ? 0.85 : 1);
    const amplitude = flat
      ? canvasHeight * 0.004
      : canvasHeight * (0.16 - depth * 0.07) * (1 + (random() - 0.5) * chaos);
    const phases = Array.from({ length: 6 }, () => wobbled(0.12) * Math.PI * 2);
    const frequency = (1.5 + random() * 2.5) / canvasWidth;
    // Indexed by the window's columns, drawn at the canvas's.
    const ridge = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      let y = 0;
      for (let octave = 1; octave <= 6; octave++) {
        const wave = Math.sin((x + left) * frequency * Math.PI * 2 * octave ** 1.35 + (phases[octave - 1] ?? 0));
        // 1 - |sin| gives sharp peaks and round valleys, like eroded ridges.
        y += ((1 - Math.abs(wave)) * amplitude) / octave ** 1.5;
      }
      ridge[x] = baseline - y * 0.9;
    }
    ridges.push(ridge);
    colors.push(mix(mix(mood.skyBottom, mood.far, 0.7), mood.near, depth ** 0.8));
  }

  // x is the window's column, y the canvas's row.
  const paint = (x: number, y: number, reflected: boolean): Rgb => {
    for (let layer = layers - 1; layer >= 0; layer--) {
      const top = ridges[layer]?.[x] ?? canvasHeight;
      if (y >= top) {
        const color = colors[layer] ?? mood.near;
        const shade = Math.min(1, (y - top) / (canvasHeight * 0.35));
        return mix(color, mood.near, shade * 0.35);
      }
    }
    // Above the canvas the sky keeps its top colour rather than running past it.
    const t = Math.min(1, Math.max(0, y / canvasHeight));
    let sky = mix(mood.skyTop, mood.skyBottom, t ** 0.9);
    const dx = x + left - sunX;
    const dy = y - sunY;
    const distance = Math.sqrt(dx * dx + dy * dy);
    if (!sunless) {
      if (distance < sunR) return mix(mood.sun, [255, 255, 255], 0.2);
      const spread = (distance - sunR) / (sunR * 3);
      const glow = Math.exp(-(spread * spread) / 2);
      sky = mix(sky, mood.sun, glow * 0.55);
    }
    if (cloudNoise) {
      // Two octaves, stretched sideways as clouds are, laid out on the canvas.
      const u = (x + left) / (cloudCell * 2);
      const v = y / cloudCell;
      const n = cloudNoise(u, v) * 0.65 + cloudNoise(u * 2.7 + 17, v * 2.7 + 5) * 0.35;
      const cover = Math.min(1, Math.max(0, (n - 0.5) / 0.25));
      if (cover > 0) sky = mix(sky, mix(mood.skyBottom, [255, 255, 255], 0.45), cover * cover * 0.75);
    }
    if (mood.stars && !reflected) {
      const star = mulberry32((x + left) * 7919 + y * 104729)();
      if (star > 0.9985) return mix(sky, [255, 255, 255], 0.5 + (star - 0.9985) * 300);
    }
    return sky;
  };

  for (let row = 0; row < height; row++) {
    const y = row + windowTop;
    for (let x = 0; x < width; x++) {
      let color: Rgb;
      // Without water the ground runs on below the canvas; with it, the reflection does.
      if (!water || y < horizon) {
        color = paint(x, y, false);
      } else {
        const depth = y - horizon;
        const ripple = Math.round(Math.sin(depth * 0.35 + (x + left) * 0.02) * (1 + depth * 0.04));
        const mirrored = Math.max(0, horizon - 1 - depth);
        const source = paint(Math.min(width - 1, Math.max(0, x + ripple)), mirrored, true);
        color = mix(source, mood.skyTop, 0.25 + Math.min(1, depth / (canvasHeight - horizon)) * 0.3);
      }
      const grain = (random() - 0.5) * 4;
      const offset = (row * width + x) * 4;
      data[offset] = clamp(color[0] + grain);
      data[offset + 1] = clamp(color[1] + grain);
      data[offset + 2] = clamp(color[2] + grain);
      data[offset + 3] = 255;
    }
  }
}

const clamp = (value: number) => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
