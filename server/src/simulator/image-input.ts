// What the simulator sees of the images it is sent (a relay's base64Array, describe's base64):
// each image's average colour and size, read with sharp (loaded only when an image comes),
// and the four prompts "describe" answers for an image, derived from what it sees.
import type { Rgb } from './image';

export interface SeenImage {
  color: [number, number, number];
  width: number;
  height: number;
}

const DATA_URL = /^data:image\/(?:png|jpeg|webp);base64,([A-Za-z0-9+/=\s]+)$/;

/** Reads data URLs (or bare base64) of PNG, JPEG or WebP images; undefined when any is not one. */
export async function seeImages(encoded: readonly string[]): Promise<SeenImage[] | undefined> {
  const { default: sharp } = await import('sharp');
  try {
    return await Promise.all(
      encoded.map(async (text) => {
        const base64 = DATA_URL.exec(text)?.[1] ?? text;
        const image = sharp(Buffer.from(base64, 'base64'), { limitInputPixels: 40_000_000, failOn: 'error' });
        const [{ channels }, meta] = await Promise.all([image.stats(), image.metadata()]);
        const [r, g, b] = channels.map((channel) => Math.round(channel.mean));
        const color: [number, number, number] = [r ?? 0, g ?? r ?? 0, b ?? r ?? 0];
        return { color, width: meta.width ?? 1, height: meta.height ?? 1 };
      }),
    );
  } catch {
    return undefined;
  }
}

/** The average of several colours (a blend's palette). */
export function averageColor(images: readonly SeenImage[]): [number, number, number] {
  const n = Math.max(1, images.length);
  const channel = (i: 0 | 1 | 2) => Math.round(images.reduce((sum, image) => sum + image.color[i], 0) / n);
  return [channel(0), channel(1), channel(2)];
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The image's shape as Midjourney writes it, reduced (1536x1024 is 3:2), kept within 1:4 and 4:1. */
function ratioOf(width: number, height: number): string {
  const w = Math.max(1, Math.min(width, height * 4));
  const h = Math.max(1, Math.min(height, width * 4));
  const d = gcd(w, h);
  const [rw, rh] = [w / d, h / d];
  // A ratio of odd pixel counts (1023x767) reduces to nothing readable: round to tenths.
  if (rw > 50 || rh > 50) return `${Math.round((w / h) * 10)}:10`.replace(/^(\d+)0:10$/, '$1:1');
  return `${rw}:${rh}`;
}

/** A word of the painter's moods for a colour, so that a description paints like its image. */
function moodOf([r, g, b]: Rgb): { mood: string; color: string } {
  const brightness = (r + g + b) / 3;
  if (brightness < 60) return { mood: 'night', color: 'deep blue' };
  if (r > g + 30 && r > b + 30) return { mood: 'sunset', color: r > 200 && g > 120 ? 'amber' : 'crimson' };
  if (g > r + 15 && g > b) return { mood: 'forest', color: 'emerald green' };
  if (r > b + 20 && g > b + 10) return { mood: 'desert', color: 'sand' };
  if (b > r + 20) return { mood: 'day', color: 'sky blue' };
  return { mood: 'dawn', color: 'pastel' };
}

/** Four candidate prompts for an image, numbered the way Discord's describe numbers them. */
export function describeImage(image: SeenImage): string {
  const { mood, color } = moodOf(image.color);
  const ar = ratioOf(image.width, image.height);
  const prompts = [
    `a ${mood} landscape of layered ridges under a ${color} sky, soft atmospheric light --ar ${ar}`,
    `${color} tones over a quiet ${mood} valley, minimalist matte painting --ar ${ar}`,
    `wide cinematic view of distant mountains at ${mood}, ${color} haze, film grain --ar ${ar}`,
    `dreamy ${color} horizon, ${mood} mood, layered hills, digital art --ar ${ar}`,
  ];
  return prompts.map((prompt, i) => `${i + 1}\uFE0F\u20E3 ${prompt}`).join('\n\n');
}
