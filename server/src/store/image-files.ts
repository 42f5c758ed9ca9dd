// Result images (and video clips, and Vary (Region) masks) kept as files beside the database, so the gallery never depends on an
// upstream link staying alive. Writes are atomic (temp file of a random name, then rename); the
// temp files a crash left mid-save are removed when the folder is opened at start-up (in a
// folder several instances share, only those old enough that no live save can own them).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_NAME_PATTERN } from '@shared/schemas/job';

const SIGNATURES: { ext: ImageExt; type: string; test: (bytes: Uint8Array) => boolean }[] = [
  {
    ext: 'png',
    type: 'image/png',
    test: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((byte, i) => b[i] === byte),
  },
  { ext: 'jpg', type: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    ext: 'webp',
    type: 'image/webp',
    test: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP',
  },
  { ext: 'gif', type: 'image/gif', test: (b) => ['GIF87a', 'GIF89a'].includes(ascii(b, 0, 6)) },
];

type ImageExt = 'png' | 'jpg' | 'webp' | 'gif';
export type VideoExt = 'webm' | 'mp4';

const MP4_BRANDS: ReadonlySet<string> = new Set([
  'isom',
  'iso2',
  'iso4',
  'iso5',
  'iso6',
  'mp41',
  'mp42',
  'avc1',
  'dash',
  'M4V ',
  'msnv',
]);

const VIDEO_SIGNATURES: { ext: VideoExt; type: string; test: (bytes: Uint8Array) => boolean }[] = [
  // Matroska/WebM: the EBML header's id.
  { ext: 'webm', type: 'video/webm', test: (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3 },
  // MP4: a first box of type ftyp whose major brand is a video one (AVIF, HEIC and JPEG 2000
  // start with ftyp too).
  { ext: 'mp4', type: 'video/mp4', test: (b) => ascii(b, 4, 8) === 'ftyp' && MP4_BRANDS.has(ascii(b, 8, 12)) },
];

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.subarray(start, end)).toString('latin1');
}

/** Identifies a raster image by its magic bytes, whatever the sender claimed it was. */
export function sniffImage(bytes: Uint8Array): { ext: ImageExt; type: string } | undefined {
  if (bytes.length < 12) return undefined;
  const match = SIGNATURES.find((signature) => signature.test(bytes));
  return match ? { ext: match.ext, type: match.type } : undefined;
}

/** Identifies a video clip (WebM or MP4) by its magic bytes. */
export function sniffVideo(bytes: Uint8Array): { ext: VideoExt; type: string } | undefined {
  if (bytes.length < 12) return undefined;
  const match = VIDEO_SIGNATURES.find((signature) => signature.test(bytes));
  return match ? { ext: match.ext, type: match.type } : undefined;
}

export function contentTypeFor(name: string): string {
  const ext = path.extname(name).slice(1);
  return (
    [...SIGNATURES, ...VIDEO_SIGNATURES].find((signature) => signature.ext === ext)?.type ?? 'application/octet-stream'
  );
}

/** `.<image name>.<12 hex digits>.tmp`: where an image is written before it is renamed into place. */
const temporaryName = (name: string) => `.${name}.${randomBytes(6).toString('hex')}.tmp`;
const TEMPORARY_PATTERN = /^\.[A-Za-z0-9_-]{1,128}\.(png|jpg|webp|gif|webm|mp4)\.[0-9a-f]{12}\.tmp$/;
/** A kept file's name: a job's id (or `<id>-mask`) and its type. */
const FILE_PATTERN = /^[A-Za-z0-9_-]{1,140}\.(png|jpg|webp|gif|webm|mp4)$/;

/** In a shared folder, a temp file this old is a crash's leftover (a save takes seconds). */
const SHARED_LEFTOVER_AGE_MS = 60 * 60 * 1000;

export class ImageFiles {
  readonly dir: string;

  /**
   * Opens (creating) the folder. `shared`: other instances use it too, so a recent temp file
   * may be one of their saves in progress; otherwise any temp file is a crash's leftover.
   */
  constructor(dir: string, options: { shared?: boolean } = {}) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    const before = Date.now() - SHARED_LEFTOVER_AGE_MS;
    for (const entry of readdirSync(dir)) {
      if (!TEMPORARY_PATTERN.test(entry)) continue;
      const file = path.join(dir, entry);
      if (options.shared && (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0) > before) continue;
      rmSync(file, { force: true });
    }
  }

  async save(jobId: string, bytes: Uint8Array, ext: ImageExt | VideoExt): Promise<string> {
    const name = `${jobId}.${ext}`;
    const temporary = path.join(this.dir, temporaryName(name));
    try {
      await writeFile(temporary, bytes, { flag: 'wx' });
      await rename(temporary, path.join(this.dir, name));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return name;
  }

  /** The absolute path of a stored image or clip; the name must match the strict pattern. */
  pathOf(name: string): string {
    if (!IMAGE_NAME_PATTERN.test(name) && !FILE_PATTERN.test(name)) throw new Error(`Not a kept file's name: ${name}`);
    return path.join(this.dir, name);
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }
}
