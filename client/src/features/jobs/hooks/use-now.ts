// A clock for elapsed-time displays: re-renders about once a second while `running`.
// (Display only; polling is the job query's business.)
import { useEffect, useState } from 'react';

export function useNow(running: boolean, stepMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      setNow(Date.now());
      timer = setTimeout(tick, stepMs);
    };
    timer = setTimeout(tick, stepMs);
    return () => clearTimeout(timer);
  }, [running, stepMs]);
  return now;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
}
