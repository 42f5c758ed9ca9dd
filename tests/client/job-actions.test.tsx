import type { Job, JobAction, OfferedAction } from '@shared/schemas/job';
import { GRID_INDEXES } from '@shared/schemas/job-values';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { actionLabel } from '@/features/jobs/components/job-actions';
import { JobCard } from '@/features/jobs/components/job-card';
import { API, errorAnswer, makeJob } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

const IMAGE_ACTIONS: JobAction[] = [
  'upscale_subtle',
  'upscale_creative',
  'vary_subtle',
  'vary_strong',
  'vary_region',
  'zoom_out_2x',
  'zoom_out_1_5x',
  'zoom_custom',
  'pan_left',
  'pan_right',
  'pan_up',
  'pan_down',
  'animate_low',
  'animate_high',
];

const offersOf = (actions: JobAction[]): OfferedAction[] => actions.map((action) => ({ action }));

function finished(jobId: string, output: Job['output'], offers: OfferedAction[], rest: Partial<Job> = {}): Job {
  return makeJob(jobId, {
    status: 'complete',
    progress: 100,
    output,
    prompt: 'a lighthouse at dusk',
    finished_at: new Date(Date.now()).toISOString(),
    image_url: `/api/images/${jobId}.png`,
    download_name: 'a-lighthouse-at-dusk.png',
    available_actions: offers,
    ...rest,
  });
}

const upscaled = (actions: JobAction[] = IMAGE_ACTIONS) =>
  finished('up1', 'image', offersOf(actions), { kind: 'action', action: 'upscale', action_index: 2, parent_id: 'g1' });

const grid = (offers: OfferedAction[]) => finished('g1', 'grid', offers);

/** Answers every action on `jobId` with a new pending job, and keeps each request's body. */
function recordActions(jobId: string, answer?: () => Response | Promise<Response>): unknown[] {
  const sent: unknown[] = [];
  server.use(
    http.post(`${API}/jobs/${jobId}/actions`, async ({ request }) => {
      sent.push(await request.json());
      return (await answer?.()) ?? HttpResponse.json(makeJob(`made${sent.length}`), { status: 202 });
    }),
  );
  return sent;
}

/** Each fieldset of the card's actions, by its legend, with the names of its buttons. */
function groupsOf(card: HTMLElement) {
  return within(card)
    .getAllByRole('group')
    .map((group) => [
      group.querySelector('legend')?.textContent,
      within(group)
        .getAllByRole('button')
        .map((button) => button.getAttribute('aria-label')),
    ]);
}

test('an upscale offers Upscale, Vary, Zoom Out, Pan and Animate, grouped as Midjourney V7 shows them', () => {
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  const card = screen.getByRole('article');

  expect(groupsOf(card)).toEqual([
    ['Upscale', ['Upscale Subtle', 'Upscale Creative']],
    ['Vary', ['Vary Subtle', 'Vary Strong', 'Vary Region']],
    ['Zoom Out', ['Zoom Out 2x', 'Zoom Out 1.5x', 'Custom Zoom']],
    ['Pan', ['Pan left', 'Pan right', 'Pan up', 'Pan down']],
    ['Animate', ['Animate low motion', 'Animate high motion']],
  ]);
  expect(within(card).getByRole('button', { name: 'Pan left' })).toHaveTextContent('←');
  expect(within(card).getByRole('button', { name: 'Vary Region' })).toHaveAttribute('aria-haspopup', 'dialog');
  expect(within(card).getByRole('button', { name: 'Remix' })).toHaveAttribute('aria-pressed', 'false');
  expect(within(card).queryByRole('button', { name: /^U\d|^V\d|Reroll/ })).not.toBeInTheDocument();
});

test('a card shows only what its job offers: no Pan, Animate or Remix where the upstream offers none', () => {
  renderWithClient(<JobCard job={upscaled(['upscale_creative', 'vary_region', 'zoom_out_2x'])} onUseAgain={vi.fn()} />);

  const groups = groupsOf(screen.getByRole('article'));

  expect(groups).toEqual([
    ['Upscale', ['Upscale Creative']],
    ['Vary', ['Vary Region']],
    ['Zoom Out', ['Zoom Out 2x']],
  ]);
  expect(screen.queryByRole('button', { name: 'Remix' })).not.toBeInTheDocument();
});

