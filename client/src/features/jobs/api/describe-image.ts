// POST /api/describe: four candidate prompts for one of the owner's images (an upload or a
// finished job). It is a job like a prompt, and goes to the top of the history at once.

import type { DescribeRequest } from '@shared/schemas/upload';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { addNewJob } from './list-jobs';

export function describeImage(request: DescribeRequest) {
  return apiRequest('/api/describe', ({ jobSchema }) => jobSchema, { method: 'POST', body: JSON.stringify(request) });
}

export function useDescribeImage() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: describeImage,
    onSuccess: (job) => addNewJob(client, job),
  });
}
