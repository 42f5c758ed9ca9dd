import type { Job } from '@shared/schemas/job';
import { GRID_INDEXES } from '@shared/schemas/job-values';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { POLL_INTERVAL_MS } from '@/features/jobs/api/get-job';
import { Gallery } from '@/features/jobs/components/gallery';
import { JobCard } from '@/features/jobs/components/job-card';
import { API, errorAnswer, makeJob } from '../mocks/api';
import { advance, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

const grid = makeJob('grid1', {
  status: 'complete',
  progress: 100,
  prompt: 'a misty fjord',
  finished_at: new Date(Date.now()).toISOString(),
  image_url: '/api/images/grid1.png',
  download_name: 'a-misty-fjord.png',
  output: 'grid',
  available_actions: [
    ...GRID_INDEXES.map((index) => ({ action: 'upscale' as const, index })),
    ...GRID_INDEXES.map((index) => ({ action: 'variation' as const, index })),
    { action: 'reroll' },
  ],
});

function historyOf(jobs: Job[]) {
  server.use(http.get(`${API}/jobs`, () => HttpResponse.json({ jobs, next_cursor: null })));
}

test('a finished grid offers U1-U4, V1-V4 and reroll; U2 starts an upscale shown at the top, linked to the grid', async () => {
  historyOf([grid]);
  const sent: unknown[] = [];
  server.use(
    http.post(`${API}/jobs/grid1/actions`, async ({ request }) => {
      sent.push(await request.json());
      return HttpResponse.json(
        makeJob('up1', {
          status: 'pending',
          prompt: 'a misty fjord',
          parent_id: 'grid1',
          action: 'upscale',
          action_index: 2,
        }),
        { status: 202 },
      );
    }),
    http.get(`${API}/jobs/up1`, () =>
      HttpResponse.json(
        makeJob('up1', {
          status: 'processing',
          progress: 5,
          prompt: 'a misty fjord',
          parent_id: 'grid1',
          action: 'upscale',
          action_index: 2,
        }),
      ),
    ),
  );
  renderWithClient(<Gallery onUseAgain={vi.fn()} />);
  const card = await screen.findByRole('article', { name: 'a misty fjord' });

  const labels = within(card)
    .getAllByRole('button')
    .map((button) => button.textContent);
  fireEvent.click(within(card).getByRole('button', { name: 'U2, upscale image 2 (top right)' }));
  await waitFor(() => expect(screen.getAllByRole('article')).toHaveLength(2));

  expect(labels).toEqual(expect.arrayContaining(['U1', 'U2', 'U3', 'U4', 'V1', 'V2', 'V3', 'V4', '↻ Reroll']));
  expect(sent).toEqual([{ action: 'upscale', index: 2 }]);
  const [child] = screen.getAllByRole('article');
  expect(child).toHaveAttribute('id', 'job-up1');
  expect(within(child as HTMLElement).getByText(/Upscale of image 2/)).toBeInTheDocument();
  expect(within(child as HTMLElement).getByRole('link', { name: 'from this grid' })).toHaveAttribute(
    'href',
    '#job-grid1',
  );
  // The new job is running: it offers no grid actions of its own.
  expect(within(child as HTMLElement).queryByRole('button', { name: /upscale image/ })).not.toBeInTheDocument();
});

test('reroll and variation send what they name; a refusal is shown on the card and nothing is added', async () => {
  historyOf([grid]);
  const sent: unknown[] = [];
  server.use(
    http.post(`${API}/jobs/grid1/actions`, async ({ request }) => {
      sent.push(await request.json());
      return errorAnswer(409, { code: 'conflict', message: 'The upstream in use (v7) has no grid actions' });
    }),
  );
  renderWithClient(<Gallery onUseAgain={vi.fn()} />);
  const card = await screen.findByRole('article', { name: 'a misty fjord' });

  fireEvent.click(within(card).getByRole('button', { name: 'Reroll: a new grid from the same prompt' }));
  const alert = await within(card).findByRole('alert');
  fireEvent.click(within(card).getByRole('button', { name: 'V4, variations of image 4 (bottom right)' }));
  await waitFor(() => expect(sent).toHaveLength(2));

  expect(alert).toHaveTextContent('The upstream in use (v7) has no grid actions');
  expect(sent).toEqual([{ action: 'reroll' }, { action: 'variation', index: 4 }]);
  expect(screen.getAllByRole('article')).toHaveLength(1);
});

test('without supported actions (another upstream, or an upscale) a finished card shows no grid buttons', () => {
  renderWithClient(<JobCard job={{ ...grid, available_actions: undefined }} onUseAgain={vi.fn()} />);

  expect(screen.getByRole('link', { name: 'Download' })).toBeInTheDocument();
  expect(screen.queryByRole('button', { name: /upscale|variations|Reroll/ })).not.toBeInTheDocument();
});

test('a running job shows the upstream preview, sharper each poll, until its image arrives', async () => {
  installFakeClock();
  server.use(
    http.get(
      `${API}/jobs/run1`,
      () =>
        HttpResponse.json(
          makeJob('run1', { status: 'processing', progress: 60, preview_url: '/api/jobs/run1/preview?at=60' }),
        ),
      { once: true },
    ),
    http.get(`${API}/jobs/run1`, () => HttpResponse.json({ ...grid, job_id: 'run1' }), { once: true }),
  );
  const { container } = renderWithClient(
    <JobCard
      job={makeJob('run1', { status: 'processing', progress: 40, preview_url: '/api/jobs/run1/preview?at=40' })}
      onUseAgain={vi.fn()}
    />,
  );

  const first = container.querySelector('img.job-preview')?.getAttribute('src');
  const placeholder = container.querySelector('.job-placeholder');
  await advance(0);
  const second = container.querySelector('img.job-preview')?.getAttribute('src');
  await advance(POLL_INTERVAL_MS);

  expect(first).toBe('/api/jobs/run1/preview?at=40');
  expect(placeholder).toBeNull();
  expect(second).toBe('/api/jobs/run1/preview?at=60');
  expect(container.querySelector('img.job-preview')).toBeNull();
  expect(screen.getByRole('img', { name: 'a misty fjord' })).toHaveAttribute('src', '/api/images/grid1.png');
});

test('a loaded grid numbers its four images for U1-U4 and V1-V4; an image without actions does not', () => {
  const { container } = renderWithClient(
    <>
      <JobCard job={grid} onUseAgain={vi.fn()} />
      <JobCard
        job={{ ...grid, job_id: 'single', prompt: 'one image', available_actions: undefined }}
        onUseAgain={vi.fn()}
      />
    </>,
  );
  const before = container.querySelectorAll('.grid-numbers').length;

  fireEvent.load(screen.getByRole('img', { name: 'a misty fjord' }));
  fireEvent.load(screen.getByRole('img', { name: 'one image' }));

  expect(before).toBe(0);
  const numbers = container.querySelectorAll('.grid-numbers');
  expect(numbers).toHaveLength(1);
  expect([...(numbers[0]?.querySelectorAll('li') ?? [])].map((item) => item.textContent)).toEqual(['1', '2', '3', '4']);
  expect(numbers[0]?.closest('article')).toHaveAttribute('id', 'job-grid1');
});