test('a grid shows the images it offers, in order whatever the order of the offers', () => {
  const offers: OfferedAction[] = [
    { action: 'upscale', index: 3 },
    { action: 'upscale', index: 1 },
  ];
  renderWithClient(<JobCard job={grid(offers)} onUseAgain={vi.fn()} />);

  const groups = groupsOf(screen.getByRole('article'));

  expect(groups).toEqual([['Upscale', ['U1, upscale image 1 (top left)', 'U3, upscale image 3 (bottom left)']]]);
  expect(screen.queryByRole('button', { name: /Reroll|Remix/ })).not.toBeInTheDocument();
});

test('a finished video plays in the card with controls, muted and looping, its first frame as poster, and offers Extend', () => {
  const video = finished('vid1', 'video', offersOf(['extend_low', 'extend_high']), {
    video_url: '/api/videos/vid1.mp4',
    video_download_name: 'a-lighthouse-at-dusk.mp4',
  });
  const { container } = renderWithClient(<JobCard job={video} onUseAgain={vi.fn()} />);

  const player = container.querySelector('video');

  expect(player).toHaveAttribute('src', '/api/videos/vid1.mp4');
  expect(player).toHaveAttribute('poster', '/api/images/vid1.png');
  expect(player).toHaveAttribute('controls');
  expect(player).toHaveAttribute('loop');
  expect(player).toHaveAttribute('playsinline');
  expect(player).toHaveAttribute('preload', 'metadata');
  expect(player).toHaveProperty('muted', true);
  expect(player).toHaveAccessibleName('a lighthouse at dusk');
  expect(container.querySelector('.job-placeholder')).toBeNull();
  expect(screen.getByRole('link', { name: 'Download video' })).toHaveAttribute('download', 'a-lighthouse-at-dusk.mp4');
  expect(groupsOf(screen.getByRole('article'))).toEqual([['Extend', ['Extend low motion', 'Extend high motion']]]);
});

test('a running video shows the placeholder and the preview, as an image does', () => {
  const running = makeJob('vid2', { status: 'processing', output: 'video', progress: 30, preview_url: '/api/p.webp' });
  const { container } = renderWithClient(<JobCard job={running} onUseAgain={vi.fn()} />);

  const preview = container.querySelector('img.job-preview');

  expect(preview).toHaveAttribute('src', '/api/p.webp');
  expect(container.querySelector('video')).toBeNull();
  expect(screen.queryByRole('link', { name: /Download/ })).not.toBeInTheDocument();
});

test('each action an upscale offers without asking posts its own name, one request each', async () => {
  const direct: [name: string, action: JobAction][] = [
    ['Upscale Subtle', 'upscale_subtle'],
    ['Upscale Creative', 'upscale_creative'],
    ['Vary Subtle', 'vary_subtle'],
    ['Vary Strong', 'vary_strong'],
    ['Zoom Out 2x', 'zoom_out_2x'],
    ['Zoom Out 1.5x', 'zoom_out_1_5x'],
    ['Pan left', 'pan_left'],
    ['Pan right', 'pan_right'],
    ['Pan up', 'pan_up'],
    ['Pan down', 'pan_down'],
    ['Animate low motion', 'animate_low'],
    ['Animate high motion', 'animate_high'],
  ];
  const sent = recordActions('up1');
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  for (const [name] of direct) {
    await user.click(screen.getByRole('button', { name }));
    await waitFor(() => expect(screen.getByRole('button', { name })).toBeEnabled());
  }

  expect(sent).toEqual(direct.map(([, action]) => ({ action })));
});

test('a grid sends its image with U and V, and nothing with Reroll', async () => {
  const offers: OfferedAction[] = [
    ...GRID_INDEXES.map((index) => ({ action: 'variation' as const, index })),
    { action: 'reroll' },
  ];
  const sent = recordActions('g1');
  const user = userEvent.setup();
  renderWithClient(<JobCard job={grid(offers)} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'V3, variations of image 3 (bottom left)' }));
  await waitFor(() => expect(sent).toHaveLength(1));
  await waitFor(() => expect(screen.getByRole('button', { name: /^Reroll/ })).toBeEnabled());
  await user.click(screen.getByRole('button', { name: /^Reroll/ }));
  await waitFor(() => expect(sent).toHaveLength(2));

  expect(sent).toEqual([{ action: 'variation', index: 3 }, { action: 'reroll' }]);
});

