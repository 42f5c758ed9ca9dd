// The pictures of Midjourney's actions on an image: zoom keeps the source shrunk in the centre,
// pan keeps it on one side, a region repaint keeps everything outside its mask, upscales and
// variations change as much as they say, and a missing parent still paints.
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { expect, test } from 'vitest';
import type { SimJobView } from '../../server/src/simulator/engine';
import { renderGrid, renderLandscape } from '../../server/src/simulator/image';
import { imageRaster, renderPicture } from '../../server/src/simulator/picture';
import type { SimEdit } from '../../server/src/simulator/sim-store';

const SCALE = 0.5;

interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A set of finished jobs and the lookup the renderer walks parents through. */
function studio() {
  const jobs = new Map<string, SimJobView>();
  let count = 0;
  const add = (fields: Partial<SimJobView>): SimJobView => {
    count += 1;
    const job: SimJobView = {
      id: `job${count}`,
      status: 'complete',
      progress: 100,
      prompt: 'alpine lake at dawn',
      aspectRatio: '1:1',
      quality: 'standard',
      kind: 'IMAGINE',
      grid: false,
      seed: `seed${count}`,
      startsAt: 0,
      endsAt: 1,
      ...fields,
    };
    jobs.set(job.id, job);
    return job;
  };
  const lookup = (id: string) => jobs.get(id);
  const grid = add({ grid: true });
  // The plain U of tile 2, as the engine makes it today.
  const single = add({ kind: 'UPSCALE', parentId: grid.id, seed: `${grid.seed}#2` });
  const edit = (edit: SimEdit, fields: Partial<SimJobView> = {}) =>
    add({ kind: 'VARIATION', grid: true, parentId: single.id, edit, ...fields });
  const picture = (job: SimJobView, scale = SCALE): PNG => PNG.sync.read(renderPicture(job, lookup, scale));
  return { add, lookup, grid, single, edit, picture };
}

function crop(image: Pixels, left: number, top: number, width: number, height: number): Pixels {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const start = ((top + y) * image.width + left) * 4;
    data.set(image.data.subarray(start, start + width * 4), y * width * 4);
  }
  return { width, height, data };
}

/** Tile n (1-4) of a grid picture. */
function tile(grid: Pixels, n: number): Pixels {
  const width = grid.width / 2;
  const height = grid.height / 2;
  return crop(grid, ((n - 1) % 2) * width, Math.floor((n - 1) / 2) * height, width, height);
}

async function resized(image: Pixels, width: number, height: number): Promise<Pixels> {
  const data = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 4 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data };
}

/** Mean absolute difference per colour channel (0..255), where `keep` (if given) says so. */
function difference(a: Pixels, b: Pixels, keep: (x: number, y: number) => boolean = () => true): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (!keep(x, y)) continue;
      const i = (y * a.width + x) * 4;
      for (let c = 0; c < 3; c++) sum += Math.abs((a.data[i + c] ?? 0) - (b.data[i + c] ?? 0));
      n += 3;
    }
  }
  return sum / n;
}

