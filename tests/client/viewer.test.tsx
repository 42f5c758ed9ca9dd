import type { Job, JobList, Lineage } from '@shared/schemas/job';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { beforeEach, expect, test, vi } from 'vitest';
import { Gallery } from '@/features/jobs/components/gallery';
import { viewerChunk } from '@/features/jobs/components/gallery-chunks';
import { API, errorAnswer, makeJob } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

// Loaded once, as the app loads it when a job is first opened.
await viewerChunk.load();

beforeEach(() => {
  window.history.replaceState(null, '', '/');
});

const done = (jobId: string, rest: Partial<Omit<Job, 'job_id'>> = {}) =>
  makeJob(jobId, { status: 'complete', image_url: `/api/images/${jobId}.png`, prompt: `prompt of ${jobId}`, ...rest });

function listing(pages: Record<string, JobList>) {
  const seen: (string | null)[] = [];
  server.use(
    http.get(`${API}/jobs`, ({ request }) => {
      const cursor = new URL(request.url).searchParams.get('cursor');
      seen.push(cursor);
      return HttpResponse.json(pages[cursor ?? 'first'] ?? { jobs: [], next_cursor: null });
    }),
  );
  return seen;
}

function renderGallery(url = '/') {
  window.history.replaceState(null, '', url);
  const onUseAsImage = vi.fn();
  return { ...renderWithClient(<Gallery onUseAgain={vi.fn()} onUseAsImage={onUseAsImage} />), onUseAsImage };
}

/** The viewer once it shows its job (it opens at once, and shows "Loading…" until the list answers). */
const viewerOf = (prompt: string) => screen.findByRole('dialog', { name: prompt });

const viewerTitle = () => within(screen.getByRole('dialog')).getByRole('heading', { level: 2 });

test('a bookmarked ?view= opens the viewer on that job, as a modal dialog that has the focus', async () => {
  listing({ first: { jobs: [done('a'), done('b')], next_cursor: null } });

  renderGallery('/?view=b');
  const dialog = await viewerOf('prompt of b');

  expect(dialog).toHaveAttribute('aria-modal', 'true');
  expect(dialog).toHaveAccessibleName('prompt of b');
  expect(dialog).toContainElement(document.activeElement instanceof HTMLElement ? document.activeElement : null);
  expect(within(dialog).getByRole('img', { name: 'prompt of b' })).toHaveAttribute('src', '/api/images/b.png');
  expect(within(dialog).getByRole('link', { name: 'Download image' })).toHaveAttribute('href', '/api/images/b.png');
});

test('a card opens the viewer; Escape closes it, the URL forgets it, and the focus is back on the card', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a'), done('b')], next_cursor: null } });
  renderGallery();
  const card = await screen.findByRole('article', { name: 'prompt of b' });

  await user.click(within(card).getByRole('img', { name: 'prompt of b' }));
  const dialog = await viewerOf('prompt of b');
  const openUrl = window.location.search;
  await user.keyboard('{Escape}');
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

  expect(dialog).not.toBeInTheDocument();
  expect(openUrl).toBe('?view=b');
  expect(window.location.search).toBe('');
  expect(card).toContainElement(document.activeElement instanceof HTMLElement ? document.activeElement : null);
});

test('Enter on a card’s image opens the viewer, and closing gives the focus back to that image', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a'), done('b')], next_cursor: null } });
  renderGallery();
  const image = await screen.findByRole('img', { name: 'prompt of a' });
  const opener = image.closest('button');
  opener?.focus();

  await user.keyboard('{Enter}');
  await viewerOf('prompt of a');
  await user.click(screen.getByRole('button', { name: 'Close viewer' }));
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

  expect(opener).toHaveFocus();
});

test('Escape on a bookmarked viewer closes it and puts the focus on the card of its job', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a'), done('b')], next_cursor: null } });
  renderGallery('/?view=b');
  await viewerOf('prompt of b');

  await user.keyboard('{Escape}');
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

  expect(window.location.search).toBe('');
  expect(screen.getByRole('article', { name: 'prompt of b' })).toContainElement(
    document.activeElement instanceof HTMLElement ? document.activeElement : null,
  );
});

test('Tab keeps the focus inside the viewer', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a')], next_cursor: null } });
  renderGallery('/?view=a');
  const dialog = await viewerOf('prompt of a');

  const visited = new Set<Element | null>();
  for (let i = 0; i < 20; i++) {
    await user.tab();
    visited.add(document.activeElement);
  }

  expect([...visited].every((element) => element instanceof Node && dialog.contains(element))).toBe(true);
  expect(visited).toContain(within(dialog).getByRole('button', { name: 'Close viewer' }));
  expect(visited).toContain(within(dialog).getByRole('button', { name: 'Copy prompt' }));
});

