// The interface every upstream contract (v7 REST, the simulator behind it, later
// midjourney-proxy) is reached through. The job service only ever sees this.
import type { AspectRatio, Quality } from '@shared/schemas/imagine';
import type { GridAction } from '@shared/schemas/job';

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

/** An action on a finished grid the upstream made: `index` (1-4) for upscale and variation. */
export interface ActionInput {
  /** The upstream's id of the finished grid. */
  gridId: string;
  action: GridAction;
  index?: number | undefined;
}

export interface UpstreamAdapter {
  /** A short label for logs and /healthz, e.g. "v7" or "simulator". */
  readonly name: string;
  submit(input: SubmitInput): Promise<{ id: string; status: UpstreamStatus }>;
  getJob(id: string): Promise<UpstreamJob>;
  /** Present only where the upstream can cancel a running job. */
  cancel?(id: string): Promise<void>;
  /** The grid actions this upstream can take (none when absent); `act` takes them. */
  readonly actions?: readonly GridAction[];
  act?(input: ActionInput): Promise<{ id: string; status: UpstreamStatus }>;
}
