// POST /api/keys: a new key and its secret, the only answer that ever carries it. The secret
// stays in the mutation's result alone (shown until dismissed), never in the query cache.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { keysKey } from './list-keys';

export function createKey(name: string) {
  return apiRequest('/api/keys', ({ createdApiKeySchema }) => createdApiKeySchema, {
    method: 'POST',
    body: JSON.stringify({ name }),
  });
}

export function useCreateKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: createKey,
    // Forgotten as soon as nothing shows it.
    gcTime: 0,
    onSuccess: () => client.invalidateQueries({ queryKey: keysKey }),
  });
}
