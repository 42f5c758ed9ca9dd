// Vary (Region)'s editor, a chunk of its own loaded when first opened (job-actions.tsx): the
// image with the selection drawn over it, painted with a brush or drawn as boxes by pointer,
// or built from boxes by keyboard; undo, clear, an optional new prompt. The selection lives in
// image pixels (region-mask.ts), the overlay is SVG in those same units, and only Submit draws
// the mask on a canvas.
import type { Job } from '@shared/schemas/job';
import { type FormEvent, type KeyboardEvent, type PointerEvent, useId, useRef, useState } from 'react';
import {
  type Box,
  boxBetween,
  nudgeBox,
  renderMask,
  type Shape,
  type Size,
  selectsSomething,
  startingBox,
} from '../utils/region-mask';
import { type ActionDialogProps, DialogButtons, Modal } from './modal';

export interface RegionEditorProps extends ActionDialogProps {
  job: Job;
}

type Tool = 'brush' | 'box';
type Point = readonly [number, number];

/** The brush's diameter, in percent of the image's long side. */
const BRUSH = { min: 2, max: 25, initial: 8 } as const;

export function RegionEditor({ job, title, pending, error, onSubmit, onClose }: RegionEditorProps) {
  const id = useId();
  const [image, setImage] = useState<Size>();
  const [broken, setBroken] = useState(false);
  const [shapes, setShapes] = useState<Shape[]>([]);
  const [cursor, setCursor] = useState<Box>();
  const [tool, setTool] = useState<Tool>('brush');
  const [brush, setBrush] = useState<number>(BRUSH.initial);
  const [prompt, setPrompt] = useState(job.prompt);
  const [maskError, setMaskError] = useState<string>();
  // The shape a pointer is drawing, kept in a ref as well: pointer events can outrun renders.
  const [draft, setDraft] = useState<Shape>();
  const drawing = useRef<{ shape: Shape; from: Point }>(undefined);

  function draw(shape: Shape | undefined, from: Point = [0, 0]) {
    drawing.current = shape ? { shape, from } : undefined;
    setDraft(shape);
  }

  const add = (shape: Shape) => setShapes((list) => [...list, shape]);
  const undo = () => setShapes((list) => list.slice(0, -1));

  function pointOf(event: PointerEvent<SVGSVGElement>): Point | undefined {
    const rect = event.currentTarget.getBoundingClientRect();
    if (!image || rect.width === 0 || rect.height === 0) return undefined;
    return [
      ((event.clientX - rect.left) / rect.width) * image.width,
      ((event.clientY - rect.top) / rect.height) * image.height,
    ];
  }

  function onPointerDown(event: PointerEvent<SVGSVGElement>) {
    const point = pointOf(event);
    if (!image || !point || event.button !== 0) return;
    event.currentTarget.setPointerCapture?.(event.pointerId);
    const size = (brush / 100) * Math.max(image.width, image.height);
    draw(
      tool === 'box' ? { kind: 'box', ...boxBetween(point, point, image) } : { kind: 'stroke', size, points: [point] },
      point,
    );
  }

  function onPointerMove(event: PointerEvent<SVGSVGElement>) {
    const current = drawing.current;
    const point = pointOf(event);
    if (!image || !current || !point) return;
    const { shape, from } = current;
    draw(
      shape.kind === 'box'
        ? { kind: 'box', ...boxBetween(from, point, image) }
        : { ...shape, points: [...shape.points, point] },
      from,
    );
  }

  function onPointerUp() {
    const shape = drawing.current?.shape;
    draw(undefined);
    if (shape && selectsSomething(shape)) add(shape);
  }

  function onKeyDown(event: KeyboardEvent<SVGSVGElement>) {
    if (!image || !cursor) return;
    const moved = nudgeBox(cursor, event.key, event.shiftKey, image);
    const undoes = event.key === 'Backspace' || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z');
    if (!moved && !undoes && event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    if (moved) setCursor(moved);
    else if (undoes) undo();
    else add({ kind: 'box', ...cursor });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!image || shapes.length === 0) return;
    let mask: string;
    try {
      mask = renderMask(shapes, image);
    } catch (failure) {
      setMaskError(failure instanceof Error ? failure.message : 'The mask could not be drawn.');
      return;
    }
    // Sent only when changed: the prompt as it was is the upstream's default.
    const text = prompt.trim();
    onSubmit({ action: 'vary_region', mask, ...(text && text !== job.prompt.trim() ? { prompt: text } : {}) });
  }

  const percent = (part: number, whole: number) => `${Math.round((part / whole) * 100)}%`;
  const count = shapes.length === 1 ? '1 area selected' : `${shapes.length || 'No'} areas selected`;
  const status = !image
    ? broken
      ? 'The image could not be loaded.'
      : 'Loading the image…'
    : cursor
      ? `${count}. Box ${percent(cursor.width, image.width)} wide, ${percent(cursor.height, image.height)} high, ${percent(cursor.x, image.width)} from the left, ${percent(cursor.y, image.height)} from the top.`
      : count;

  return (
    <Modal title={title} onClose={onClose} className="region-dialog">
      <form className="dialog-form" onSubmit={submit}>
        <div className="region-tools">
          <fieldset className="region-tool">
            <legend>Tool</legend>
            {(['brush', 'box'] as const).map((name) => (
              <label key={name}>
                <input type="radio" name={`${id}-tool`} checked={tool === name} onChange={() => setTool(name)} />
                {name === 'brush' ? 'Brush' : 'Box'}
              </label>
            ))}
          </fieldset>
          <label>
            Brush size
            <input
              type="range"
              min={BRUSH.min}
              max={BRUSH.max}
              value={brush}
              onChange={(event) => setBrush(Number(event.target.value))}
              aria-valuetext={`${brush}% of the image`}
            />
          </label>
          <button type="button" onClick={undo} disabled={shapes.length === 0}>
            Undo
          </button>
          <button type="button" onClick={() => setShapes([])} disabled={shapes.length === 0}>
            Clear
          </button>
        </div>
        <div className="region-stage">
          <img
            className="region-image"
            src={job.image_url}
            alt={job.prompt}
            draggable={false}
            onLoad={(event) => {
              const { naturalWidth: width, naturalHeight: height } = event.currentTarget;
              if (width === 0 || height === 0) return setBroken(true);
              setImage({ width, height });
              setCursor(startingBox({ width, height }));
            }}
            onError={() => setBroken(true)}
          />
          {/* There from the start, so that it has focus when the dialog opens; idle until the image has loaded. */}
          <svg
            className={`region-surface tool-${tool}`}
            viewBox={image ? `0 0 ${image.width} ${image.height}` : undefined}
            preserveAspectRatio="none"
            role="application"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a drawing surface worked by keyboard, as the help says.
            tabIndex={0}
            data-autofocus
            aria-label="Area to repaint"
            aria-describedby={`${id}-help ${id}-status`}
            onKeyDown={onKeyDown}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={onPointerUp}
          >
            {[...shapes, ...(draft ? [draft] : [])].map((shape, index) => (
              <ShapeView
                // biome-ignore lint/suspicious/noArrayIndexKey: shapes are only added, and removed, at the end.
                key={index}
                shape={shape}
              />
            ))}
            {cursor ? (
              <rect className="region-cursor" x={cursor.x} y={cursor.y} width={cursor.width} height={cursor.height} />
            ) : null}
          </svg>
        </div>
        <p id={`${id}-help`} className="hint">
          Paint over what to repaint, or draw boxes. By keyboard: arrow keys move the box, Shift+arrows resize it, Enter
          or Space adds it, Backspace or Ctrl+Z undoes, Escape cancels.
        </p>
        <p id={`${id}-status`} className="region-status" role="status">
          {status}
        </p>
        <label className="dialog-field" htmlFor={`${id}-prompt`}>
          New prompt (optional)
        </label>
        <textarea id={`${id}-prompt`} rows={2} value={prompt} onChange={(event) => setPrompt(event.target.value)} />
        <DialogButtons
          pending={pending}
          error={maskError ?? error}
          canSubmit={image !== undefined && shapes.length > 0}
          onClose={onClose}
        />
      </form>
    </Modal>
  );
}

function ShapeView({ shape }: { shape: Shape }) {
  if (shape.kind === 'box') {
    return <rect className="region-shape" x={shape.x} y={shape.y} width={shape.width} height={shape.height} />;
  }
  // One point is a zero-length line, which a round cap paints as a dot.
  const points = shape.points.length === 1 ? [...shape.points, ...shape.points] : shape.points;
  return <polyline className="region-stroke" points={points.join(' ')} strokeWidth={shape.size} />;
}
