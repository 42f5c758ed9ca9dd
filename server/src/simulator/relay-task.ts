// A simulated job as midjourney-proxy shows it: the task object its fetch answers and its
// notifyHook receives (docs/upstreams.md §2), with relay statuses and a sharpening preview.
import type { JobAction } from '@shared/schemas/job-values';
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
    buttons: offeredActions(job).map((offer) => button(job.id, offer.action, offer.index)),
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

/** Discord's button for an action, as relays relay them: the customId names the task and the image. */
function button(id: string, action: JobAction, index = 1) {
  const job = (name: string, n = 1) => `MJ::JOB::${name}::${n}::${id}::SOLO`;
  const make = (customId: string, label: string, emoji = '') => ({ customId, label, emoji, style: 2, type: 2 });
  switch (action) {
    case 'upscale':
      return make(`MJ::JOB::upsample::${index}::${id}`, `U${index}`);
    case 'variation':
      return make(`MJ::JOB::variation::${index}::${id}`, `V${index}`);
    case 'reroll':
      return make(`MJ::JOB::reroll::0::${id}::SOLO`, '', '🔄');
    case 'upscale_subtle':
      return make(job('upsample_v7_2x_subtle'), 'Upscale (Subtle)');
    case 'upscale_creative':
      return make(job('upsample_v7_2x_creative'), 'Upscale (Creative)');
    case 'vary_subtle':
      return make(job('low_variation'), 'Vary (Subtle)', '🪄');
    case 'vary_strong':
      return make(job('high_variation'), 'Vary (Strong)', '🪄');
    case 'vary_region':
      return make(`MJ::Inpaint::1::${id}::SOLO`, 'Vary (Region)', '🖌️');
    case 'zoom_out_2x':
      return make(`MJ::Outpaint::50::1::${id}::SOLO`, 'Zoom Out 2x', '🔍');
    case 'zoom_out_1_5x':
      return make(`MJ::Outpaint::75::1::${id}::SOLO`, 'Zoom Out 1.5x', '🔍');
    case 'zoom_custom':
      return make(`MJ::CustomZoom::${id}`, 'Custom Zoom', '🔍');
    case 'pan_left':
    case 'pan_right':
    case 'pan_up':
    case 'pan_down':
      return make(job(action), '', PAN_ARROWS[action]);
    case 'animate_high':
    case 'animate_low':
      return make(job(action), action === 'animate_high' ? 'Animate (High motion)' : 'Animate (Low motion)', '🎞️');
    case 'extend_high':
    case 'extend_low':
      return make(
        job(`animate_${action.slice(7)}_extend`),
        `Extend (${action === 'extend_high' ? 'High' : 'Low'} motion)`,
      );
  }
}

const PAN_ARROWS = { pan_left: '⬅️', pan_right: '➡️', pan_up: '⬆️', pan_down: '⬇️' } as const;

const CUSTOM_IDS: readonly [RegExp, (match: RegExpExecArray) => { action: JobAction; index?: number }][] = [
  [/^MJ::JOB::upsample::([1-4])::/, (m) => ({ action: 'upscale', index: Number(m[1]) })],
  [/^MJ::JOB::variation::([1-4])::/, (m) => ({ action: 'variation', index: Number(m[1]) })],
  [/^MJ::JOB::reroll::0::/, () => ({ action: 'reroll' })],
  [/^MJ::JOB::upsample_v7_2x_(subtle|creative)::1::/, (m) => ({ action: `upscale_${m[1]}` as JobAction })],
  [/^MJ::JOB::(low|high)_variation::1::/, (m) => ({ action: m[1] === 'low' ? 'vary_subtle' : 'vary_strong' })],
  [/^MJ::Inpaint::1::/, () => ({ action: 'vary_region' })],
  [/^MJ::Outpaint::(50|75)::1::/, (m) => ({ action: m[1] === '50' ? 'zoom_out_2x' : 'zoom_out_1_5x' })],
  [/^MJ::CustomZoom::/, () => ({ action: 'zoom_custom' })],
  [/^MJ::JOB::(pan_(?:left|right|up|down))::1::/, (m) => ({ action: m[1] as JobAction })],
  [/^MJ::JOB::animate_(high|low)_extend::1::/, (m) => ({ action: `extend_${m[1]}` as JobAction })],
  [/^MJ::JOB::(animate_(?:high|low))::1::/, (m) => ({ action: m[1] as JobAction })],
];
const TASK_ID = /::([A-Za-z0-9_-]{1,64})(?:::SOLO)?$/;

/** What a button's customId asks for, and of which task, if it is one the simulator made. */
export function parseCustomId(customId: string): { action: JobAction; index?: number; gridId: string } | undefined {
  const gridId = TASK_ID.exec(customId)?.[1];
  if (!gridId) return undefined;
  for (const [pattern, read] of CUSTOM_IDS) {
    const match = pattern.exec(customId);
    if (match) return { ...read(match), gridId };
  }
  return undefined;
}
