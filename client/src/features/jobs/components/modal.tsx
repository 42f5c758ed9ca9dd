// The shell of the dialogs an action opens (Vary (Region), Custom Zoom, Remix): a modal
// <dialog> that takes focus, keeps Tab inside, closes on Escape and gives focus back to
// whatever had it. The parent owns whether it is open: it closes by being unmounted.
import type { JobActionRequest } from '@shared/schemas/job';
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from 'react';

/** What every action dialog is given by the card's actions (job-actions.tsx). */
export interface ActionDialogProps {
  title: string;
  pending: boolean;
  /** The last answer's refusal, if the request was refused. */
  error: string | undefined;
  onSubmit: (request: JobActionRequest) => void;
  onClose: () => void;
}

const FOCUSABLE =
  'button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])';

interface ModalProps {
  title: string;
  onClose: () => void;
  className?: string;
  children: ReactNode;
}

export function Modal({ title, onClose, className, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // What had focus before the first render: an effect run twice (StrictMode) would see the dialog's own.
  const opener = useRef(document.activeElement instanceof HTMLElement ? document.activeElement : null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // showModal() makes the rest of the page inert; where it is missing (jsdom), the Tab trap
    // below still keeps focus inside.
    if (typeof dialog.showModal !== 'function') dialog.setAttribute('open', '');
    else if (!dialog.open) dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    const back = opener.current;
    return () => back?.focus();
  }, []);

  function onKeyDown(event: KeyboardEvent<HTMLDialogElement>) {
    // Its keys are its own: a dialog it was opened from (the viewer) must not also take
    // Escape, Tab or the arrows the region editor moves its box with.
    event.stopPropagation();
    if (event.key === 'Escape') {
      // Ours to close: the browser's own closing would leave React thinking it open.
      event.preventDefault();
      onClose();
      return;
    }
    if (event.key !== 'Tab' || !ref.current) return;
    const focusable = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const edge = event.shiftKey ? focusable[0] : focusable.at(-1);
    if (document.activeElement === edge || !ref.current.contains(document.activeElement)) {
      event.preventDefault();
      (event.shiftKey ? focusable.at(-1) : focusable[0])?.focus();
    }
  }

  return (
    <dialog
      ref={ref}
      className={`action-dialog${className ? ` ${className}` : ''}`}
      aria-modal="true"
      aria-labelledby={titleId}
      onKeyDown={onKeyDown}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** A dialog's foot: the refusal, if any, then Cancel and Submit. */
export function DialogButtons({
  pending,
  error,
  canSubmit,
  onClose,
}: {
  pending: boolean;
  error: string | undefined;
  canSubmit: boolean;
  onClose: () => void;
}) {
  return (
    <>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-buttons">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={!canSubmit || pending} aria-busy={pending || undefined}>
          {pending ? 'Submitting…' : 'Submit'}
        </button>
      </div>
    </>
  );
}
