// The one way a Node-side test waits for something it does not drive itself (a child process,
// a browser, a socket, a timer of the code under test): poll a condition in small real steps and,
// on time-out, fail saying what was awaited and what the condition last answered or threw.
import { vi } from 'vitest';

export interface WaitOptions {
  /** What the test waits for, as the failure should read: "the three jobs to be complete". */
  message: string;
  timeoutMs?: number;
  intervalMs?: number;
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;
const isTruthy = <T>(value: T): value is Truthy<T> => Boolean(value);

/**
 * Resolves with the condition's first truthy answer. A falsy answer or a thrown error (an
 * `expect` that does not hold yet) means "not yet". Real time only: under fake timers a test
 * advances the clock itself instead of waiting.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { message, timeoutMs = 5_000, intervalMs = 50 }: WaitOptions,
): Promise<Truthy<T>> {
  if (vi.isFakeTimers()) throw new Error(`waitFor polls in real time; with fake timers advance the clock (${message})`);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (isTruthy(value)) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const lastly = last instanceof Error ? `it last threw: ${last.message}` : `it last answered ${String(last)}`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}; ${lastly}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
