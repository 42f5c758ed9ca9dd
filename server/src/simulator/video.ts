// Makes a simulated clip: frames moved over the picture a clip starts from, each encoded by
// sharp as a lossy WebP (one VP8 key frame), muxed here into a WebM that browsers play.
import type { SimJobView } from './engine';
import type { Raster } from './image';
import { hash, imageSize, latticeNoise, mulberry32 } from './image';
import { imageRaster, type JobLookup } from './picture';

export const CLIP_FPS = 12;
/** A clip's long side at the simulator's full image scale. */
const CLIP_LONG_SIDE = 480;
/** Frames are cut from the source painted this much larger, so a push-in stays sharp. */
const SUPERSAMPLE = 1.5;
const DEFAULT_SECONDS = 5;
const WEBP_QUALITY = 60;
// libwebp's effort 2 of 6: about half the time of its default 4 for some 10% more bytes.
const WEBP_EFFORT = 2;
/** Frames encoded at once: enough to keep libuv's pool busy, few enough to bound memory. */
const ENCODE_AHEAD = 4;
const MAX_CHAIN = 12;
const WATER = /\b(ocean|sea|lake|water|river|reflection|coast)\b/;

/** A clip's frame size for the ratio: 480 px on the long side at most, scaled, even. */
export function clipSize(aspectRatio: string, scale: number): { width: number; height: number } {
  const { width, height } = imageSize(aspectRatio, 'standard', (Math.min(1, scale) * CLIP_LONG_SIDE) / 768);
  const even = (side: number) => Math.max(16, side - (side % 2));
  return { width: even(width), height: even(height) };
}

export function clipFrameCount(seconds: number): number {
  return Math.max(1, Math.round(seconds * CLIP_FPS));
}

/**
 * The clip of a VIDEO job as WebM bytes. An extension (a VIDEO job whose parent is one) goes
 * on from where its parent ends, in its own motion: frame i depends only on the chain's first
 * clip and the motions up to frame i, so its frames begin byte for byte as its parent's do.
 */
export async function renderClip(job: SimJobView, lookup: JobLookup, scale: number): Promise<Buffer> {
  const chain = clipChain(job, lookup);
  const first = chain[0] ?? job;
  const seconds = secondsOf(job);
  const { width, height } = clipSize(first.aspectRatio, scale);
  const source = imageRaster(first, lookup, Math.round(width * SUPERSAMPLE), Math.round(height * SUPERSAMPLE));
  const camera = new Camera(source, width, height, timeline(chain), first.seed, WATER.test(first.prompt.toLowerCase()));
  const { default: sharp } = await import('sharp');
  const encode = (rgb: Buffer) =>
    sharp(rgb, { raw: { width, height, channels: 3 } })
      .webp({ quality: WEBP_QUALITY, effort: WEBP_EFFORT })
      .toBuffer()
      .then(vp8Payload);
  const frames: Promise<Buffer>[] = [];
  const count = clipFrameCount(seconds);
  for (let i = 0; i < count; i++) {
    // Painting is synchronous; waiting on the encode started ENCODE_AHEAD frames ago lets both run.
    const behind = frames[i - ENCODE_AHEAD];
    if (behind) await behind;
    const frame = encode(camera.frame(i / CLIP_FPS));
    // A failed encode is reported by Promise.all below, not as an unhandled rejection first.
    frame.catch(() => undefined);
    frames.push(frame);
  }
  return muxWebm(await Promise.all(frames), width, height, CLIP_FPS);
}

/** The clips a clip extends, first to last, ending with the clip itself. */
function clipChain(job: SimJobView, lookup: JobLookup): SimJobView[] {
  const chain = [job];
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const earliest = chain[0];
    const parent = earliest?.parentId ? lookup(earliest.parentId) : undefined;
    if (parent?.kind !== 'VIDEO') break;
    chain.unshift(parent);
  }
  return chain;
}

const secondsOf = (clip: SimJobView) => (clip.edit?.op === 'animate' ? clip.edit.seconds : DEFAULT_SECONDS);

type Motion = 'low' | 'high';

/** From `start` seconds on, the camera moves at this motion. */
interface Segment {
  start: number;
  motion: Motion;
}

