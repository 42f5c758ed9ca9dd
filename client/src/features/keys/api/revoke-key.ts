// DELETE /api/keys/:id: revokes one of the caller's keys; clients using it fail from then on.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { keysKey } from './list-keys';

export function revokeKey(keyId: string) {
  return apiRequest(`/api/keys/${encodeURIComponent(keyId)}`, ({ noContentSchema }) => noContentSchema, {
    method: 'DELETE',
  });
}

export function useRevokeKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: revokeKey,
    onSuccess: () => client.invalidateQueries({ queryKey: keysKey }),
  });
}
