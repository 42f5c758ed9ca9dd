// The settings this browser remembers for the next prompts, in localStorage. Kept as stored
// and checked against the table where they are read (param-defaults.ts), so that a value
// another version of the page wrote is dropped there, never trusted.
import type { PromptParams } from '@shared/schemas/params-values';
import { useState } from 'react';
import type { PanelKey } from '../utils/param-defaults';

export const DEFAULTS_STORAGE_KEY = 'mj-studio:prompt-defaults';

function read(): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(DEFAULTS_STORAGE_KEY) ?? '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
  } catch {
    // No storage (a private window, a blocked site) or a value that is not ours: no defaults.
    return {};
  }
}

export function useParamDefaults() {
  const [stored, setStored] = useState(read);

  function save(next: Record<string, unknown>) {
    setStored(next);
    try {
      localStorage.setItem(DEFAULTS_STORAGE_KEY, JSON.stringify(next));
    } catch {
      // Remembered for this page only.
    }
  }

  return {
    stored,
    remember<K extends PanelKey>(key: K, value: PromptParams[K] | undefined) {
      const next = { ...stored };
      if (value === undefined) delete next[key];
      else next[key] = value;
      save(next);
    },
    forget: () => save({}),
  };
}