/** Each clip of the chain moves in its own motion from where the clip it extends ends. */
function timeline(chain: readonly SimJobView[]): Segment[] {
  let start = 0;
  return chain.map((clip, i) => {
    const previous = chain[i - 1];
    if (previous) start = Math.max(start, secondsOf(previous));
    return { start, motion: clip.edit?.op === 'animate' ? clip.edit.motion : 'low' };
  });
}

/**
 * How fast each motion moves, a second: the push-in's progress, the sway's phase, and the
 * energy (clouds, ripples) it tends to. Rates, not positions, so that a change of motion at an
 * extension goes on smoothly from where the camera is.
 */
const PACE: Record<Motion, { push: number; sway: number; energy: number }> = {
  low: { push: 0.8, sway: 0.2, energy: 0 },
  high: { push: 3, sway: 0.9, energy: 1 },
};
/** Seconds for the clouds and ripples to come in fully (or die away). */
const ENERGY_RAMP_S = 1.2;

/** Where the camera is at `t`: the motions' rates added up over the segments before it. */
function cameraAt(segments: readonly Segment[], t: number): { push: number; sway: number; energy: number } {
  let push = 0;
  let sway = 0;
  let energy = 0;
  for (let k = 0; k < segments.length; k++) {
    const segment = segments[k];
    if (!segment || t <= segment.start) break;
    const span = Math.min(t, segments[k + 1]?.start ?? Number.POSITIVE_INFINITY) - segment.start;
    const pace = PACE[segment.motion];
    push += pace.push * span;
    sway += pace.sway * span;
    const step = span / ENERGY_RAMP_S;
    energy = energy < pace.energy ? Math.min(pace.energy, energy + step) : Math.max(pace.energy, energy - step);
  }
  return { push, sway, energy };
}

/**
 * The camera over the source. Low motion: a slow push-in with a gentle drift. High motion: a
 * faster push-in and sway, clouds drifting over the upper part and, on water, ripples. At
 * t = 0 it shows the whole source, unchanged; every movement eases in from there.
 */
class Camera {
  readonly #source: Raster;
  readonly #width: number;
  readonly #height: number;
  readonly #segments: readonly Segment[];
  readonly #water: boolean;
  /** Which way the camera drifts, sideways and up or down. */
  readonly #turns: [number, number];
  readonly #clouds: CloudMap | undefined;

  constructor(
    source: Raster,
    width: number,
    height: number,
    segments: readonly Segment[],
    seed: string,
    water: boolean,
  ) {
    this.#source = source;
    this.#width = width;
    this.#height = height;
    this.#segments = segments;
    this.#water = water;
    const random = mulberry32(hash(`clip|${seed}`));
    this.#turns = [random() < 0.5 ? -1 : 1, random() < 0.5 ? -1 : 1];
    const high = segments.some((segment) => segment.motion === 'high');
    this.#clouds = high ? cloudMap(hash(`clip-clouds|${seed}`)) : undefined;
  }

