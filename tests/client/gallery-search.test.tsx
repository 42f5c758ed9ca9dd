import type { Job } from '@shared/schemas/job';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { beforeEach, expect, test, vi } from 'vitest';
import { replaceInList } from '@/features/jobs/api/list-jobs';
import { Gallery } from '@/features/jobs/components/gallery';
import { filterPanelChunk, viewerChunk } from '@/features/jobs/components/gallery-chunks';
import { SEARCH_DEBOUNCE_MS } from '@/features/jobs/components/search-bar';
import { API, makeJob } from '../mocks/api';
import { advance, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

// Loaded once, as the app loads them when first wanted.
await Promise.all([viewerChunk.load(), filterPanelChunk.load()]);

beforeEach(() => {
  window.history.replaceState(null, '', '/');
});

const fox = makeJob('fox', { status: 'complete', image_url: '/api/images/fox.png', prompt: 'a red fox' });
const owl = makeJob('owl', {
  status: 'complete',
  output: 'video',
  image_url: '/api/images/owl.png',
  video_url: '/api/videos/owl.mp4',
  prompt: 'an owl at night',
});

/** The history as the server filters it (by the prompt's words and the output), and the queries it was asked. */
function history(jobs: Job[]) {
  const asked: URLSearchParams[] = [];
  server.use(
    http.get(`${API}/jobs`, ({ request }) => {
      const query = new URL(request.url).searchParams;
      asked.push(query);
      const words = query.get('q')?.split(' ') ?? [];
      const outputs = query.get('output')?.split(',');
      const found = jobs.filter(
        (job) =>
          words.every((word) => job.prompt.split(' ').some((part) => part.startsWith(word))) &&
          (!outputs || outputs.includes(job.output)),
      );
      return HttpResponse.json({ jobs: found, next_cursor: null });
    }),
  );
  return asked;
}

function renderGallery(url = '/') {
  window.history.replaceState(null, '', url);
  return renderWithClient(<Gallery onUseAgain={vi.fn()} onUseAsImage={vi.fn()} />);
}

const cardNames = () => screen.queryAllByRole('article').map((card) => card.getAttribute('aria-label'));

test('typing in the search box asks for those words once typing pauses, and the URL shows them', async () => {
  const user = userEvent.setup();
  const asked = history([fox, owl]);
  renderGallery();
  await screen.findByRole('article', { name: 'a red fox' });
  const entries = window.history.length;

  await user.type(screen.getByRole('searchbox', { name: 'Search prompts' }), 'ow');
  await waitFor(() => expect(cardNames()).toEqual(['an owl at night']));

  expect(asked.map((query) => query.get('q'))).toEqual([null, 'ow']);
  expect(window.location.search).toBe('?q=ow');
  // Typing replaces the history entry rather than adding one per pause.
  expect(window.history.length).toBe(entries);
});

test('Enter searches at once, without waiting for typing to pause', async () => {
  installFakeClock();
  const asked = history([fox, owl]);
  renderGallery();
  for (let i = 0; i < 4; i++) await advance(20);
  const box = screen.getByRole('searchbox', { name: 'Search prompts' });

  fireEvent.change(box, { target: { value: 'fox' } });
  // What Enter in the box does: it submits its form.
  fireEvent.submit(screen.getByRole('search', { name: 'Search your images' }));
  await advance(0);
  const beforePause = asked.map((query) => query.get('q'));
  await advance(SEARCH_DEBOUNCE_MS * 2);

  expect(beforePause).toEqual([null, 'fox']);
  expect(asked).toHaveLength(2);
  expect(window.location.search).toBe('?q=fox');
});

test('the search box waits for a pause in typing only, not for the cards to stop changing', async () => {
  installFakeClock();
  const asked = history([fox, owl]);
  const { client } = renderGallery();
  for (let i = 0; i < 4; i++) await advance(20);

  fireEvent.change(screen.getByRole('searchbox', { name: 'Search prompts' }), { target: { value: 'fox' } });
  await advance(SEARCH_DEBOUNCE_MS - 100);
  // What a card's polling does to the list while the reader pauses.
  act(() => replaceInList(client, { ...owl, progress: 50 }));
  await advance(100);

  expect(asked.map((query) => query.get('q'))).toEqual([null, 'fox']);
});

test('a bookmarked URL opens with its search, its filters and its viewer as they were', async () => {
  const asked = history([fox, owl]);

  renderGallery(
    '/?q=owl&output=video,grid&status=complete&param=sref&ar=16:9&from=2024-05-01&to=2024-05-03&fav=1&view=owl',
  );
  const dialog = await screen.findByRole('dialog', { name: 'an owl at night' });

  const query = asked[0];
  expect(query?.get('q')).toBe('owl');
  expect(query?.get('output')).toBe('grid,video');
  expect(query?.get('status')).toBe('complete');
  expect(query?.get('param')).toBe('sref');
  expect(query?.get('ar')).toBe('16:9');
  expect(query?.get('favourite')).toBe('1');
  // The reader's days: from the start of 1 May to the start of 4 May, their time.
  expect(query?.get('from')).toBe(new Date(2024, 4, 1).toISOString());
  expect(query?.get('to')).toBe(new Date(2024, 4, 4).toISOString());
  expect(dialog).toBeInTheDocument();
  expect(screen.getByRole('searchbox', { name: 'Search prompts' })).toHaveValue('owl');
  expect(screen.getByRole('checkbox', { name: 'Videos' })).toBeChecked();
  expect(screen.getByRole('checkbox', { name: 'Grids' })).toBeChecked();
  expect(screen.getByRole('checkbox', { name: 'Single images' })).not.toBeChecked();
  expect(screen.getByRole('checkbox', { name: 'Favourites only' })).toBeChecked();
  expect(screen.getByLabelText('From')).toHaveValue('2024-05-01');
  expect(screen.getByRole('combobox', { name: 'Aspect ratio' })).toHaveValue('16:9');
});

test('a filter change adds a history entry, and Back brings the view before it back', async () => {
  const user = userEvent.setup();
  const asked = history([fox, owl]);
  renderGallery();
  await screen.findByRole('article', { name: 'a red fox' });

  await user.click(screen.getByRole('button', { name: 'Filters' }));
  await user.click(screen.getByRole('checkbox', { name: 'Videos' }));
  await waitFor(() => expect(cardNames()).toEqual(['an owl at night']));
  const filteredUrl = window.location.search;
  const toggle = screen.getByRole('button', { name: 'Filters (1)' });
  act(() => window.history.back());
  await waitFor(() => expect(window.location.search).toBe(''));

  expect(filteredUrl).toBe('?output=video');
  expect(asked.some((query) => query.get('output') === 'video')).toBe(true);
  await waitFor(() => expect(cardNames()).toEqual(['a red fox', 'an owl at night']));
  expect(screen.getByRole('checkbox', { name: 'Videos' })).not.toBeChecked();
  expect(toggle).toHaveAccessibleName('Filters');
});

test('a search that finds nothing says so, and clearing it shows every image again', async () => {
  const user = userEvent.setup();
  history([fox, owl]);
  renderGallery('/?q=zebra');
  const empty = await screen.findByText(/No images match/);

  await user.click(within(empty).getByRole('button', { name: 'Clear the search and filters' }));
  await waitFor(() => expect(cardNames()).toEqual(['a red fox', 'an owl at night']));

  expect(window.location.search).toBe('');
  expect(screen.getByRole('searchbox', { name: 'Search prompts' })).toHaveValue('');
});

test('"Clear" resets the search and every filter, and leaves the focus in the search box', async () => {
  const user = userEvent.setup();
  history([fox, owl]);
  renderGallery('/?q=owl&output=video&fav=1');
  await screen.findByRole('button', { name: 'Filters (2)' });

  await user.click(screen.getByRole('button', { name: 'Clear' }));

  expect(window.location.search).toBe('');
  const box = screen.getByRole('searchbox', { name: 'Search prompts' });
  expect(box).toHaveValue('');
  expect(box).toHaveFocus();
  expect(screen.getByRole('button', { name: 'Filters' })).toBeInTheDocument();
  expect(screen.getByRole('checkbox', { name: 'Favourites only' })).not.toBeChecked();
});
