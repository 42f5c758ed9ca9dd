import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { mockHttpForEachTest } from '../mocks/node';

// The same msw server as the server tests; client tests import it from here.
export { server } from '../mocks/node';

mockHttpForEachTest();
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  // The prompt box remembers settings per browser; every test starts from a fresh one.
  localStorage.clear();
});
