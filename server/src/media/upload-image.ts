// Images users upload: decides from the bytes alone whether they are a PNG, JPEG or WebP we
// accept, refuses oversized ones from their header before a pixel is decoded, and makes the copy
// we keep (oriented as the user saw it, re-encoded with no metadata: no GPS leaves with a photo).
import type { Metadata, Sharp, SharpConstructor } from 'sharp';
import { DomainError } from '../errors';

export interface UploadLimits {
  /** The most bytes an upload may have; the HTTP layer bounds the body too, this is the second line. */
  maxBytes: number;
  /** The most pixels (width × height) the header may declare: what bounds the memory a decode takes. */
  maxPixels: number;
  /** The longest side, in pixels. */
  maxSide: number;
  /** The shortest side, in pixels: anything smaller is no picture worth keeping. */
  minSide: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 10_000,
  minSide: 16,
};

export interface CheckedUpload {
  /** The kept copy: re-encoded in the uploaded format, auto-oriented, 8-bit sRGB, without metadata. */
  body: Buffer;
  contentType: 'image/png' | 'image/jpeg' | 'image/webp';
  extension: 'png' | 'jpg' | 'webp';
  /** Of the kept copy, after orientation. */
  width: number;
  height: number;
}

interface UploadFormat {
  /** The magic bytes, the same test as store/image-files.ts's sniffImage (which also knows GIF). */
  matches: (bytes: Buffer) => boolean;
  contentType: CheckedUpload['contentType'];
  extension: CheckedUpload['extension'];
  /** The name sharp's header reader gives the format; it must agree with our own reading of the bytes. */
  decoder: 'png' | 'jpeg' | 'webp';
  label: string;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Our own three signatures rather than sniffImage: importing the image store would bring the job
// schema along, and sharp's header reader confirms the format independently below.
const FORMATS: readonly UploadFormat[] = [
  {
    matches: (b) => b.subarray(0, 8).equals(PNG_SIGNATURE),
    contentType: 'image/png',
    extension: 'png',
    decoder: 'png',
    label: 'PNG',
  },
  {
    matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
    contentType: 'image/jpeg',
    extension: 'jpg',
    decoder: 'jpeg',
    label: 'JPEG',
  },
  {
    matches: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
    contentType: 'image/webp',
    extension: 'webp',
    decoder: 'webp',
    label: 'WebP',
  },
];

const ACCEPTED = 'Only PNG, JPEG and WebP images are accepted';

/**
 * Throws `DomainError('invalid', …, { field: 'file' })` for anything but a still PNG, JPEG or
 * WebP within `limits`; returns the copy to keep otherwise. A name or a Content-Type is never
 * asked for: the bytes are all that decide.
 */
export async function checkUpload(body: Buffer, limits: UploadLimits): Promise<CheckedUpload> {
  if (body.length > limits.maxBytes) {
    throw invalid(`The image is larger than ${megabytes(limits.maxBytes)} MB, the most we accept`);
  }
  if (body.length === 0) throw invalid(`The file is empty. ${ACCEPTED}`);
  // Twelve bytes hold every signature; anything shorter is no image of any kind.
  const format = body.length >= 12 ? FORMATS.find((candidate) => candidate.matches(body)) : undefined;
  if (!format) throw invalid(`${ACCEPTED}; this file is none of them`);
  // An APNG's animation lives in chunks sharp ignores; it is refused like an animated WebP.
  if (format.decoder === 'png' && isAnimatedPng(body)) throw animated();

  const sharp = await loadSharp();
  return inTurn(() => keepCopy(sharp, body, format, limits));
}

async function keepCopy(
  sharp: SharpConstructor,
  body: Buffer,
  format: UploadFormat,
  limits: UploadLimits,
): Promise<CheckedUpload> {
  let header: Metadata;
  try {
    // Headers only, no pixel decoded: the pixel limit is lifted here so that the declared size is
    // learnt and the limit it breaks can be named; the decode below keeps the limit on.
    header = await sharp(body, { limitInputPixels: false }).metadata();
  } catch {
    throw unreadable(format);
  }
  if (header.format !== format.decoder) throw unreadable(format);
  checkSize(header.width, header.height, limits);
  // Keeping the first frame would keep a picture the user never saw alone; they choose the frame.
  if ((header.pages ?? 1) > 1) throw animated();

  const decoder = sharp(body, {
    // The pixel limit again, in case the header read above and the decoder disagree.
    limitInputPixels: limits.maxPixels,
    // 'error' refuses truncated and corrupt data; 'warning' would also refuse the many camera
    // JPEGs with harmless slips (extraneous bytes before a marker) that every viewer shows.
    failOn: 'error',
    autoOrient: true,
  });
  try {
    // No keepMetadata/withMetadata: sharp writes no EXIF, XMP, IPTC, ICC or text, and converts
    // to sRGB, so an embedded profile's colours survive in the pixels rather than as metadata.
    const { data, info } = await encode(decoder, format, body).toBuffer({ resolveWithObject: true });
    return {
      body: data,
      contentType: format.contentType,
      extension: format.extension,
      width: info.width,
      height: info.height,
    };
  } catch {
    throw unreadable(format);
  }
}

function encode(decoder: Sharp, format: UploadFormat, body: Buffer): Sharp {
  // Quality 90: a re-encode loses a little each time, and this copy is the only one we keep.
  switch (format.decoder) {
    case 'png':
      return decoder.png();
    case 'jpeg':
      return decoder.jpeg({ quality: 90 });
    case 'webp':
      return decoder.webp(isLosslessWebp(body) ? { lossless: true } : { quality: 90 });
  }
}

/** The side limits first (the plainest to act on), then the pixel count, then the smallest side. */
function checkSize(width: number, height: number, limits: UploadLimits): void {
  const size = `${width} × ${height} pixels`;
  if (Math.max(width, height) > limits.maxSide) {
    throw invalid(`The image is ${size}; no side may be longer than ${count(limits.maxSide)} pixels`);
  }
  if (width * height > limits.maxPixels) {
    throw invalid(`The image is ${size}; the most we accept is ${count(limits.maxPixels)} pixels in all`);
  }
  if (Math.min(width, height) < limits.minSide) {
    throw invalid(`The image is ${size}; each side must be at least ${count(limits.minSide)} pixels`);
  }
}

/** Walks the chunks before the image data: an `acTL` there is what makes a PNG animated. */
function isAnimatedPng(body: Buffer): boolean {
  let offset = 8;
  while (offset + 8 <= body.length) {
    const type = body.toString('latin1', offset + 4, offset + 8);
    if (type === 'acTL') return true;
    if (type === 'IDAT') return false;
    offset += 12 + body.readUInt32BE(offset);
  }
  return false;
}

/** A lossless WebP (a `VP8L` image chunk, simple or extended) stays lossless in the kept copy. */
function isLosslessWebp(body: Buffer): boolean {
  let offset = 12;
  while (offset + 8 <= body.length) {
    const type = body.toString('latin1', offset, offset + 4);
    if (type === 'VP8L') return true;
    if (type === 'VP8 ') return false;
    // RIFF chunks are padded to an even length.
    const size = body.readUInt32LE(offset + 4);
    offset += 8 + size + (size % 2);
  }
  return false;
}

let loading: Promise<SharpConstructor> | undefined;

/** sharp and libvips cost tens of MB resident: a server that never sees an upload never pays. */
function loadSharp(): Promise<SharpConstructor> {
  loading ??= import('sharp').then(
    ({ default: loaded }) => {
      // Each upload is decoded once, so libvips' operation cache (50 MB by default) would only
      // hold users' pixels in memory, with no second use to show for it.
      loaded.cache(false);
      // One thread per image: uploads run side by side (DECODES_AT_ONCE), and one upload is
      // not worth every core while the event loop answers everyone else.
      loaded.concurrency(1);
      return loaded;
    },
    (error: unknown) => {
      // A failed load is a deployment bug, not the user's input: let a later upload retry it.
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * Uploads decoded at once, process-wide. Auto-orienting needs the whole decoded image (up to
 * maxPixels × 4 bytes), and sharp runs on libuv's four-thread pool, which file and DNS calls
 * share: two at a time bounds the memory and leaves the pool room. The rest wait their turn.
 */
const DECODES_AT_ONCE = 2;
let decoding = 0;
const waiting: (() => void)[] = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (decoding < DECODES_AT_ONCE) decoding += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    // The slot passes straight to the next in line, so no newcomer can slip in between.
    const next = waiting.shift();
    if (next) next();
    else decoding -= 1;
  }
}

function invalid(message: string): DomainError {
  return new DomainError('invalid', message, { field: 'file' });
}

function unreadable(format: UploadFormat): DomainError {
  return invalid(`The file starts like a ${format.label} image but cannot be read: it is truncated or corrupt`);
}

function animated(): DomainError {
  return invalid('Animated images are not accepted: upload a still PNG, JPEG or WebP image');
}

function megabytes(bytes: number): string {
  return String(Math.round((bytes / (1024 * 1024)) * 10) / 10);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
