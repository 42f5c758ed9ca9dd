// GET /api/accounts: every upstream account's state and load, polled while the admin view
// shows it. Polling stops after an error; the panel's "Try again" (or reopening it) resumes it.
import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';

export const ACCOUNTS_REFRESH_MS = 5_000;

export const accountsKey = ['accounts'] as const;

export function listAccounts(signal?: AbortSignal) {
  return apiRequest('/api/accounts', ({ accountListSchema }) => accountListSchema, { signal });
}

export function accountsQueryOptions() {
  return queryOptions({
    queryKey: accountsKey,
    queryFn: ({ signal }) => listAccounts(signal),
    refetchInterval: (query) => (query.state.status === 'error' ? false : ACCOUNTS_REFRESH_MS),
  });
}

export function useAccounts() {
  return useQuery(accountsQueryOptions());
}
