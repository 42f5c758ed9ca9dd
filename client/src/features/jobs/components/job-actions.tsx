// The buttons under a finished job: exactly what its upstream offers for it (available_actions),
// grouped as Midjourney V7 users know them. On a grid, U1-U4, V1-V4 and Reroll; on an image,
// Upscale, Vary, Zoom Out, Pan and Animate; on a video, Extend. Vary (Region), Custom Zoom and,
// with Remix on, the actions that take a prompt ask first, in dialogs that are chunks of their
// own. One table names every action, for the buttons and for what a job was made by.
import type { Job, JobAction, OfferedAction } from '@shared/schemas/job';
import { JOB_ACTIONS, PROMPTED_ACTIONS } from '@shared/schemas/job-values';
import { type ComponentType, Fragment, type MouseEvent, useState } from 'react';
import { type LazyModule, lazyModule, useLazyModule } from '@/lib/lazy-module';
import { useJobAction } from '../api/act-on-job';
import type { ActionDialogProps } from './modal';
import type { PromptDialogProps } from './prompt-dialog';
import type { RegionEditorProps } from './region-editor';

const PLACES = ['top left', 'top right', 'bottom left', 'bottom right'] as const;

/** Each action's group, its button's text and its name; a grid's name is completed with the image. */
const ACTIONS: Record<JobAction, readonly [group: string, text: string, name: string]> = {
  upscale: ['Upscale', 'U', 'upscale image'],
  variation: ['Vary', 'V', 'variations of image'],
  reroll: ['', '↻ Reroll', 'Reroll: a new grid from the same prompt'],
  upscale_subtle: ['Upscale', 'Subtle', 'Upscale (Subtle)'],
  upscale_creative: ['Upscale', 'Creative', 'Upscale (Creative)'],
  vary_subtle: ['Vary', 'Subtle', 'Vary (Subtle)'],
  vary_strong: ['Vary', 'Strong', 'Vary (Strong)'],
  vary_region: ['Vary', 'Region', 'Vary (Region)'],
  zoom_out_2x: ['Zoom Out', '2x', 'Zoom Out 2x'],
  zoom_out_1_5x: ['Zoom Out', '1.5x', 'Zoom Out 1.5x'],
  zoom_custom: ['Zoom Out', 'Custom', 'Custom Zoom'],
  pan_left: ['Pan', '←', 'Pan left'],
  pan_right: ['Pan', '→', 'Pan right'],
  pan_up: ['Pan', '↑', 'Pan up'],
  pan_down: ['Pan', '↓', 'Pan down'],
  animate_low: ['Animate', 'Low', 'Animate (low motion)'],
  animate_high: ['Animate', 'High', 'Animate (high motion)'],
  extend_low: ['Extend', 'Low', 'Extend (low motion)'],
  extend_high: ['Extend', 'High', 'Extend (high motion)'],
};

/** Actions that always ask for more first; with Remix on, every action that takes a prompt does. */
const ASKING: readonly JobAction[] = ['vary_region', 'zoom_custom'];

/** The text on an offer's button and its accessible name, which starts with that text on a grid. */
function describe({ action, index }: OfferedAction): readonly [group: string, text: string, name: string] {
  const [group, text, name] = ACTIONS[action];
  return index
    ? [group, `${text}${index}`, `${text}${index}, ${name} ${index} (${PLACES[index - 1]})`]
    : [group, text, name];
}

const regionEditor = lazyModule(() => import('./region-editor').then((module) => module.RegionEditor));
const promptDialog = lazyModule(() => import('./prompt-dialog').then((module) => module.PromptDialog));

