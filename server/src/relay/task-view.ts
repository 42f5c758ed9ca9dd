// A job of ours as the midjourney-proxy protocol's task object (docs/upstreams.md, "Serving
// the relay protocol"): a relay's statuses and action names, progress as "NN%", times in
// milliseconds or null, the client's `state` verbatim, and buttons our own routes read back.
import type { Job, JobAction } from '@shared/schemas/job';
import { buttonsFor, type RelayButton } from './buttons';

const STATUSES: Record<Job['status'], string> = {
  queued: 'NOT_START',
  pending: 'SUBMITTED',
  processing: 'IN_PROGRESS',
  complete: 'SUCCESS',
  failed: 'FAILURE',
  // Clients poll until SUCCESS or FAILURE; none ends on CANCEL, so a cancelled task is a
  // failure that says so (as one of the relays reports it).
  cancelled: 'FAILURE',
};

/** The relay's name for what made a task. */
function actionOf(job: Job): string {
  if (job.kind === 'describe') return 'DESCRIBE';
  if (job.kind === 'blend') return 'BLEND';
  const action: JobAction | undefined = job.action;
  if (!action) return 'IMAGINE';
  if (action === 'upscale' || action.startsWith('upscale_')) return 'UPSCALE';
  if (action === 'variation' || action.startsWith('vary_')) return action === 'vary_region' ? 'INPAINT' : 'VARIATION';
  if (action === 'reroll') return 'REROLL';
  if (action.startsWith('zoom_')) return 'ZOOM';
  if (action.startsWith('pan_')) return 'PAN';
  return 'VIDEO';
}

export interface RelayTask {
  id: string;
  action: string;
  status: string;
  prompt: string;
  promptEn: string;
  description: string;
  state: string | null;
  submitTime: number;
  startTime: number | null;
  finishTime: number | null;
  progress: string;
  imageUrl: string;
  videoUrl: string | null;
  failReason: string | null;
  properties: Record<string, unknown>;
  buttons: RelayButton[];
}

export interface TaskContext {
  taskNumber: number;
  /** Absolute links that open the job's kept image and clip without a cookie. */
  imageUrl?: string | undefined;
  videoUrl?: string | undefined;
  state?: string | undefined;
  parentTaskNumber?: number | undefined;
}

export function toRelayTask(job: Job, context: TaskContext): RelayTask {
  const submitTime = Date.parse(job.created_at);
  const finishTime = job.finished_at ? Date.parse(job.finished_at) : null;
  // Sent upstream once it is no longer waiting for budget; the relay's own start is not ours to
  // know. A finished task always has one: clients subtract it from finishTime.
  const startTime = job.status === 'queued' && finishTime === null ? null : submitTime;
  const progress = job.status === 'complete' ? 100 : Math.round(job.progress ?? 0);
  const describing = job.kind === 'describe';
  const finalPrompt = job.final_prompt ?? undefined;
  return {
    id: String(context.taskNumber),
    action: actionOf(job),
    status: STATUSES[job.status],
    prompt: describing
      ? (job.descriptions ?? []).map((text, i) => `${i + 1}\uFE0F\u20E3 ${text}`).join('\n\n')
      : job.prompt,
    promptEn: describing ? (job.descriptions ?? []).join('\n\n') : job.prompt,
    description: job.status === 'failed' ? (job.error ?? 'Failed') : `/${actionOf(job).toLowerCase()}`,
    state: context.state ?? null,
    submitTime,
    startTime,
    finishTime,
    progress: `${progress}%`,
    imageUrl: job.status === 'complete' && !describing ? (context.imageUrl ?? '') : '',
    videoUrl: job.status === 'complete' ? (context.videoUrl ?? null) : null,
    failReason:
      job.status === 'failed'
        ? job.error || 'The task failed'
        : job.status === 'cancelled'
          ? `Cancelled${job.error && job.error !== 'Cancelled' ? `: ${job.error}` : ''}`
          : null,
    properties: {
      ...(finalPrompt ? { finalPrompt } : {}),
      ...(context.parentTaskNumber ? { originTaskId: String(context.parentTaskNumber) } : {}),
      ...(job.queue_position ? { numberOfQueues: job.queue_position } : {}),
    },
    buttons: job.status === 'complete' ? buttonsFor(job.available_actions ?? [], context.taskNumber) : [],
  };
}
