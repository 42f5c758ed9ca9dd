// A simulated job as midjourney-proxy shows it: the task object its fetch answers and its
// notifyHook receives (docs/upstreams.md §2), with relay statuses and a sharpening preview.
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
    properties: {
      ...(job.parentId ? { originTaskId: job.parentId } : {}),
      ...(job.finalPrompt && job.status === 'complete' ? { finalPrompt: job.finalPrompt } : {}),
    },
    buttons: job.status === 'complete' && job.grid ? gridButtons(job.id) : [],
  };
}

/** A finished grid's buttons as the relay relays them from Discord: U1-U4, 🔄, V1-V4. */
function gridButtons(id: string) {
  const each = (kind: string, letter: string) =>
    [1, 2, 3, 4].map((n) => ({ customId: `MJ::JOB::${kind}::${n}::${id}`, label: `${letter}${n}`, emoji: '' }));
  return [
    ...each('upsample', 'U'),
    { customId: `MJ::JOB::reroll::0::${id}::SOLO`, label: '', emoji: '🔄' },
    ...each('variation', 'V'),
  ];
}

const CUSTOM_ID = /^MJ::JOB::(upsample|variation|reroll)::([0-4])::([A-Za-z0-9_-]{1,64})(::SOLO)?$/;
const KINDS = { upsample: 'UPSCALE', variation: 'VARIATION', reroll: 'REROLL' } as const;

/** What a button's customId asks for, if it is one of ours. */
export function parseCustomId(
  customId: string,
): { kind: (typeof KINDS)[keyof typeof KINDS]; index: number; gridId: string } | undefined {
  const match = CUSTOM_ID.exec(customId);
  if (!match) return undefined;
  const kind = KINDS[match[1] as keyof typeof KINDS];
  return { kind, index: Number(match[2]), gridId: match[3] ?? '' };
}