/** Pearson correlation of the two pictures' brightness: 1 for the same composition. */
function correlation(a: Pixels, b: Pixels): number {
  const brightness = (image: Pixels) =>
    Array.from({ length: image.width * image.height }, (_, i) => {
      const o = i * 4;
      return (image.data[o] ?? 0) + (image.data[o + 1] ?? 0) + (image.data[o + 2] ?? 0);
    });
  const [x, y] = [brightness(a), brightness(b)];
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const [mx, my] = [mean(x), mean(y)];
  let [sxy, sxx, syy] = [0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    const dx = (x[i] ?? 0) - mx;
    const dy = (y[i] ?? 0) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function maskPng(width: number, height: number, white: (x: number, y: number) => boolean): string {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const value = white(x, y) ? 255 : 0;
      png.data.fill(value, o, o + 3);
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png).toString('base64');
}

test('a job without an edit paints exactly what the grid and landscape painters paint', () => {
  const { grid, single, lookup } = studio();
  const look = (job: SimJobView) => ({ seed: job.seed, wobble: job.wobble, style: job.style });

  const gridPng = renderPicture(grid, lookup, SCALE);
  const singlePng = renderPicture(single, lookup, SCALE);

  expect(gridPng.equals(renderGrid(grid.prompt, '1:1', 'standard', SCALE, look(grid)))).toBe(true);
  expect(singlePng.equals(renderLandscape(single.prompt, '1:1', 'standard', SCALE, look(single)))).toBe(true);
});

test('zoom out keeps the source in the centre, shrunk by the factor, with a border of its own in each tile', async () => {
  const { edit, single, picture } = studio();
  const zoom = edit({ op: 'zoom', factor: 2 }, { kind: 'ZOOM' });
  const source = picture(single);

  const grid = picture(zoom);

  const [first, second] = [tile(grid, 1), tile(grid, 2)];
  const inner = Math.round(first.width / 2);
  const at = Math.floor((first.width - inner) / 2);
  const shrunk = await resized(source, inner, inner);
  expect(difference(crop(first, at, at, inner, inner), shrunk)).toBeLessThan(4);
  expect(difference(crop(second, at, at, inner, inner), shrunk)).toBeLessThan(4);
  const border = (x: number, y: number) => x < at - 4 || y < at - 4 || x >= at + inner + 4 || y >= at + inner + 4;
  expect(difference(first, second, border)).toBeGreaterThan(3);
  expect([grid.width, grid.height]).toEqual([source.width, source.height]);
});

test('a custom zoom of 1.5 shrinks the source by 1.5', async () => {
  const { edit, single, picture } = studio();
  const zoom = edit({ op: 'zoom', factor: 1.5 }, { kind: 'ZOOM' });
  const source = picture(single);

  const first = tile(picture(zoom), 1);

  const inner = Math.round(first.width / 1.5);
  const at = Math.floor((first.width - inner) / 2);
  expect(difference(crop(first, at, at, inner, inner), await resized(source, inner, inner))).toBeLessThan(4);
});

test('pan right keeps the source pixel for pixel on the left and paints new scenery, its own in each tile, on the right', () => {
  const { edit, single, picture, lookup } = studio();
  const pan = edit({ op: 'pan', direction: 'right' }, { kind: 'PAN', aspectRatio: '3:2' });

  const grid = picture(pan);

  const [first, second] = [tile(grid, 1), tile(grid, 2)];
  expect(first.width / first.height).toBeCloseTo(1.5, 1);
  const kept = first.height;
  const source = imageRaster(single, lookup, kept, first.height);
  expect(Buffer.from(crop(first, 0, 0, kept, first.height).data).equals(source.data)).toBe(true);
  expect(Buffer.from(crop(second, 0, 0, kept, first.height).data).equals(source.data)).toBe(true);
  const far = (x: number) => x >= kept + (first.width - kept) / 2;
  expect(difference(first, second, far)).toBeGreaterThan(2);
  // Continued, not copied: the new side is not the source's picture again.
  const newSide = crop(first, first.width - kept, 0, kept, first.height);
  expect(difference(newSide, crop(first, 0, 0, kept, first.height))).toBeGreaterThan(5);
});

test('pan up keeps the source at the bottom and extends the picture upwards', () => {
  const { edit, single, picture, lookup } = studio();
  const pan = edit({ op: 'pan', direction: 'up' }, { kind: 'PAN', aspectRatio: '2:3' });

  const first = tile(picture(pan), 1);

  const kept = first.width;
  const source = imageRaster(single, lookup, first.width, kept);
  const bottom = crop(first, 0, first.height - kept, first.width, kept);
  expect(Buffer.from(bottom.data).equals(source.data)).toBe(true);
});

test('a region repaint keeps every pixel outside the mask and repaints inside it, whatever the mask size', () => {
  const { edit, single, picture, lookup } = studio();
  const inside = (x: number, y: number) => x >= 25 && x < 75 && y >= 30 && y < 70;
  const region = edit(
    { op: 'region', mask: maskPng(100, 100, inside) },
    { kind: 'INPAINT', prompt: 'desert canyon at night' },
  );

  const grid = picture(region);

  for (const n of [1, 2, 3, 4]) {
    const repainted = tile(grid, n);
    const source = imageRaster(single, lookup, repainted.width, repainted.height);
    const toMask = (x: number, y: number): [number, number] => [
      ((x + 0.5) * 100) / repainted.width,
      ((y + 0.5) * 100) / repainted.height,
    ];
    const outside = (x: number, y: number) => !inside(...toMask(x, y));
    // Past the soft edge (a few pixels, 3 mask units here) the repaint is whole.
    const deepInside = (x: number, y: number) => {
      const [mx, my] = toMask(x, y);
      return mx >= 28 && mx < 72 && my >= 33 && my < 67;
    };
    expect(difference(repainted, { ...source, data: source.data }, outside)).toBe(0);
    expect(difference(repainted, { ...source, data: source.data }, deepInside)).toBeGreaterThan(15);
  }
});

test('an unreadable mask repaints nothing', () => {
  const { edit, single, picture, lookup } = studio();
  const region = edit({ op: 'region', mask: Buffer.from('not a png').toString('base64') }, { kind: 'INPAINT' });

  const first = tile(picture(region), 1);

  const source = imageRaster(single, lookup, first.width, first.height);
  expect(Buffer.from(first.data).equals(source.data)).toBe(true);
});

test('a subtle upscale doubles the size and keeps the picture; a creative one changes details but not the composition', async () => {
  const { edit, single, picture } = studio();
  const subtle = edit({ op: 'upscale', mode: 'subtle' }, { kind: 'UPSCALE', grid: false });
  const creative = edit({ op: 'upscale', mode: 'creative' }, { kind: 'UPSCALE', grid: false });
  const source = picture(single, 0.25);

  const [sharper, reimagined] = [picture(subtle, 0.25), picture(creative, 0.25)];

  expect([sharper.width, sharper.height]).toEqual([source.width * 2, source.height * 2]);
  const scaledUp = await resized(source, sharper.width, sharper.height);
  const [near, further] = [difference(sharper, scaledUp), difference(reimagined, scaledUp)];
  expect(near).toBeLessThan(4);
  expect(further).toBeGreaterThan(near * 2);
  expect(further).toBeGreaterThan(5);
  expect(correlation(reimagined, scaledUp)).toBeGreaterThan(0.8);
});

test('a strong variation differs from its source more than a subtle one, and each tile its own way', () => {
  const { edit, single, picture, lookup } = studio();
  const subtle = picture(edit({ op: 'vary', strength: 'subtle' }));
  const strong = picture(edit({ op: 'vary', strength: 'strong' }));

  const away = (grid: PNG) =>
    [1, 2, 3, 4].map((n) => {
      const varied = tile(grid, n);
      return difference(varied, { ...imageRaster(single, lookup, varied.width, varied.height) });
    });

  const [small, large] = [away(subtle), away(strong)];
  expect(Math.max(...small)).toBeLessThan(Math.min(...large));
  expect(Math.min(...small)).toBeGreaterThan(0.5);
  expect(difference(tile(strong, 1), tile(strong, 2))).toBeGreaterThan(3);
});

test('a plain upscale of an edited grid shows the tile it names, painted at the full size', async () => {
  const { add, edit, picture } = studio();
  const zoom = edit({ op: 'zoom', factor: 2 }, { kind: 'ZOOM' });
  const upscale = add({ kind: 'UPSCALE', parentId: zoom.id, sourceTile: 3 });
  const grid = picture(zoom);

  const image = picture(upscale);

  expect([image.width, image.height]).toEqual([grid.width, grid.height]);
  const [third, first] = [tile(grid, 3), tile(grid, 1)];
  const shrunk = await resized(image, third.width, third.height);
  expect(difference(shrunk, third)).toBeLessThan(4);
  expect(difference(shrunk, first)).toBeGreaterThan(difference(shrunk, third) + 1);
});

test('an edit of an edit works from the edited picture', () => {
  const { add, edit, picture, lookup } = studio();
  const zoom = edit({ op: 'zoom', factor: 2 }, { kind: 'ZOOM' });
  const pan = add({
    kind: 'PAN',
    grid: true,
    aspectRatio: '3:2',
    parentId: zoom.id,
    sourceTile: 4,
    edit: { op: 'pan', direction: 'left' },
  });

  const first = tile(picture(pan), 1);

  const kept = first.height;
  const source = imageRaster(zoom, lookup, kept, kept, 4);
  expect(Buffer.from(crop(first, first.width - kept, 0, kept, kept).data).equals(source.data)).toBe(true);
});

test('an action whose parent is forgotten paints its own prompt instead of failing', () => {
  const { add } = studio();
  const orphan = add({ kind: 'ZOOM', grid: true, parentId: 'forgotten', edit: { op: 'zoom', factor: 2 } });
  const video = add({ kind: 'VIDEO', parentId: 'forgotten', edit: { op: 'animate', motion: 'low', seconds: 5 } });
  const lookup = (id: string) => (id === orphan.id ? orphan : id === video.id ? video : undefined);

  const zoomed = PNG.sync.read(renderPicture(orphan, lookup, SCALE));
  const poster = PNG.sync.read(renderPicture(video, lookup, SCALE));

  expect([zoomed.width, zoomed.height]).toEqual([384, 384]);
  expect([poster.width, poster.height]).toEqual([384, 384]);
});

test('a cycle of parents ends at the depth guard and still paints', () => {
  const { add, lookup } = studio();
  const a = add({ kind: 'VARIATION', grid: true, parentId: 'job-b', edit: { op: 'vary', strength: 'subtle' } });
  add({ id: 'job-b', kind: 'UPSCALE', parentId: a.id, edit: { op: 'upscale', mode: 'subtle' } });

  const png = PNG.sync.read(renderPicture(a, lookup, 0.1));

  expect(png.width).toBeGreaterThan(0);
});

test("a clip's picture is its poster: the image it starts from", () => {
  const { add, single, picture } = studio();
  const video = add({ kind: 'VIDEO', parentId: single.id, edit: { op: 'animate', motion: 'high', seconds: 5 } });

  const poster = picture(video);

  expect(difference(poster, picture(single))).toBe(0);
});
