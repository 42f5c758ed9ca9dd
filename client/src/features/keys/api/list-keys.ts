// GET /api/keys: the caller's API keys, newest first, revoked ones included (never a secret).
import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';

export const keysKey = ['keys'] as const;

export function listKeys(signal?: AbortSignal) {
  return apiRequest('/api/keys', ({ apiKeyListSchema }) => apiKeyListSchema, { signal });
}

export function keysQueryOptions() {
  return queryOptions({ queryKey: keysKey, queryFn: ({ signal }) => listKeys(signal) });
}

export function useKeys() {
  return useQuery(keysQueryOptions());
}