test('a pending action shows busy on its button while every action waits for it', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  recordActions('up1', async () => {
    await gate;
    return HttpResponse.json(makeJob('made'), { status: 202 });
  });
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Zoom Out 2x' }));
  const busy = screen.getByRole('button', { name: 'Zoom Out 2x' });
  const other = screen.getByRole('button', { name: 'Pan up' });
  const [busyState, busyText, otherDisabled] = [
    busy.getAttribute('aria-busy'),
    busy.textContent,
    other.hasAttribute('disabled'),
  ];
  release();

  expect(busyState).toBe('true');
  expect(busyText).toBe('…');
  expect(otherDisabled).toBe(true);
  await waitFor(() => expect(busy).not.toHaveAttribute('aria-busy'));
  expect(busy).toHaveTextContent('2x');
});

test('a refusal (409) shows its message in an alert next to the actions', async () => {
  recordActions('up1', () =>
    errorAnswer(409, { code: 'conflict', message: 'This image has been upscaled (Subtle) already' }),
  );
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Upscale Subtle' }));
  const alert = await screen.findByRole('alert');

  expect(alert).toHaveTextContent('This image has been upscaled (Subtle) already');
  expect(alert.closest('.grid-actions')).toContainElement(screen.getByRole('button', { name: 'Upscale Subtle' }));
});

test('Custom Zoom refuses 2.5 with a message and sends nothing; 1.8 and a new prompt are sent, and focus comes back', async () => {
  const sent = recordActions('up1');
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Custom Zoom' }));
  const dialog = await screen.findByRole('dialog', { name: 'Custom Zoom' });
  const factor = within(dialog).getByRole('spinbutton', { name: 'Zoom out by' });
  const initial = (factor as HTMLInputElement).value;
  const focusedAtOpen = document.activeElement;
  await user.clear(factor);
  await user.type(factor, '2.5');
  await user.click(within(dialog).getByRole('button', { name: 'Submit' }));
  const refusal = within(dialog).getByRole('alert').textContent;
  const invalid = factor.getAttribute('aria-invalid');
  const sentAfterRefusal = sent.length;
  await user.clear(factor);
  await user.type(factor, '1.8');
  const prompt = within(dialog).getByRole('textbox', { name: 'New prompt (optional)' });
  await user.clear(prompt);
  await user.type(prompt, 'a lighthouse at dusk, wide coastline');
  await user.click(within(dialog).getByRole('button', { name: 'Submit' }));
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

  expect(initial).toBe('1.5');
  expect(focusedAtOpen).toBe(factor);
  expect(refusal).toBe('Zoom out by 1 to 2, for example 1.5');
  expect(invalid).toBe('true');
  expect(sentAfterRefusal).toBe(0);
  expect(sent).toEqual([{ action: 'zoom_custom', zoom: 1.8, prompt: 'a lighthouse at dusk, wide coastline' }]);
  expect(screen.getByRole('button', { name: 'Custom Zoom' })).toHaveFocus();
});

test('a refusal inside a dialog shows there, and the dialog stays open', async () => {
  recordActions('up1', () => errorAnswer(409, { code: 'conflict', message: 'Zoom is not offered for this image' }));
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Custom Zoom' }));
  const dialog = await screen.findByRole('dialog', { name: 'Custom Zoom' });
  await user.click(within(dialog).getByRole('button', { name: 'Submit' }));

  expect(await within(dialog).findByRole('alert')).toHaveTextContent('Zoom is not offered for this image');
  expect(screen.getAllByRole('alert')).toHaveLength(1);
});

