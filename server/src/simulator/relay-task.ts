// A simulated job as midjourney-proxy shows it: the task object its fetch answers and its
// notifyHook receives (docs/upstreams.md §2), with relay statuses and a sharpening preview.
import type { JobAction } from '@shared/schemas/job-values';
import { buttonsFor, readCustomId } from '../relay/buttons';
import { offeredActions, type SimJobView } from './engine';

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
    job.kind === 'DESCRIBE'
      ? ''
      : job.status === 'complete'
        ? `${origin}/v1/images/${job.id}.png`
        : job.status === 'processing' && step > 0
          ? `${origin}/v1/previews/${job.id}-${step}.png`
          : '';
  return {
    id: job.id,
    action: job.kind,
    status: RELAY_STATUS[job.status],
    // A finished describe answers its four prompts where the prompt would be.
    prompt: job.descriptions?.[0] ?? job.prompt,
    promptEn: job.descriptions?.[0] ?? job.prompt,
    description: job.kind === 'IMAGINE' ? '/imagine' : `/${job.kind.toLowerCase()}`,
    progress: `${job.progress}%`,
    imageUrl,
    failReason: job.error ?? '',
    ...(job.kind === 'VIDEO' && job.status === 'complete' ? { videoUrl: `${origin}/v1/videos/${job.id}.webm` } : {}),
    properties: {
      ...(job.parentId ? { originTaskId: job.parentId } : {}),
      ...(job.finalPrompt && job.status === 'complete' ? { finalPrompt: job.finalPrompt } : {}),
    },
    buttons: buttonsFor(offeredActions(job), job.id),
  };
}

/** A modal task: an action waiting for its input (a region's mask, a zoom), as fetch shows it. */
export function toModalTask(id: string, kind: string, prompt: string) {
  return {
    id,
    action: kind,
    status: 'MODAL',
    prompt,
    promptEn: prompt,
    description: 'Waiting for window confirm',
    progress: '0%',
    imageUrl: '',
    failReason: '',
    properties: {},
    buttons: [],
  };
}

/** What a button's customId asks for, and of which task, if it is one the simulator made. */
export function parseCustomId(customId: string): { action: JobAction; index?: number; gridId: string } | undefined {
  const read = readCustomId(customId);
  return read ? { ...read.offer, gridId: read.taskId } : undefined;
}
