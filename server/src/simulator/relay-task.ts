// A simulated job as midjourney-proxy shows it: the task object its fetch answers and its
// notifyHook receives (UPSTREAMS.md §2), with relay statuses and a sharpening preview.
import type { SimJobView } from './engine';

const RELAY_STATUS: Record<SimJobView['status'], string> = {
  pending: 'SUBMITTED',
  processing: 'IN_PROGRESS',
  complete: 'SUCCESS',
  failed: 'FAILURE',
  cancelled: 'CANCEL',
};

/** A relay's preview sharpens in steps of this much progress. */
const PREVIEW_STEP = 20;

/** `origin`: where the simulator serves images, e.g. http://127.0.0.1:4100. */
export function toRelayTask(job: SimJobView, origin: string) {
  // While rendering, imageUrl is a low-resolution preview that sharpens; then the result.
  const step = Math.floor(job.progress / PREVIEW_STEP) * PREVIEW_STEP;
  const imageUrl =
    job.status === 'complete'
      ? `${origin}/v1/images/${job.id}.png`
      : job.status === 'processing' && step > 0
        ? `${origin}/v1/previews/${job.id}-${step}.png`
        : '';
  return {
    id: job.id,
    action: job.kind,
    status: RELAY_STATUS[job.status],
    prompt: job.prompt,
    promptEn: job.prompt,
    description: job.kind === 'IMAGINE' ? '/imagine' : `/${job.kind.toLowerCase()}`,
    progress: `${job.progress}%`,
    imageUrl,
    failReason: job.error ?? '',
    ...(job.parentId ? { properties: { originTaskId: job.parentId } } : {}),
  };
}
