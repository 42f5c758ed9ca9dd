import type { Job, JobAction } from '@shared/schemas/job';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { JobCard } from '@/features/jobs/components/job-card';
import type * as RegionMask from '@/features/jobs/utils/region-mask';
import { maskSize, nudgeBox, paintMask, type Shape, startingBox } from '@/features/jobs/utils/region-mask';
import { API, makeJob } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

// jsdom has no canvas. The mask is drawn through the few canvas calls region-mask.ts names;
// here they paint a raster of 0/1 pixels instead, and the "PNG" sent is that raster's summary,
// so a test reads from the request what the mask's white area was.
const raster = vi.hoisted(() => {
  class RasterPainter {
    fillStyle: string | CanvasGradient | CanvasPattern = '#000';
    strokeStyle: string | CanvasGradient | CanvasPattern = '#000';
    lineWidth = 1;
    lineCap: CanvasLineCap = 'butt';
    lineJoin: CanvasLineJoin = 'miter';
    readonly pixels: Uint8Array;
    private path: [number, number][] = [];
    private disc: [number, number, number] | undefined;

    constructor(
      readonly width: number,
      readonly height: number,
    ) {
      this.pixels = new Uint8Array(width * height);
    }

    private set(x: number, y: number) {
      if (x >= 0 && y >= 0 && x < this.width && y < this.height)
        this.pixels[y * this.width + x] = this.fillStyle === '#fff' ? 1 : 0;
    }

    fillRect(x: number, y: number, w: number, h: number) {
      for (let row = y; row < y + h; row += 1) for (let column = x; column < x + w; column += 1) this.set(column, row);
    }

    private paintDisc(cx: number, cy: number, radius: number) {
      for (let row = Math.floor(cy - radius); row <= cy + radius; row += 1) {
        for (let column = Math.floor(cx - radius); column <= cx + radius; column += 1) {
          if ((column + 0.5 - cx) ** 2 + (row + 0.5 - cy) ** 2 <= radius ** 2) this.set(column, row);
        }
      }
    }

    beginPath() {
      this.path = [];
      this.disc = undefined;
    }
    moveTo(x: number, y: number) {
      this.path.push([x, y]);
    }
    lineTo(x: number, y: number) {
      this.path.push([x, y]);
    }
    arc(x: number, y: number, radius: number) {
      this.disc = [x, y, radius];
    }
    fill() {
      if (this.disc) this.paintDisc(...this.disc);
    }
    /** A round-capped line: discs of its width along it, a pixel apart. */
    stroke() {
      const fill = this.fillStyle;
      this.fillStyle = this.strokeStyle;
      for (let i = 1; i < this.path.length; i += 1) {
        const [x1, y1] = this.path[i - 1] ?? [0, 0];
        const [x2, y2] = this.path[i] ?? [0, 0];
        const steps = Math.max(1, Math.ceil(Math.hypot(x2 - x1, y2 - y1)));
        for (let step = 0; step <= steps; step += 1) {
          this.paintDisc(x1 + ((x2 - x1) * step) / steps, y1 + ((y2 - y1) * step) / steps, this.lineWidth / 2);
        }
      }
      this.fillStyle = fill;
    }

    /** The white pixels: how many, and the box around them as [left, top, right, bottom). */
    summary() {
      let count = 0;
      const box = [this.width, this.height, 0, 0];
      this.pixels.forEach((value, at) => {
        if (!value) return;
        const [x, y] = [at % this.width, Math.floor(at / this.width)];
        count += 1;
        box[0] = Math.min(box[0] ?? x, x);
        box[1] = Math.min(box[1] ?? y, y);
        box[2] = Math.max(box[2] ?? x, x + 1);
        box[3] = Math.max(box[3] ?? y, y + 1);
      });
      return { width: this.width, height: this.height, white: count, box };
    }
  }
  return { RasterPainter };
});

vi.mock('@/features/jobs/utils/region-mask', async (importOriginal) => {
  const real = await importOriginal<typeof RegionMask>();
  return {
    ...real,
    renderMask: (shapes: readonly RegionMask.Shape[], image: RegionMask.Size) => {
      const size = real.maskSize(image);
      const painter = new raster.RasterPainter(size.width, size.height);
      real.paintMask(painter, shapes, image, size);
      return `data:image/png;base64,${btoa(JSON.stringify(painter.summary()))}`;
    },
  };
});

type MaskSummary = { width: number; height: number; white: number; box: number[] };

function readMask(body: unknown): MaskSummary {
  const mask = typeof body === 'object' && body !== null && 'mask' in body ? body.mask : undefined;
  if (typeof mask !== 'string' || !mask.startsWith('data:image/png;base64,')) throw new Error('No mask in the request');
  return JSON.parse(atob(mask.slice('data:image/png;base64,'.length)));
}

