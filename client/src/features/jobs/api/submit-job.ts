// POST /api/imagine: the submission fetcher and its mutation hook.
import { useMutation } from '@tanstack/react-query';
import type { ImagineRequest } from '../../../../../shared/schemas/imagine';
import { submitJobResponseSchema } from '../../../../../shared/schemas/job';
import { apiRequest } from '../../../lib/api-client';

export function submitJob(input: ImagineRequest) {
  return apiRequest('/api/imagine', submitJobResponseSchema, {
    method: 'POST',
    body: JSON.stringify(input),
  });
}

export function useSubmitJob() {
  return useMutation({ mutationFn: submitJob });
}
