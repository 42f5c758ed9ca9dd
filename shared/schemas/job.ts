// Our normalised view of a generation job, whatever the upstream called things.
import { z } from 'zod';

export const JOB_STATUSES = ['pending', 'processing', 'complete', 'failed'] as const;
export const jobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const TERMINAL_STATUSES: readonly JobStatus[] = ['complete', 'failed'];
export const isTerminalStatus = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);

// Letters, digits, '-' and '_' only: nothing that can change the meaning of a URL path
// ('/', '.', '%', '?', '#', whitespace) once the id is placed into an upstream URL.
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const jobIdSchema = z.string().regex(JOB_ID_PATTERN, 'Job ids are 1-128 letters, digits, "-" or "_"');

export const submitJobResponseSchema = z.object({
  job_id: jobIdSchema,
  status: jobStatusSchema,
});
export type SubmitJobResponse = z.infer<typeof submitJobResponseSchema>;

export const jobResponseSchema = z.object({
  job_id: jobIdSchema,
  status: jobStatusSchema,
  progress: z.number().min(0).max(100).optional(),
  image_url: z.string().optional(),
  error: z.string().optional(),
});
export type JobResponse = z.infer<typeof jobResponseSchema>;
