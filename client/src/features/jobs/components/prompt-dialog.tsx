// The dialog of an action that takes words before it runs: Custom Zoom's factor, Remix's new
// prompt (V1-V4, Vary, Reroll) and a video's motion prompt (Animate, Extend). A chunk of its
// own, loaded when first opened (job-actions.tsx).
import type { JobActionRequest, OfferedAction } from '@shared/schemas/job';
import { ZOOM_MAX, ZOOM_MIN } from '@shared/schemas/job-values';
import { type FormEvent, useId, useState } from 'react';
import { type ActionDialogProps, DialogButtons, Modal } from './modal';

export interface PromptDialogProps extends ActionDialogProps {
  offer: OfferedAction;
  /** The job's prompt, which Remix starts from. */
  prompt: string;
}

export const ZOOM_DEFAULT = 1.5;
const ZOOM_MESSAGE = `Zoom out by ${ZOOM_MIN} to ${ZOOM_MAX}, for example ${ZOOM_DEFAULT}`;

export function PromptDialog({
  offer,
  prompt: jobPrompt,
  title,
  pending,
  error,
  onSubmit,
  onClose,
}: PromptDialogProps) {
  const id = useId();
  const zooms = offer.action === 'zoom_custom';
  // A motion prompt says how the picture moves, not what it shows: it starts empty.
  const motion = offer.action.startsWith('animate') || offer.action.startsWith('extend');
  const initial = motion ? '' : jobPrompt;
  const [prompt, setPrompt] = useState(initial);
  const [zoom, setZoom] = useState(String(ZOOM_DEFAULT));
  const [zoomError, setZoomError] = useState<string>();

  function submit(event: FormEvent) {
    event.preventDefault();
    const request: JobActionRequest = { ...offer };
    if (zooms) {
      const factor = Number(zoom);
      if (!(factor >= ZOOM_MIN && factor <= ZOOM_MAX)) {
        setZoomError(ZOOM_MESSAGE);
        return;
      }
      request.zoom = factor;
    }
    // Sent only when it says something new: the prompt as it was is the upstream's default.
    const text = prompt.trim();
    if (text && text !== initial.trim()) request.prompt = text;
    onSubmit(request);
  }

  return (
    <Modal title={title} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        {zooms ? (
          <label className="dialog-field">
            Zoom out by
            <input
              type="number"
              inputMode="decimal"
              min={ZOOM_MIN}
              max={ZOOM_MAX}
              step={0.1}
              value={zoom}
              onChange={(event) => {
                setZoom(event.target.value);
                setZoomError(undefined);
              }}
              aria-invalid={zoomError ? true : undefined}
              aria-describedby={`${id}-zoom`}
            />
          </label>
        ) : null}
        {zooms ? (
          <p id={`${id}-zoom`} className={zoomError ? 'field-error' : 'hint'} role={zoomError ? 'alert' : undefined}>
            {zoomError ?? `From ${ZOOM_MIN} to ${ZOOM_MAX}.`}
          </p>
        ) : null}
        <label className="dialog-field" htmlFor={`${id}-prompt`}>
          {motion ? 'Motion prompt (optional)' : 'New prompt (optional)'}
        </label>
        <textarea
          id={`${id}-prompt`}
          rows={3}
          value={prompt}
          placeholder={motion ? 'How it moves: slow push in, leaves drifting…' : undefined}
          onChange={(event) => setPrompt(event.target.value)}
        />
        <DialogButtons pending={pending} error={error} canSubmit onClose={onClose} />
      </form>
    </Modal>
  );
}
