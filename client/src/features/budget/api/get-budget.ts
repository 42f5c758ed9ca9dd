// GET /api/budget: the upstream key's request budget, refreshed every few seconds.

import { queryOptions } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';

export const BUDGET_REFRESH_MS = 5_000;

export function budgetQueryOptions() {
  return queryOptions({
    queryKey: ['budget'],
    queryFn: ({ signal }) => apiRequest('/api/budget', ({ budgetSchema }) => budgetSchema, { signal }),
    refetchInterval: BUDGET_REFRESH_MS,
    retry: false,
  });
}