const offers: JobAction[] = ['vary_subtle', 'vary_region'];
const image: Job = makeJob('up1', {
  status: 'complete',
  output: 'image',
  prompt: 'a lighthouse at dusk',
  image_url: '/api/images/up1.png',
  aspect_ratio: '2:1',
  finished_at: new Date(Date.now()).toISOString(),
  available_actions: offers.map((action) => ({ action })),
});

function recordActions(): unknown[] {
  const sent: unknown[] = [];
  server.use(
    http.post(`${API}/jobs/up1/actions`, async ({ request }) => {
      sent.push(await request.json());
      return HttpResponse.json(makeJob('made1'), { status: 202 });
    }),
  );
  return sent;
}

/** Opens Vary (Region) on the card and lets its picture "load" at the given natural size. */
async function openEditor(user: ReturnType<typeof userEvent.setup>, natural = { width: 1600, height: 800 }) {
  renderWithClient(<JobCard job={image} onUseAgain={vi.fn()} />);
  await user.click(screen.getByRole('button', { name: 'Vary Region' }));
  const dialog = await screen.findByRole('dialog', { name: 'Vary (Region)' });
  const picture = within(dialog).getByRole('img', { name: 'a lighthouse at dusk' });
  Object.defineProperty(picture, 'naturalWidth', { value: natural.width });
  Object.defineProperty(picture, 'naturalHeight', { value: natural.height });
  fireEvent.load(picture);
  const surface = within(dialog).getByRole('application', { name: 'Area to repaint' });
  const submit = within(dialog).getByRole('button', { name: 'Submit' });
  return { dialog, surface, submit };
}

test('the mask is the image size, capped at 1024 on the long side in the same ratio, never enlarged', () => {
  const sizes = [
    maskSize({ width: 1600, height: 800 }),
    maskSize({ width: 1024, height: 4096 }),
    maskSize({ width: 800, height: 600 }),
  ];

  expect(sizes).toEqual([
    { width: 1024, height: 512 },
    { width: 256, height: 1024 },
    { width: 800, height: 600 },
  ]);
});

test('the keyboard box moves and resizes a twentieth of the image a step, and stays inside it', () => {
  const picture = { width: 1600, height: 800 };
  const start = startingBox(picture);
  let box = start;

  box = nudgeBox(box, 'ArrowRight', false, picture) ?? box;
  const moved = box;
  box = nudgeBox(box, 'ArrowDown', true, picture) ?? box;
  const taller = box;
  for (let step = 0; step < 30; step += 1) box = nudgeBox(box, 'ArrowLeft', false, picture) ?? box;
  const atEdge = box;
  for (let step = 0; step < 30; step += 1) box = nudgeBox(box, 'ArrowLeft', true, picture) ?? box;

  expect(start).toEqual({ x: 600, y: 300, width: 400, height: 200 });
  expect(moved).toEqual({ x: 680, y: 300, width: 400, height: 200 });
  expect(taller).toEqual({ x: 680, y: 300, width: 400, height: 240 });
  expect(atEdge.x).toBe(0);
  expect(box.width).toBe(80);
  expect(nudgeBox(box, 'a', false, picture)).toBeUndefined();
});

test('the mask is black with each box white, scaled to the mask', () => {
  const painter = new raster.RasterPainter(1024, 512);
  const shapes: Shape[] = [{ kind: 'box', x: 0, y: 0, width: 100, height: 50 }];

  paintMask(painter, shapes, { width: 2048, height: 1024 }, { width: 1024, height: 512 });

  expect(painter.summary()).toEqual({ width: 1024, height: 512, white: 50 * 25, box: [0, 0, 50, 25] });
});

test('a brush stroke paints a band as wide as the brush, round at its ends', () => {
  const painter = new raster.RasterPainter(100, 100);
  const shapes: Shape[] = [
    {
      kind: 'stroke',
      size: 20,
      points: [
        [20, 50],
        [80, 50],
      ],
    },
  ];

  paintMask(painter, shapes, { width: 100, height: 100 }, { width: 100, height: 100 });

  expect(painter.summary().box).toEqual([10, 40, 90, 60]);
});

test('keyboard alone selects a box and Submit sends a mask whose white area is that box', async () => {
  const sent = recordActions();
  const user = userEvent.setup();
  const { dialog, surface, submit } = await openEditor(user);
  const focusedAtOpen = document.activeElement;
  const disabledAtFirst = submit.hasAttribute('disabled');

  // From the middle quarter (600, 300, 400 × 200): two steps right, one up, one taller.
  await user.keyboard('{ArrowRight}{ArrowRight}{ArrowUp}{Shift>}{ArrowDown}{/Shift}{Enter}');
  const status = within(dialog).getByRole('status').textContent;
  await user.click(submit);
  await waitFor(() => expect(sent).toHaveLength(1));

  expect(focusedAtOpen).toBe(surface);
  expect(disabledAtFirst).toBe(true);
  expect(status).toMatch(/^1 area selected\. Box 25% wide, 30% high, 48% from the left, 33% from the top\.$/);
  // The box is (760, 260) 400 × 240 in the image's pixels; the mask is 0.64 of the image.
  expect(readMask(sent[0])).toEqual({
    width: 1024,
    height: 512,
    white: (742 - 486) * (320 - 166),
    box: [486, 166, 742, 320],
  });
  expect(sent[0]).not.toHaveProperty('prompt');
  expect(sent[0]).toHaveProperty('action', 'vary_region');
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  expect(screen.getByRole('button', { name: 'Vary Region' })).toHaveFocus();
});

