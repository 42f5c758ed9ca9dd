// Vary (Region)'s selection and its mask. The selection is a list of shapes (boxes and brush
// strokes) in the image's own pixels, so that it does not depend on how large the editor shows
// the image; the mask is drawn from it at upload size, black with the selection white.
// Drawing goes through the few canvas calls `MaskPainter` names, so that the selection and
// the mask can be checked without a canvas (jsdom has none).

export interface Size {
  width: number;
  height: number;
}

export interface Box extends Size {
  x: number;
  y: number;
}

export type Shape =
  | ({ kind: 'box' } & Box)
  /** `size` is the brush's diameter, in image pixels. */
  | { kind: 'stroke'; size: number; points: (readonly [number, number])[] };

/** The mask's long side at most: a larger mask says no more about where to repaint. */
export const MASK_LONG_SIDE = 1024;

/** The mask's size: the image's, scaled down (never up) to MASK_LONG_SIDE on its long side. */
export function maskSize(image: Size): Size {
  const scale = Math.min(1, MASK_LONG_SIDE / Math.max(image.width, image.height));
  return {
    width: Math.max(1, Math.round(image.width * scale)),
    height: Math.max(1, Math.round(image.height * scale)),
  };
}

/** The keyboard's box before it is moved: a quarter of each side, in the middle. */
export function startingBox(image: Size): Box {
  const width = Math.round(image.width / 4);
  const height = Math.round(image.height / 4);
  return { x: Math.round((image.width - width) / 2), y: Math.round((image.height - height) / 2), width, height };
}

/** One arrow key's step: a twentieth of the image's side, so twenty steps cross it. */
const stepOf = (side: number) => Math.max(1, Math.round(side / 20));

const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max);

const DIRECTIONS: Record<string, readonly [number, number]> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

/**
 * The box after an arrow key: moved a step, or with `resize` (Shift) a step wider or taller
 * (left and up make it smaller). It stays inside the image and at least a step in size.
 * Undefined for any other key.
 */
export function nudgeBox(box: Box, key: string, resize: boolean, image: Size): Box | undefined {
  const direction = DIRECTIONS[key];
  if (!direction) return undefined;
  const dx = direction[0] * stepOf(image.width);
  const dy = direction[1] * stepOf(image.height);
  if (resize) {
    return {
      ...box,
      width: clamp(box.width + dx, stepOf(image.width), image.width - box.x),
      height: clamp(box.height + dy, stepOf(image.height), image.height - box.y),
    };
  }
  return {
    ...box,
    x: clamp(box.x + dx, 0, image.width - box.width),
    y: clamp(box.y + dy, 0, image.height - box.height),
  };
}

/** The box between two corners a pointer dragged, inside the image. */
export function boxBetween(from: readonly [number, number], to: readonly [number, number], image: Size): Box {
  const [x1, x2] = [from[0], to[0]].map((x) => clamp(Math.round(x), 0, image.width)).sort((a, b) => a - b);
  const [y1, y2] = [from[1], to[1]].map((y) => clamp(Math.round(y), 0, image.height)).sort((a, b) => a - b);
  return { x: x1 ?? 0, y: y1 ?? 0, width: (x2 ?? 0) - (x1 ?? 0), height: (y2 ?? 0) - (y1 ?? 0) };
}

/** Whether a shape selects anything: a click without a drag makes an empty box. */
export const selectsSomething = (shape: Shape) =>
  shape.kind === 'stroke' ? shape.points.length > 0 : shape.width > 0 && shape.height > 0;

/** The canvas calls the mask needs; a CanvasRenderingContext2D has them all. */
export type MaskPainter = Pick<
  CanvasRenderingContext2D,
  | 'fillStyle'
  | 'strokeStyle'
  | 'lineWidth'
  | 'lineCap'
  | 'lineJoin'
  | 'fillRect'
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'arc'
  | 'stroke'
  | 'fill'
>;

/** Paints the mask of `shapes` (image pixels) onto a painter of `mask` size, `image` being the picture's. */
export function paintMask(painter: MaskPainter, shapes: readonly Shape[], image: Size, mask: Size): void {
  const sx = mask.width / image.width;
  const sy = mask.height / image.height;
  painter.fillStyle = '#000';
  painter.fillRect(0, 0, mask.width, mask.height);
  painter.fillStyle = '#fff';
  painter.strokeStyle = '#fff';
  painter.lineCap = 'round';
  painter.lineJoin = 'round';
  for (const shape of shapes) {
    if (shape.kind === 'box') {
      // Whole pixels, so that the edge is crisp rather than half grey.
      const left = Math.round(shape.x * sx);
      const top = Math.round(shape.y * sy);
      painter.fillRect(
        left,
        top,
        Math.round((shape.x + shape.width) * sx) - left,
        Math.round((shape.y + shape.height) * sy) - top,
      );
      continue;
    }
    const [first, ...rest] = shape.points;
    if (!first) continue;
    const width = shape.size * sx;
    painter.beginPath();
    if (rest.length === 0) {
      // A dab: a path of one point would paint nothing.
      painter.arc(first[0] * sx, first[1] * sy, width / 2, 0, 2 * Math.PI);
      painter.fill();
      continue;
    }
    painter.lineWidth = width;
    painter.moveTo(first[0] * sx, first[1] * sy);
    for (const [x, y] of rest) painter.lineTo(x * sx, y * sy);
    painter.stroke();
  }
}

/** The mask as the server takes it: a PNG data URL, drawn on a canvas of the mask's size. */
export function renderMask(shapes: readonly Shape[], image: Size): string {
  const mask = maskSize(image);
  const canvas = document.createElement('canvas');
  canvas.width = mask.width;
  canvas.height = mask.height;
  const painter = canvas.getContext('2d');
  if (!painter) throw new Error('This browser cannot draw the mask.');
  paintMask(painter, shapes, image, mask);
  return canvas.toDataURL('image/png');
}
