// A panel's focus: its title takes the focus when it opens, and whatever opened it (the
// header's button) gets the focus back when it closes.
import { useEffect, useRef } from 'react';

/** The ref to put on the panel's title (with tabIndex={-1}). */
export function usePanelFocus<T extends HTMLElement>() {
  const title = useRef<T>(null);
  const opener = useRef(document.activeElement instanceof HTMLElement ? document.activeElement : null);

  useEffect(() => {
    title.current?.focus();
    const back = opener.current;
    return () => back?.focus();
  }, []);

  return title;
}
