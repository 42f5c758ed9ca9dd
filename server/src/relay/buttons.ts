// Midjourney's buttons as relays pass them on, and how a button's customId reads back: the
// relay face returns them with our task number where Discord puts its message hash, and the
// simulator with its own job ids (clients show labels and emoji, and send the id back untouched).
import type { JobAction, OfferedAction } from '@shared/schemas/job';

export interface RelayButton {
  customId: string;
  emoji: string;
  label: string;
  style: number;
  type: number;
}

const PAN_ARROWS: Partial<Record<JobAction, string>> = {
  pan_left: '⬅️',
  pan_right: '➡️',
  pan_up: '⬆️',
  pan_down: '⬇️',
};

/** One action's button: `n` is the task's id. */
function button(offer: OfferedAction, n: string): RelayButton {
  const make = (customId: string, label: string, emoji = '') => ({ customId, label, emoji, style: 2, type: 2 });
  const solo = (name: string) => `MJ::JOB::${name}::1::${n}::SOLO`;
  const { action, index = 1 } = offer;
  switch (action) {
    case 'upscale':
      return make(`MJ::JOB::upsample::${index}::${n}`, `U${index}`);
    case 'variation':
      return make(`MJ::JOB::variation::${index}::${n}`, `V${index}`);
    case 'reroll':
      return make(`MJ::JOB::reroll::0::${n}::SOLO`, '', '🔄');
    case 'upscale_subtle':
      return make(solo('upsample_v7_2x_subtle'), 'Upscale (Subtle)');
    case 'upscale_creative':
      return make(solo('upsample_v7_2x_creative'), 'Upscale (Creative)');
    case 'vary_subtle':
      return make(solo('low_variation'), 'Vary (Subtle)', '🪄');
    case 'vary_strong':
      return make(solo('high_variation'), 'Vary (Strong)', '🪄');
    case 'vary_region':
      return make(`MJ::Inpaint::1::${n}::SOLO`, 'Vary (Region)', '🖌️');
    case 'zoom_out_2x':
      return make(`MJ::Outpaint::50::1::${n}::SOLO`, 'Zoom Out 2x', '🔍');
    case 'zoom_out_1_5x':
      return make(`MJ::Outpaint::75::1::${n}::SOLO`, 'Zoom Out 1.5x', '🔍');
    case 'zoom_custom':
      return make(`MJ::CustomZoom::${n}`, 'Custom Zoom', '🔍');
    case 'pan_left':
    case 'pan_right':
    case 'pan_up':
    case 'pan_down':
      return make(solo(action), '', PAN_ARROWS[action] ?? '');
    case 'animate_high':
    case 'animate_low':
      return make(solo(action), action === 'animate_high' ? 'Animate (High motion)' : 'Animate (Low motion)', '🎞️');
    case 'extend_high':
    case 'extend_low':
      return make(
        solo(`animate_${action.slice('extend_'.length)}_extend`),
        `Extend (${action === 'extend_high' ? 'High' : 'Low'} motion)`,
      );
  }
}

/** A finished job's offers as buttons, in Midjourney's order (U1-U4, 🔄, V1-V4 on a grid). */
export function buttonsFor(offers: readonly OfferedAction[], taskId: number | string): RelayButton[] {
  const rank = (offer: OfferedAction) =>
    offer.action === 'upscale' ? 0 : offer.action === 'reroll' ? 1 : offer.action === 'variation' ? 2 : 3;
  return [...offers]
    .sort((a, b) => rank(a) - rank(b) || (a.index ?? 0) - (b.index ?? 0))
    .map((offer) => button(offer, String(taskId)));
}

const CUSTOM_IDS: readonly [RegExp, (match: RegExpExecArray) => OfferedAction][] = [
  [/^MJ::JOB::upsample::([1-4])::([A-Za-z0-9_-]{1,64})$/, (m) => ({ action: 'upscale', index: Number(m[1]) })],
  [/^MJ::JOB::variation::([1-4])::([A-Za-z0-9_-]{1,64})$/, (m) => ({ action: 'variation', index: Number(m[1]) })],
  [/^MJ::JOB::reroll::0::([A-Za-z0-9_-]{1,64})::SOLO$/, () => ({ action: 'reroll' })],
  [
    /^MJ::JOB::upsample_v7_2x_(subtle|creative)::1::([A-Za-z0-9_-]{1,64})::SOLO$/,
    (m) => ({ action: `upscale_${m[1]}` as JobAction }),
  ],
  [
    /^MJ::JOB::(low|high)_variation::1::([A-Za-z0-9_-]{1,64})::SOLO$/,
    (m) => ({ action: m[1] === 'low' ? 'vary_subtle' : 'vary_strong' }),
  ],
  [/^MJ::Inpaint::1::([A-Za-z0-9_-]{1,64})::SOLO$/, () => ({ action: 'vary_region' })],
  [
    /^MJ::Outpaint::(50|75)::1::([A-Za-z0-9_-]{1,64})::SOLO$/,
    (m) => ({ action: m[1] === '50' ? 'zoom_out_2x' : 'zoom_out_1_5x' }),
  ],
  [/^MJ::CustomZoom::([A-Za-z0-9_-]{1,64})$/, () => ({ action: 'zoom_custom' })],
  [/^MJ::JOB::(pan_(?:left|right|up|down))::1::([A-Za-z0-9_-]{1,64})::SOLO$/, (m) => ({ action: m[1] as JobAction })],
  [
    /^MJ::JOB::animate_(high|low)_extend::1::([A-Za-z0-9_-]{1,64})::SOLO$/,
    (m) => ({ action: `extend_${m[1]}` as JobAction }),
  ],
  [/^MJ::JOB::(animate_(?:high|low))::1::([A-Za-z0-9_-]{1,64})::SOLO$/, (m) => ({ action: m[1] as JobAction })],
];

/** What a button asks for, and of which task (its id); undefined for an id not of these shapes. */
export function readCustomId(customId: string): { offer: OfferedAction; taskId: string } | undefined {
  if (customId.length > 200) return undefined;
  for (const [pattern, read] of CUSTOM_IDS) {
    const match = pattern.exec(customId);
    if (match) return { offer: read(match), taskId: match.at(-1) ?? '' };
  }
  return undefined;
}

/** The modal-asking actions: a relay client gets code 21 and sends /submit/modal. */
export const MODAL_ACTIONS: ReadonlySet<JobAction> = new Set(['vary_region', 'zoom_custom']);
