// The interface every upstream contract (v7 REST, the simulator behind it, later
// midjourney-proxy) is reached through. Routes only ever see this.
import type { AspectRatio, Quality } from '../../../shared/schemas/imagine';
import type { JobStatus } from '../../../shared/schemas/job';

export interface SubmitInput {
  prompt: string;
  aspectRatio: AspectRatio;
  quality: Quality;
}

export interface UpstreamJob {
  id: string;
  status: JobStatus;
  progress?: number;
  imageUrl?: string;
  error?: string;
}

export interface UpstreamAdapter {
  /** A short label for logs and /healthz, e.g. "v7" or "simulator". */
  readonly name: string;
  submit(input: SubmitInput): Promise<{ id: string; status: JobStatus }>;
  getJob(id: string): Promise<UpstreamJob>;
}