  /** The frame at `t` seconds, as packed RGB. */
  frame(t: number): Buffer {
    const { width: sw, height: sh, data } = this.#source;
    const width = this.#width;
    const height = this.#height;
    const { push, sway, energy } = cameraAt(this.#segments, t);
    // Approaches 1.5x, the most the supersampled source shows sharply.
    const zoom = 1 + 0.5 * (1 - Math.exp(-push / 14));
    const span = 1 / zoom;
    const room = (1 - span) / 2;
    const [turnX, turnY] = this.#turns;
    // The sway stays within the room the zoom leaves, so the frame never leaves the source.
    const centreX = 0.5 + room * turnX * 0.8 * Math.sin(sway);
    const centreY = 0.5 + room * turnY * 0.35 * Math.sin(sway * 0.75);
    const ripple = this.#water ? energy * 0.006 * sw : 0;
    const clouds = this.#clouds;
    const cloudy = clouds ? energy * 0.55 : 0;
    // Where each column samples the source, worked out once a frame.
    const columnU = new Float64Array(width);
    const columnX = new Int32Array(width);
    const columnFx = new Float64Array(width);
    const columnCloud = new Int32Array(width);
    for (let x = 0; x < width; x++) {
      const u = centreX + ((x + 0.5) / width - 0.5) * span;
      const sx = Math.min(sw - 1, Math.max(0, u * sw - 0.5));
      columnU[x] = u;
      columnX[x] = Math.min(sw - 2, Math.floor(sx));
      columnFx[x] = sx - (columnX[x] ?? 0);
      // Clouds drift across the scene on their own, besides the camera's move.
      if (clouds) columnCloud[x] = clouds.column(u * CLOUD_CELLS_ACROSS + t * 0.18);
    }
    const out = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      const v = centreY + ((y + 0.5) / height - 0.5) * span;
      const sy = Math.min(sh - 1, Math.max(0, v * sh - 0.5));
      const y0 = Math.min(sh - 2, Math.floor(sy));
      const fy = sy - y0;
      const rowA = y0 * sw;
      const rowC = rowA + sw;
      // The painter's water starts at 72% of the height.
      const wave = ripple > 0 && v > 0.73 ? ripple * Math.min(1, (v - 0.73) / 0.05) : 0;
      const mist = clouds && v < 0.5 ? cloudy * (1 - v / 0.5) : 0;
      const cloudRow = clouds && mist > 0 ? clouds.row(v) : 0;
      for (let x = 0; x < width; x++) {
        let x0 = columnX[x] ?? 0;
        let fx = columnFx[x] ?? 0;
        if (wave > 0) {
          const u = columnU[x] ?? 0;
          const sx = Math.min(sw - 1, Math.max(0, u * sw - 0.5 + wave * Math.sin(sy * 0.45 + t * 6 + u * 9)));
          x0 = Math.min(sw - 2, Math.floor(sx));
          fx = sx - x0;
        }
        const a = (rowA + x0) * 4;
        const c = (rowC + x0) * 4;
        const cover = mist > 0 && clouds ? (clouds.cover[cloudRow + (columnCloud[x] ?? 0)] ?? 0) * mist : 0;
        const o = (y * width + x) * 3;
        // Unrolled by channel: this loop is most of a clip's time.
        const r = bilinear(data, a, c, fx, fy);
        const g = bilinear(data, a + 1, c + 1, fx, fy);
        const bl = bilinear(data, a + 2, c + 2, fx, fy);
        // Rounded by the +0.5 as the byte store truncates; values stay within 0..255.
        out[o] = r + (236 - r) * cover + 0.5;
        out[o + 1] = g + (236 - g) * cover + 0.5;
        out[o + 2] = bl + (236 - bl) * cover + 0.5;
      }
    }
    return out;
  }
}

/** One channel between four neighbouring pixels: `top` and `bottom` index the left pair. */
function bilinear(data: Buffer, top: number, bottom: number, fx: number, fy: number): number {
  const a = data[top] ?? 0;
  const b = data[top + 4] ?? 0;
  const c = data[bottom] ?? 0;
  const d = data[bottom + 4] ?? 0;
  const upper = a + (b - a) * fx;
  return upper + (c + (d - c) * fx - upper) * fy;
}

/** Cloud cells across the source's width; the map repeats sideways every CLOUD_PERIOD cells. */
const CLOUD_CELLS_ACROSS = 3;
const CLOUD_PERIOD = 6;
const CLOUD_TEXELS = 96;

interface CloudMap {
  /** How cloudy (0..1), texel by texel, over the upper half of the picture. */
  cover: Float32Array;
  /** The texel offset of row v (0..0.5) and of column position p (in cells, any value). */
  row: (v: number) => number;
  column: (p: number) => number;
}

/** Clouds, worked out once a clip: two octaves of noise that wrap sideways, so they drift forever. */
function cloudMap(seed: number): CloudMap {
  const across = CLOUD_PERIOD * CLOUD_TEXELS;
  const cellsDown = 3;
  const down = cellsDown * CLOUD_TEXELS;
  const coarse = periodicNoise(seed, CLOUD_PERIOD);
  const fine = periodicNoise(seed ^ 0x5bd1e995, CLOUD_PERIOD * 2);
  const cover = new Float32Array(across * down);
  for (let j = 0; j < down; j++) {
    for (let i = 0; i < across; i++) {
      const u = i / CLOUD_TEXELS;
      const v = j / CLOUD_TEXELS;
      const n = coarse(u, v) * 0.6 + fine(u * 2, v * 2 + 7) * 0.4;
      const shape = Math.min(1, Math.max(0, (n - 0.52) / 0.22));
      cover[j * across + i] = shape * shape;
    }
  }
  return {
    cover,
    row: (v) => Math.min(down - 1, Math.max(0, Math.floor((v / 0.5) * down))) * across,
    column: (p) => {
      const wrapped = (((p % CLOUD_PERIOD) + CLOUD_PERIOD) % CLOUD_PERIOD) * CLOUD_TEXELS;
      return Math.min(across - 1, Math.floor(wrapped));
    },
  };
}

