// A module loaded on first use, once (a failed load is tried again by the next caller), and
// the hook that renders with it: at once when it has arrived, else once it does. For parts
// of the page that can wait without a fallback (the contract, a card's details).
import { useEffect, useState } from 'react';

export interface LazyModule<T> {
  load: () => Promise<T>;
  /** The module if it has arrived. */
  peek: () => T | undefined;
}

export function lazyModule<T>(importer: () => Promise<T>): LazyModule<T> {
  let pending: Promise<T> | undefined;
  let loaded: T | undefined;
  return {
    load() {
      pending ??= importer().then(
        (module) => (loaded = module),
        (error: unknown) => {
          pending = undefined;
          throw error;
        },
      );
      return pending;
    },
    peek: () => loaded,
  };
}

export function useLazyModule<T>(module: LazyModule<T>): T | undefined {
  const [loaded, setLoaded] = useState(module.peek);
  useEffect(() => {
    if (loaded) return;
    let live = true;
    module.load().then(
      (value) => live && setLoaded(() => value),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [loaded, module]);
  return loaded;
}
