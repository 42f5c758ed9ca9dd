// The one place job query keys are made, from general to specific: jobKeys.all reaches every
// job query, jobKeys.lists() the history, jobKeys.detail(id) one job's polling query.

export const jobKeys = {
  all: ['jobs'] as const,
  lists: () => [...jobKeys.all, 'list'] as const,
  details: () => [...jobKeys.all, 'detail'] as const,
  detail: (jobId: string) => [...jobKeys.details(), jobId] as const,
};