/** Value noise (0..1) that repeats every `period` cells sideways. */
function periodicNoise(seed: number, period: number): (u: number, v: number) => number {
  const random = mulberry32(seed);
  const rows = 64;
  const values = Float32Array.from({ length: period * rows }, () => random());
  const at = (i: number, j: number) =>
    values[(((j % rows) + rows) % rows) * period + (((i % period) + period) % period)] ?? 0;
  return latticeNoise(at);
}

/** The VP8 key frame inside a simple lossy WebP (RIFF "WEBP" holding a "VP8 " chunk). */
export function vp8Payload(webp: Buffer): Buffer {
  if (webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') {
    throw new Error('sharp did not produce a WebP');
  }
  for (let at = 12; at + 8 <= webp.length; ) {
    const fourcc = webp.toString('latin1', at, at + 4);
    const size = webp.readUInt32LE(at + 4);
    if (fourcc === 'VP8 ') return webp.subarray(at + 8, at + 8 + size);
    // Chunks are padded to an even length.
    at += 8 + size + (size % 2);
  }
  throw new Error('The WebP holds no lossy VP8 frame');
}

// Matroska element ids (with their length marker bits), as the WebM spec numbers them.
const EBML = 0x1a45dfa3;
const EBML_VERSION = 0x4286;
const EBML_READ_VERSION = 0x42f7;
const EBML_MAX_ID_LENGTH = 0x42f2;
const EBML_MAX_SIZE_LENGTH = 0x42f3;
const DOC_TYPE = 0x4282;
const DOC_TYPE_VERSION = 0x4287;
const DOC_TYPE_READ_VERSION = 0x4285;
const SEGMENT = 0x18538067;
const SEEK_HEAD = 0x114d9b74;
const SEEK = 0x4dbb;
const SEEK_ID = 0x53ab;
const SEEK_POSITION = 0x53ac;
const INFO = 0x1549a966;
const TIMECODE_SCALE = 0x2ad7b1;
const DURATION = 0x4489;
const MUXING_APP = 0x4d80;
const WRITING_APP = 0x5741;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_NUMBER = 0xd7;
const TRACK_UID = 0x73c5;
const TRACK_TYPE = 0x83;
const FLAG_LACING = 0x9c;
const DEFAULT_DURATION = 0x23e383;
const CODEC_ID = 0x86;
const VIDEO = 0xe0;
const PIXEL_WIDTH = 0xb0;
const PIXEL_HEIGHT = 0xba;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const CUES = 0x1c53bb6b;
const CUE_POINT = 0xbb;
const CUE_TIME = 0xb3;
const CUE_TRACK_POSITIONS = 0xb7;
const CUE_TRACK = 0xf7;
const CUE_CLUSTER_POSITION = 0xf1;

/** Timecodes count milliseconds. */
const TIMECODE_SCALE_NS = 1_000_000;
/** A cluster a second: cues to seek by, and block timecodes well inside their 16 bits. */
const FRAMES_PER_CLUSTER = CLIP_FPS;

/**
 * A WebM of VP8 key frames at `fps`: EBML header, then a Segment of known size holding a
 * SeekHead, Info (with the Duration), Tracks (one video track), a Cluster a second of
 * SimpleBlocks, and Cues pointing at each Cluster.
 */