/** `index`: one of a grid's images chosen (the viewer's 1-4): only its U and V are shown. */
export function JobActions({ job, index }: { job: Job; index?: number | undefined }) {
  const act = useJobAction(job.job_id);
  const [asking, setAsking] = useState<OfferedAction>();
  const [remix, setRemix] = useState(false);
  const offers = (job.available_actions ?? [])
    .filter((offer) => index === undefined || offer.index === undefined || offer.index === index)
    .sort((a, b) => JOB_ACTIONS.indexOf(a.action) - JOB_ACTIONS.indexOf(b.action) || (a.index ?? 0) - (b.index ?? 0));
  if (offers.length === 0) return null;
  const pending = act.isPending ? act.variables : undefined;
  const remixable = offers.some(({ action }) => PROMPTED_ACTIONS.includes(action) && !ASKING.includes(action));

  function ask(event: MouseEvent<HTMLButtonElement>, offer: OfferedAction) {
    // Safari does not focus a clicked button; the dialog gives focus back to whatever had it.
    event.currentTarget.focus();
    act.reset();
    setAsking(offer);
  }

  const button = (offer: OfferedAction) => {
    const [, text, name] = describe(offer);
    const busy = pending?.action === offer.action && pending.index === offer.index;
    const asks = ASKING.includes(offer.action) || (remix && PROMPTED_ACTIONS.includes(offer.action));
    return (
      <button
        key={`${offer.action}${offer.index ?? ''}`}
        type="button"
        onClick={(event) => (asks ? ask(event, offer) : act.mutate(offer))}
        disabled={act.isPending}
        // Without Midjourney's brackets: what is seen ("Subtle") must read as a word of the
        // name ("Upscale Subtle"), which "Upscale (Subtle)" does not for a label-in-name check.
        aria-label={offer.index ? name : name.replace(/[()]/g, '')}
        title={name}
        aria-haspopup={asks ? 'dialog' : undefined}
        aria-busy={busy || undefined}
      >
        {busy ? '…' : text}
      </button>
    );
  };

  // Consecutive offers of one group share a fieldset; Reroll stands alone.
  const groups: [string, OfferedAction[]][] = [];
  for (const offer of offers) {
    const group = ACTIONS[offer.action][0];
    const last = groups.at(-1);
    if (group && last?.[0] === group) last[1].push(offer);
    else groups.push([group, [offer]]);
  }

  const dialog: ActionDialogProps | undefined = asking && {
    title: describe(asking)[2],
    pending: act.isPending,
    error: act.error?.message,
    onSubmit: (request) => act.mutate(request, { onSuccess: () => setAsking(undefined) }),
    onClose: () => setAsking(undefined),
  };

  return (
    <div className="grid-actions">
      {groups.map(([group, members]) =>
        group ? (
          <fieldset key={group}>
            <legend>{group}</legend>
            {members.map(button)}
          </fieldset>
        ) : (
          <Fragment key={members[0]?.action}>{members.map(button)}</Fragment>
        ),
      )}
      {remixable ? (
        <button
          type="button"
          className="remix-toggle"
          aria-pressed={remix}
          onClick={() => setRemix(!remix)}
          title="Remix: give a new prompt (or a motion prompt) before each action"
        >
          Remix
        </button>
      ) : null}
      {act.error && !asking ? (
        <p className="form-error" role="alert">
          {act.error.message}
        </p>
      ) : null}
      {asking && dialog ? (
        asking.action === 'vary_region' ? (
          <Lazy<RegionEditorProps> module={regionEditor} props={{ ...dialog, job }} />
        ) : (
          <Lazy<PromptDialogProps> module={promptDialog} props={{ ...dialog, offer: asking, prompt: job.prompt }} />
        )
      ) : null}
    </div>
  );
}

/** A component from a chunk of its own, shown once the chunk has arrived. */
function Lazy<P extends object>({ module, props }: { module: LazyModule<ComponentType<P>>; props: P }) {
  const Component = useLazyModule(module);
  return Component ? <Component {...props} /> : null;
}

/** What made this job: "Upscale of image 2", "Reroll", "Vary (Region)", "Custom Zoom 1.8x"… */
export function actionLabel(job: Job): string | undefined {
  switch (job.action) {
    case undefined:
      return undefined;
    case 'upscale':
      return `Upscale of image ${job.action_index ?? '?'}`;
    case 'variation':
      return `Variations of image ${job.action_index ?? '?'}`;
    case 'reroll':
      return 'Reroll';
    case 'zoom_custom':
      return job.action_zoom ? `Custom Zoom ${job.action_zoom}x` : 'Custom Zoom';
    default:
      return ACTIONS[job.action][2];
  }
}