test('← and → move between the list’s jobs, and → at the end of the loaded page loads the next one', async () => {
  const user = userEvent.setup();
  const cursors = listing({
    first: { jobs: [done('a'), done('b')], next_cursor: 'page2' },
    page2: { jobs: [done('c')], next_cursor: null },
  });
  renderGallery('/?view=a');
  await viewerOf('prompt of a');

  await user.keyboard('{ArrowLeft}');
  const atFirst = viewerTitle().textContent;
  await user.keyboard('{ArrowRight}');
  const second = viewerTitle().textContent;
  await user.keyboard('{ArrowRight}');
  await waitFor(() => expect(viewerTitle()).toHaveTextContent('prompt of c'));
  const urlAtThird = window.location.search;
  await user.keyboard('{ArrowLeft}');

  expect(atFirst).toBe('prompt of a');
  expect(second).toBe('prompt of b');
  expect(cursors).toEqual([null, 'page2']);
  expect(urlAtThird).toBe('?view=c');
  expect(viewerTitle()).toHaveTextContent('prompt of b');
  expect(screen.getByRole('button', { name: 'Next image' })).toHaveAttribute('aria-disabled', 'false');
});

test('a horizontal swipe moves to the next job, and a short one does nothing', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a'), done('b')], next_cursor: null } });
  renderGallery('/?view=a');
  const picture = within(await viewerOf('prompt of a')).getByRole('img', { name: 'prompt of a' });
  const drag = (toX: number) =>
    user.pointer([
      { keys: '[TouchA>]', target: picture, coords: { clientX: 300, clientY: 200 } },
      { pointerName: 'TouchA', target: picture, coords: { clientX: toX, clientY: 205 } },
      { keys: '[/TouchA]', target: picture, coords: { clientX: toX, clientY: 205 } },
    ]);

  await drag(270);
  const afterShort = viewerTitle().textContent;
  await drag(180);

  expect(afterShort).toBe('prompt of a');
  expect(viewerTitle()).toHaveTextContent('prompt of b');
});

test('on a grid, the keys 1 to 4 and the quadrants choose one of its four images, and its U and V', async () => {
  const user = userEvent.setup();
  const offers = [
    ...[1, 2, 3, 4].map((index) => ({ action: 'upscale' as const, index })),
    ...[1, 2, 3, 4].map((index) => ({ action: 'variation' as const, index })),
    { action: 'reroll' as const },
  ];
  listing({ first: { jobs: [done('g', { output: 'grid', available_actions: offers })], next_cursor: null } });
  renderGallery('/?view=g');
  const dialog = await viewerOf('prompt of g');
  const image = (n: number) => within(dialog).getByRole('button', { name: `Image ${n}` });

  const before = within(dialog).getAllByRole('button', { name: /^(U|V)\d,/ }).length;
  await user.keyboard('2');
  const afterKey = [1, 2, 3, 4].map((n) => image(n).getAttribute('aria-pressed'));
  await user.click(image(4));
  const shown = within(dialog)
    .getAllByRole('button', { name: /^(U|V)\d,|^Reroll/ })
    .map((button) => button.textContent);

  expect(afterKey).toEqual(['false', 'true', 'false', 'false']);
  expect(image(4)).toHaveAttribute('aria-pressed', 'true');
  expect(image(2)).toHaveAttribute('aria-pressed', 'false');
  expect(within(dialog).getByText('Image 4 of 4 chosen: its actions below')).toBeInTheDocument();
  expect(before).toBe(8);
  expect(shown).toEqual(['U4', 'V4', '↻ Reroll']);
});

test('a video plays in the viewer, muted and looping, with its own download', async () => {
  listing({
    first: {
      jobs: [
        done('v', {
          output: 'video',
          video_url: '/api/videos/v.mp4',
          video_download_name: 'fox.mp4',
        }),
      ],
      next_cursor: null,
    },
  });

  renderGallery('/?view=v');
  const dialog = await viewerOf('prompt of v');
  const video = dialog.querySelector('video');

  expect(video).toHaveAttribute('src', '/api/videos/v.mp4');
  expect(video).toHaveAttribute('controls');
  expect(video).toHaveAttribute('loop');
  expect(video).toHaveAttribute('autoplay');
  expect(video?.muted).toBe(true);
  expect(within(dialog).getByRole('link', { name: 'Download video' })).toHaveAttribute('download', 'fox.mp4');
});

test('"Copy prompt" puts the prompt as it was run on the clipboard and says so', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a', { final_prompt: 'prompt of a --ar 16:9 --v 7' })], next_cursor: null } });
  renderGallery('/?view=a');
  const dialog = await viewerOf('prompt of a');

  await user.click(within(dialog).getByRole('button', { name: 'Copy prompt' }));

  expect(await navigator.clipboard.readText()).toBe('prompt of a --ar 16:9 --v 7');
  expect(within(dialog).getByRole('status')).toHaveTextContent('Copied');
});

