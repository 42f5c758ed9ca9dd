// Job records for the store tests: a new job with only the fields a store requires, and the
// record every store reads back for it, so that a test spells out only what it is about.
import type { JobRecord, NewJob } from '../../server/src/store/job-store';

/** A queued imagine of owner-a, square, without parameters; `extra` adds or replaces fields. */
export const newJob = (
  id: string,
  createdAt: number,
  prompt = `prompt ${id}`,
  extra: Partial<NewJob> = {},
): NewJob => ({
  id,
  ownerId: 'owner-a',
  kind: 'imagine',
  output: 'grid',
  prompt,
  params: {},
  aspectRatio: '1:1',
  createdAt,
  ...extra,
});

/** The record a store hands back for `job` just inserted: every field it was not given at its default. */
export const insertedJob = (job: NewJob): JobRecord => ({
  favourite: false,
  quality: 'standard',
  imageUrls: [],
  refs: [],
  finalPrompt: null,
  descriptions: null,
  status: 'queued',
  progress: null,
  upstreamId: null,
  error: null,
  imageFile: null,
  updatedAt: job.createdAt,
  finishedAt: null,
  checkedAt: null,
  previewUrl: null,
  parentId: null,
  action: null,
  actionIndex: null,
  actionInput: null,
  offers: null,
  videoFile: null,
  account: null,
  ...job,
});
