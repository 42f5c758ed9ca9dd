// Images into the prompt box by dropping them on the form or pasting them into the text:
// the handlers, and whether files are being dragged over (for the form's highlight). Text
// dragged or pasted keeps its usual behaviour.
import { type ClipboardEvent, type DragEvent, useState } from 'react';

export function useImageDrop(onFiles: (files: File[]) => void, disabled: boolean) {
  const [dropping, setDropping] = useState(false);
  const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files');

  return {
    dropping,
    dropHandlers: {
      onDragOver(event: DragEvent<HTMLElement>) {
        if (!carriesFiles(event) || disabled) return;
        event.preventDefault();
        setDropping(true);
      },
      onDragLeave(event: DragEvent<HTMLElement>) {
        const inside = event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget);
        if (!inside) setDropping(false);
      },
      onDrop(event: DragEvent<HTMLElement>) {
        setDropping(false);
        const files = Array.from(event.dataTransfer?.files ?? []);
        if (files.length === 0 || disabled) return;
        event.preventDefault();
        onFiles(files);
      },
    },
    onPaste(event: ClipboardEvent<HTMLElement>) {
      const files = Array.from(event.clipboardData?.files ?? []);
      if (files.length === 0) return;
      event.preventDefault();
      onFiles(files);
    },
  };
}