test('with Remix on, V2 and Reroll ask for a new prompt first; a prompt left as it was is not sent', async () => {
  const offers: OfferedAction[] = [
    ...GRID_INDEXES.map((index) => ({ action: 'variation' as const, index })),
    { action: 'reroll' },
  ];
  const sent = recordActions('g1');
  const user = userEvent.setup();
  renderWithClient(<JobCard job={grid(offers)} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Remix' }));
  await user.click(screen.getByRole('button', { name: /^V2,/ }));
  const first = await screen.findByRole('dialog', { name: 'V2, variations of image 2 (top right)' });
  const prompt = within(first).getByRole('textbox', { name: 'New prompt (optional)' });
  const prefilled = (prompt as HTMLTextAreaElement).value;
  await user.type(prompt, ', in a storm');
  await user.click(within(first).getByRole('button', { name: 'Submit' }));
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  await user.click(screen.getByRole('button', { name: /^Reroll/ }));
  const second = await screen.findByRole('dialog');
  await user.click(within(second).getByRole('button', { name: 'Submit' }));
  await waitFor(() => expect(sent).toHaveLength(2));

  expect(screen.getByRole('button', { name: 'Remix' })).toHaveAttribute('aria-pressed', 'true');
  expect(prefilled).toBe('a lighthouse at dusk');
  expect(sent).toEqual([
    { action: 'variation', index: 2, prompt: 'a lighthouse at dusk, in a storm' },
    { action: 'reroll' },
  ]);
});

test('with Remix on, Animate asks for a motion prompt, empty to start', async () => {
  const sent = recordActions('up1');
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Remix' }));
  await user.click(screen.getByRole('button', { name: 'Animate high motion' }));
  const dialog = await screen.findByRole('dialog', { name: 'Animate (high motion)' });
  const motion = within(dialog).getByRole('textbox', { name: 'Motion prompt (optional)' });
  const initial = (motion as HTMLTextAreaElement).value;
  await user.type(motion, 'slow push in');
  await user.click(within(dialog).getByRole('button', { name: 'Submit' }));
  await waitFor(() => expect(sent).toHaveLength(1));

  expect(initial).toBe('');
  expect(sent).toEqual([{ action: 'animate_high', prompt: 'slow push in' }]);
});

test('Escape closes a dialog without sending, and focus returns to its button', async () => {
  const sent = recordActions('up1');
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Custom Zoom' }));
  await screen.findByRole('dialog');
  await user.keyboard('{Escape}');

  expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Custom Zoom' })).toHaveFocus();
  expect(sent).toEqual([]);
});

test('a job made by an action is labelled with what made it and links to the job it came from', () => {
  const label = (rest: Partial<Job>) => actionLabel(makeJob('x', rest));

  renderWithClient(
    <JobCard job={finished('z1', 'grid', [], { action: 'zoom_out_2x', parent_id: 'up1' })} onUseAgain={vi.fn()} />,
  );

  expect(screen.getByText(/Zoom Out 2x/)).toBeInTheDocument();
  expect(screen.getByRole('link', { name: 'from this image' })).toHaveAttribute('href', '#job-up1');
  expect([
    label({ action: 'upscale', action_index: 2 }),
    label({ action: 'variation', action_index: 3 }),
    label({ action: 'reroll' }),
    label({ action: 'upscale_subtle' }),
    label({ action: 'vary_region' }),
    label({ action: 'zoom_out_2x' }),
    label({ action: 'zoom_custom', action_zoom: 1.8 }),
    label({ action: 'pan_left' }),
    label({ action: 'animate_high' }),
    label({ action: 'extend_low' }),
    label({}),
  ]).toEqual([
    'Upscale of image 2',
    'Variations of image 3',
    'Reroll',
    'Upscale (Subtle)',
    'Vary (Region)',
    'Zoom Out 2x',
    'Custom Zoom 1.8x',
    'Pan left',
    'Animate (high motion)',
    'Extend (low motion)',
    undefined,
  ]);
});

test('keys pressed in a dialog stay in it: whatever it was opened from (the viewer) does not see them', async () => {
  const outside = vi.fn();
  document.addEventListener('keydown', outside);
  const user = userEvent.setup();
  renderWithClient(<JobCard job={upscaled()} onUseAgain={vi.fn()} />);

  await user.click(screen.getByRole('button', { name: 'Custom Zoom' }));
  await screen.findByRole('dialog');
  await user.keyboard('{ArrowLeft}{Tab}{Escape}');
  document.removeEventListener('keydown', outside);

  expect(outside).not.toHaveBeenCalled();
  expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
});