test('the star marks a favourite with PUT and unmarks it with DELETE, and the list shows it', async () => {
  const user = userEvent.setup();
  const requests: string[] = [];
  server.events.on('request:start', ({ request }) => {
    if (new URL(request.url).pathname.endsWith('/favourite')) requests.push(request.method);
  });
  listing({ first: { jobs: [done('a')], next_cursor: null } });
  renderGallery('/?view=a');
  const star = within(await viewerOf('prompt of a')).getByRole('button', { name: 'Favourite' });

  await user.click(star);
  await waitFor(() => expect(requests).toEqual(['PUT']));
  const marked = star.getAttribute('aria-pressed');
  const listMarked = screen.queryByText('Favourite:') !== null;
  await user.click(star);
  await waitFor(() => expect(requests).toEqual(['PUT', 'DELETE']));

  expect(marked).toBe('true');
  expect(listMarked).toBe(true);
  await waitFor(() => expect(star).toHaveAttribute('aria-pressed', 'false'));
  expect(screen.queryByText('Favourite:')).not.toBeInTheDocument();
});

test('the star turns back, and says why, when the server refuses', async () => {
  const user = userEvent.setup();
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  server.use(
    http.put(
      `${API}/jobs/:jobId/favourite`,
      async () => {
        await answered;
        return errorAnswer(500, { code: 'internal', message: 'Something broke on our side' });
      },
      { once: true },
    ),
  );
  listing({ first: { jobs: [done('a')], next_cursor: null } });
  renderGallery('/?view=a');
  const star = within(await viewerOf('prompt of a')).getByRole('button', { name: 'Favourite' });

  await user.click(star);
  const whileAsking = star.getAttribute('aria-pressed');
  answer();
  await waitFor(() => expect(star).toHaveAttribute('aria-pressed', 'false'));

  expect(whileAsking).toBe('true');
  expect(screen.getByRole('alert')).toHaveTextContent('Could not mark it as a favourite: Something broke on our side');
  expect(screen.queryByText('Favourite:')).not.toBeInTheDocument();
});

test('the lineage shows where a job came from and what was made from it, and opens a job not on the page', async () => {
  const user = userEvent.setup();
  const grid = done('g1', { output: 'grid', prompt: 'the grid it came from' });
  const upscale = done('u2', { output: 'image', kind: 'action', parent_id: 'g1', action: 'upscale', action_index: 2 });
  const video = done('vid', { output: 'video', kind: 'action', parent_id: 'u2', action: 'animate_low' });
  listing({ first: { jobs: [upscale], next_cursor: null } });
  server.use(
    http.get(`${API}/jobs/u2/lineage`, () =>
      HttpResponse.json({ ancestors: [grid], children: [video] } satisfies Lineage),
    ),
  );
  renderGallery('/?view=u2');
  const dialog = await viewerOf('prompt of u2');
  const related = await within(dialog).findByRole('navigation', { name: 'Related images' });

  const madeFrom = within(within(related).getByRole('region', { name: 'Made from' })).getAllByRole('button');
  const madeFromThis = within(within(related).getByRole('region', { name: 'Made from this' })).getAllByRole('button');
  await user.click(madeFrom[0] ?? dialog);

  expect(madeFrom.map((button) => button.textContent)).toEqual(['Grid']);
  expect(madeFromThis.map((button) => button.textContent)).toEqual(['Animate (low motion)']);
  await waitFor(() => expect(viewerTitle()).toHaveTextContent('the grid it came from'));
  expect(window.location.search).toBe('?view=g1');
  expect(within(dialog).getByRole('button', { name: 'Image 1' })).toBeInTheDocument();
  expect(dialog).toContainElement(document.activeElement instanceof HTMLElement ? document.activeElement : null);
});

test('a bookmarked job that is not on the loaded page is fetched by its id', async () => {
  listing({ first: { jobs: [done('a')], next_cursor: null } });
  server.use(http.get(`${API}/jobs/far`, () => HttpResponse.json(done('far', { prompt: 'from long ago' }))));

  renderGallery('/?view=far');

  await waitFor(() => expect(viewerTitle()).toHaveTextContent('from long ago'));
  expect(screen.queryByText(/ of 1/)).not.toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Next image' })).toHaveAttribute('aria-disabled', 'true');
});

test('"Use as image prompt" closes the viewer and hands the image to the prompt box', async () => {
  const user = userEvent.setup();
  listing({ first: { jobs: [done('a')], next_cursor: null } });
  const { onUseAsImage } = renderGallery('/?view=a');
  const dialog = await viewerOf('prompt of a');

  await user.click(within(dialog).getByRole('button', { name: 'Use as image prompt' }));
  await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

  expect(onUseAsImage).toHaveBeenCalledWith({ ref: { job_id: 'a' }, url: '/api/images/a.png', name: 'prompt of a' });
});