export function muxWebm(frames: readonly Buffer[], width: number, height: number, fps: number): Buffer {
  const header = element(EBML, [
    uint(EBML_VERSION, 1),
    uint(EBML_READ_VERSION, 1),
    uint(EBML_MAX_ID_LENGTH, 4),
    uint(EBML_MAX_SIZE_LENGTH, 8),
    text(DOC_TYPE, 'webm'),
    // SimpleBlock needs DocType version 2.
    uint(DOC_TYPE_VERSION, 2),
    uint(DOC_TYPE_READ_VERSION, 2),
  ]);
  const timeOf = (i: number) => Math.round((i * 1000) / fps);
  const info = element(INFO, [
    uint(TIMECODE_SCALE, TIMECODE_SCALE_NS),
    float(DURATION, (frames.length * 1000) / fps),
    text(MUXING_APP, 'mj-studio simulator'),
    text(WRITING_APP, 'mj-studio simulator'),
  ]);
  const tracks = element(TRACKS, [
    element(TRACK_ENTRY, [
      uint(TRACK_NUMBER, 1),
      uint(TRACK_UID, 1),
      uint(TRACK_TYPE, 1),
      uint(FLAG_LACING, 0),
      uint(DEFAULT_DURATION, Math.round(1e9 / fps)),
      text(CODEC_ID, 'V_VP8'),
      element(VIDEO, [uint(PIXEL_WIDTH, width), uint(PIXEL_HEIGHT, height)]),
    ]),
  ]);
  const clusters: { time: number; bytes: Buffer }[] = [];
  for (let start = 0; start < frames.length; start += FRAMES_PER_CLUSTER) {
    const time = timeOf(start);
    const blocks = frames.slice(start, start + FRAMES_PER_CLUSTER).map((frame, k) => {
      const head = Buffer.alloc(4);
      head[0] = 0x81; // track 1, as a one-byte size
      head.writeInt16BE(timeOf(start + k) - time, 1);
      head[3] = 0x80; // a key frame
      return element(SIMPLE_BLOCK, [head, frame]);
    });
    clusters.push({ time, bytes: element(CLUSTER, [uint(TIMECODE, time), ...blocks]) });
  }
  // Positions count from the Segment's payload; a fixed-width SeekHead lets them be known first.
  const seekHead = (positions: [number, number, number]) =>
    element(SEEK_HEAD, [seekEntry(INFO, positions[0]), seekEntry(TRACKS, positions[1]), seekEntry(CUES, positions[2])]);
  const seekLength = seekHead([0, 0, 0]).length;
  const infoAt = seekLength;
  const tracksAt = infoAt + info.length;
  let at = tracksAt + tracks.length;
  const cuePoints: Buffer[] = [];
  for (const cluster of clusters) {
    cuePoints.push(
      element(CUE_POINT, [
        uint(CUE_TIME, cluster.time),
        element(CUE_TRACK_POSITIONS, [uint(CUE_TRACK, 1), uint(CUE_CLUSTER_POSITION, at)]),
      ]),
    );
    at += cluster.bytes.length;
  }
  const cues = element(CUES, cuePoints);
  const segment = element(SEGMENT, [
    seekHead([infoAt, tracksAt, at]),
    info,
    tracks,
    ...clusters.map((cluster) => cluster.bytes),
    cues,
  ]);
  return Buffer.concat([header, segment]);
}

function seekEntry(id: number, position: number): Buffer {
  return element(SEEK, [element(SEEK_ID, [idBytes(id)]), uint(SEEK_POSITION, position, 8)]);
}

function idBytes(id: number): Buffer {
  const length = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const bytes = Buffer.alloc(length);
  bytes.writeUIntBE(id, 0, length);
  return bytes;
}

/** An EBML variable-length size: the shortest that holds it (all ones would mean "unknown"). */
function sizeBytes(size: number): Buffer {
  let length = 1;
  while (length < 8 && size >= 2 ** (7 * length) - 1) length++;
  const bytes = Buffer.alloc(length);
  let rest = size;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  bytes[0] = (bytes[0] ?? 0) | (0x80 >> (length - 1));
  return bytes;
}

function element(id: number, children: readonly Buffer[]): Buffer {
  const payload = Buffer.concat(children);
  return Buffer.concat([idBytes(id), sizeBytes(payload.length), payload]);
}

/** An unsigned integer element, in as few bytes as it needs (or exactly `width`). */
function uint(id: number, value: number, width?: number): Buffer {
  let length = width ?? 1;
  if (width === undefined) while (length < 8 && value >= 2 ** (8 * length)) length++;
  const bytes = Buffer.alloc(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return element(id, [bytes]);
}

function float(id: number, value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value);
  return element(id, [bytes]);
}

function text(id: number, value: string): Buffer {
  return element(id, [Buffer.from(value, 'utf8')]);
}
