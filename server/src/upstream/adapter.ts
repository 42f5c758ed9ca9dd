// The interface every upstream contract (v7 REST, the simulator behind it, later
// midjourney-proxy) is reached through. The job service only ever sees this.
import type { AspectRatio, Quality } from '../../../shared/schemas/imagine';

export type UpstreamStatus = 'pending' | 'processing' | 'complete' | 'failed' | 'cancelled';

export interface SubmitInput {
  prompt: string;
  aspectRatio: AspectRatio;
  quality: Quality;
}

export interface UpstreamJob {
  id: string;
  status: UpstreamStatus;
  progress?: number;
  imageUrl?: string;
  /** A low-resolution preview some upstreams show while the job runs. */
  previewUrl?: string;
  error?: string;
}

export interface UpstreamAdapter {
  /** A short label for logs and /healthz, e.g. "v7" or "simulator". */
  readonly name: string;
  submit(input: SubmitInput): Promise<{ id: string; status: UpstreamStatus }>;
  getJob(id: string): Promise<UpstreamJob>;
  /** Present only where the upstream can cancel a running job. */
  cancel?(id: string): Promise<void>;
}
