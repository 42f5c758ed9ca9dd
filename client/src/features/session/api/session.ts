// GET/POST/DELETE /api/session: whether this server wants the access token, signing in with
// it (the server answers with an HttpOnly session cookie) and signing out.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';

export const sessionKey = ['session'] as const;

export function sessionQueryOptions() {
  return queryOptions({
    queryKey: sessionKey,
    queryFn: ({ signal }) => apiRequest('/api/session', ({ sessionStateSchema }) => sessionStateSchema, { signal }),
    retry: false,
    staleTime: Infinity,
  });
}

export function useSignIn() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (token: string) =>
      apiRequest('/api/session', ({ noContentSchema }) => noContentSchema, {
        method: 'POST',
        body: JSON.stringify({ token }),
      }),
    onSuccess: () => client.invalidateQueries(),
  });
}

export function useSignOut() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest('/api/session', ({ noContentSchema }) => noContentSchema, { method: 'DELETE' }),
    onSuccess: () => {
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionKey[0] });
      return client.invalidateQueries({ queryKey: sessionKey });
    },
  });
}
