// POST /api/imagine: the submission fetcher and its mutation hook, which puts the new job at
// the top of the history at once. It sends the request as the contract takes it in (the
// schema's input shape); the server reads it into one state.

import type { ImagineRequestInput } from '@shared/schemas/imagine';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { addNewJob } from './list-jobs';

export function submitJob(input: ImagineRequestInput) {
  return apiRequest('/api/imagine', ({ jobSchema }) => jobSchema, { method: 'POST', body: JSON.stringify(input) });
}

export function useSubmitJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: submitJob,
    onSuccess: (job) => addNewJob(client, job),
  });
}
