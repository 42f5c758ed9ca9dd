// The app's QueryClient. Job polling sets its own retry policy; the rest keeps defaults
// except for mutations, which must never be retried blindly (a retry is a new paid job).
import { QueryClient } from '@tanstack/react-query';

export function createQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { mutations: { retry: false } } });
}
