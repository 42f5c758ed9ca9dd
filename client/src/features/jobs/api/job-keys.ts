// The one place job query keys are made, from general to specific: jobKeys.all reaches every
// job query, jobKeys.lists() every cached history (one per filter), jobKeys.list(filter) one of
// them, jobKeys.detail(id) one job's polling query, jobKeys.lineage(id) its family.
import type { JobFilter } from '../utils/job-filter';

export const jobKeys = {
  all: ['jobs'] as const,
  lists: () => [...jobKeys.all, 'list'] as const,
  /** Give it a normalised filter (normaliseFilter): `{}` is the whole history. */
  list: (filter: JobFilter) => [...jobKeys.lists(), filter] as const,
  details: () => [...jobKeys.all, 'detail'] as const,
  detail: (jobId: string) => [...jobKeys.details(), jobId] as const,
  lineages: () => [...jobKeys.all, 'lineage'] as const,
  lineage: (jobId: string) => [...jobKeys.lineages(), jobId] as const,
};
