import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { galleryBox } from '@/features/jobs/components/gallery-box';
import { promptBox } from '@/features/jobs/components/prompt-box';
import { loadContract } from '@/lib/api-client';
import { server } from './setup';

// The app loads its schemas and its prompt form as chunks of their own; loaded here once,
// before any test runs, so that a test's fake clock never waits on a module load.
await Promise.all([loadContract(), promptBox.load(), galleryBox.load()]);

export function freshQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
}

export function renderWithClient(ui: ReactElement) {
  const client = freshQueryClient();
  const result = render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
  return { ...result, client };
}

/** Fake clocks for polling: timers and Date move only when the test says so. */
export function installFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

export async function advance(ms: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

/** Counts the requests our API receives for one job's status. */
export function countJobRequests(jobId: string): { readonly count: number } {
  const counter = { count: 0 };
  server.events.on('request:start', ({ request }) => {
    if (request.method === 'GET' && new URL(request.url).pathname === `/api/jobs/${jobId}`) counter.count += 1;
  });
  return counter;
}