test('Submit waits for a selection, and Backspace, Ctrl+Z, Undo and Clear take it back', async () => {
  const user = userEvent.setup();
  const { dialog, submit } = await openEditor(user);

  const before = submit.hasAttribute('disabled');
  await user.keyboard('{Enter}');
  const afterOne = submit.hasAttribute('disabled');
  await user.keyboard('{Backspace}');
  const afterBackspace = submit.hasAttribute('disabled');
  await user.keyboard(' {ArrowLeft} {Control>}z{/Control}');
  const afterCtrlZ = dialog.querySelectorAll('.region-shape').length;
  await user.click(within(dialog).getByRole('button', { name: 'Undo' }));
  const afterUndo = submit.hasAttribute('disabled');
  await user.click(within(dialog).getByRole('application'));
  await user.keyboard('{Enter}{ArrowUp}{Enter}');
  await user.click(within(dialog).getByRole('button', { name: 'Clear' }));

  expect(before).toBe(true);
  expect(afterOne).toBe(false);
  expect(afterBackspace).toBe(true);
  expect(afterCtrlZ).toBe(1);
  expect(afterUndo).toBe(true);
  expect(submit).toBeDisabled();
  expect(dialog.querySelectorAll('.region-shape')).toHaveLength(0);
});

test('a box drawn with the pointer and a new prompt are sent in image proportion', async () => {
  const sent = recordActions();
  const user = userEvent.setup();
  const { dialog, surface, submit } = await openEditor(user);
  // Shown at half size: 800 × 400 on screen for 1600 × 800 pixels.
  vi.spyOn(surface, 'getBoundingClientRect').mockReturnValue(new DOMRect(0, 0, 800, 400));

  await user.click(within(dialog).getByRole('radio', { name: 'Box' }));
  await user.pointer([
    { keys: '[MouseLeft>]', target: surface, coords: { clientX: 100, clientY: 100 } },
    { target: surface, coords: { clientX: 300, clientY: 200 } },
    { keys: '[/MouseLeft]', target: surface, coords: { clientX: 300, clientY: 200 } },
  ]);
  const prompt = within(dialog).getByRole('textbox', { name: 'New prompt (optional)' });
  await user.clear(prompt);
  await user.type(prompt, 'a lighthouse with a red lamp');
  await user.click(submit);
  await waitFor(() => expect(sent).toHaveLength(1));

  // (200, 200) to (600, 400) in the image; 0.64 of that in the mask.
  expect(readMask(sent[0]).box).toEqual([128, 128, 384, 256]);
  expect(sent[0]).toHaveProperty('prompt', 'a lighthouse with a red lamp');
});

test('the brush paints where the pointer goes, as wide as the brush size says', async () => {
  const sent = recordActions();
  const user = userEvent.setup();
  const { dialog, surface, submit } = await openEditor(user);
  vi.spyOn(surface, 'getBoundingClientRect').mockReturnValue(new DOMRect(0, 0, 800, 400));

  fireEvent.change(within(dialog).getByRole('slider', { name: 'Brush size' }), { target: { value: '10' } });
  await user.pointer([
    { keys: '[MouseLeft>]', target: surface, coords: { clientX: 200, clientY: 200 } },
    { target: surface, coords: { clientX: 400, clientY: 200 } },
    { keys: '[/MouseLeft]', target: surface, coords: { clientX: 400, clientY: 200 } },
  ]);
  const strokes = dialog.querySelectorAll('polyline');
  await user.click(submit);
  await waitFor(() => expect(sent).toHaveLength(1));

  expect(strokes).toHaveLength(1);
  // A 160-pixel brush (10% of 1600) from (400, 400) to (800, 400): 102.4 wide in the mask.
  expect(readMask(sent[0]).box).toEqual([205, 205, 563, 307]);
});

test('Escape closes the editor without sending, and focus returns to Vary (Region)', async () => {
  const sent = recordActions();
  const user = userEvent.setup();
  await openEditor(user);

  await user.keyboard('{Enter}{Escape}');

  expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Vary Region' })).toHaveFocus();
  expect(sent).toEqual([]);
});

test('Tab stays inside the editor: past its last control it comes back to the first', async () => {
  const user = userEvent.setup();
  const { dialog } = await openEditor(user);
  const cancel = within(dialog).getByRole('button', { name: 'Cancel' });

  cancel.focus();
  await user.tab();
  const afterLast = document.activeElement;
  await user.tab({ shift: true });

  expect(afterLast).toBe(within(dialog).getByRole('radio', { name: 'Brush' }));
  expect(cancel).toHaveFocus();
});
