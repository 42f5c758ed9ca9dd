import type { Job } from '@shared/schemas/job';
import { fireEvent, screen, within } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { POLL_INTERVAL_MS } from '@/features/jobs/api/get-job';
import { JobCard } from '@/features/jobs/components/job-card';
import { API, errorAnswer, jobAnswer, makeJob } from '../mocks/api';
import { advance, countJobRequests, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

function answerInOrder(jobId: string, answers: (() => Response)[]) {
  server.use(...answers.map((answer) => http.get(`${API}/jobs/${jobId}`, answer, { once: true })));
}

function renderCard(job: Job, onUseAgain = vi.fn()) {
  return { ...renderWithClient(<JobCard job={job} onUseAgain={onUseAgain} />), onUseAgain };
}

test('a card shows waiting, then progress and elapsed time, then the image with the prompt as alt text', async () => {
  installFakeClock();
  const created = new Date(Date.now()).toISOString();
  answerInOrder('c1', [
    () => jobAnswer('c1', { status: 'pending', created_at: created }),
    () => jobAnswer('c1', { status: 'processing', progress: 45, created_at: created }),
    () =>
      jobAnswer('c1', {
        status: 'complete',
        progress: 100,
        created_at: created,
        finished_at: new Date(Date.now()).toISOString(),
        image_url: '/api/images/c1.png',
        download_name: 'a-red-fox-in-the-snow.png',
      }),
  ]);

  renderCard(makeJob('c1', { created_at: created }));
  await advance(0);
  const waiting = screen.getByRole('status').textContent;
  await advance(POLL_INTERVAL_MS);
  const generating = screen.getByRole('status').textContent;
  const progress = screen.getByRole('progressbar', { name: 'Generation progress' });
  const elapsed = screen.getByText(/2 s elapsed/);
  await advance(POLL_INTERVAL_MS);

  expect(waiting).toBe('Waiting in the upstream queue…');
  expect(generating).toBe('Generating… 45%');
  expect(progress).toHaveAttribute('value', '45');
  expect(elapsed).toBeInTheDocument();
  expect(screen.getByRole('status')).toHaveTextContent('Done');
  expect(screen.getByRole('img', { name: 'a red fox in the snow' })).toHaveAttribute('src', '/api/images/c1.png');
  expect(screen.getByRole('link', { name: 'Download' })).toHaveAttribute('download', 'a-red-fox-in-the-snow.png');
  expect(screen.getByRole('link', { name: 'Full size' })).toHaveAttribute('href', '/api/images/c1.png');
  expect(screen.getByText(/took 4 s/)).toBeInTheDocument();
  expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
  expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();
});

test('a finished job from the history is shown without asking the server again', async () => {
  installFakeClock();
  const requests = countJobRequests('done');

  renderCard(
    makeJob('done', { status: 'complete', image_url: '/api/images/done.png', finished_at: new Date().toISOString() }),
  );
  await advance(POLL_INTERVAL_MS * 5);

  expect(screen.getByRole('status')).toHaveTextContent('Done');
  expect(requests.count).toBe(0);
});

test('the image frame has the job aspect ratio before the image arrives, so nothing jumps', async () => {
  installFakeClock();
  answerInOrder('c2', [() => jobAnswer('c2', { status: 'processing', progress: 5, aspect_ratio: '9:16' })]);

  const { container } = renderCard(makeJob('c2', { aspect_ratio: '9:16' }));
  await advance(0);

  expect(container.querySelector('.job-frame')).toHaveStyle({ aspectRatio: '9 / 16' });
});

test('a failed job shows the upstream reason, and trying again submits the same prompt, parameters and images', async () => {
  installFakeClock();
  const failed = {
    status: 'failed' as const,
    error: 'The render worker ran out of GPU memory',
    aspect_ratio: '4:3',
    params: { aspect_ratio: '4:3', quality: 2 },
    references: [
      { role: 'style' as const, url: '/api/uploads/up_test000000000007/image', upload_id: 'up_test000000000007' },
    ],
  };
  answerInOrder('c3', [() => jobAnswer('c3', failed)]);
  let resubmitted: unknown;
  server.use(
    http.post(`${API}/imagine`, async ({ request }) => {
      resubmitted = await request.json();
      return HttpResponse.json(makeJob('c3b'), { status: 202 });
    }),
  );

  renderCard(makeJob('c3', failed));
  await advance(0);
  fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
  await advance(10);

  expect(screen.getByRole('status')).toHaveTextContent('Failed: The render worker ran out of GPU memory');
  expect(resubmitted).toEqual({
    prompt: 'a red fox in the snow --ar 4:3 --q 2',
    style_refs: [{ upload_id: 'up_test000000000007' }],
  });
});

test('cancelling a running job stops its polling at once', async () => {
  installFakeClock();
  server.use(http.post(`${API}/jobs/c4/cancel`, () => jobAnswer('c4', { status: 'cancelled', error: 'Cancelled' })));
  const requests = countJobRequests('c4');

  renderCard(makeJob('c4', { status: 'processing', progress: 30 }));
  await advance(0);
  fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
  await advance(10);
  const afterCancel = requests.count;
  await advance(POLL_INTERVAL_MS * 10);

  expect(screen.getByRole('status')).toHaveTextContent('Cancelled');
  expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  expect(requests.count).toBe(afterCancel);
});

test('a job the server no longer knows shows the error and offers to try again', async () => {
  installFakeClock();
  answerInOrder('c5', [() => errorAnswer(404, { code: 'not_found', message: 'No such job' })]);

  renderCard(makeJob('c5'));
  await advance(0);

  expect(screen.getByRole('status')).toHaveTextContent('No such job');
  expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
});

test('a rate-limited poll says when it will check again and keeps the last progress', async () => {
  installFakeClock();
  answerInOrder('c6', [
    () => jobAnswer('c6', { status: 'processing', progress: 20 }),
    () => errorAnswer(429, { code: 'rate_limited', message: 'The upstream is rate limiting', retry_after_s: 9 }),
  ]);

  renderCard(makeJob('c6'));
  await advance(0);
  await advance(POLL_INTERVAL_MS);

  expect(screen.getByRole('status')).toHaveTextContent('The upstream is rate limiting Checking again in 9 s.');
  expect(screen.getByRole('progressbar')).toHaveAttribute('value', '20');
  expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
});

test('unmounting a card stops its polling', async () => {
  installFakeClock();
  const requests = countJobRequests('c7');

  const { unmount } = renderCard(makeJob('c7'));
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  unmount();
  await advance(POLL_INTERVAL_MS * 10);

  expect(requests.count).toBe(2);
});

test('"Use again" hands the prompt back with its parameters and images', async () => {
  const { onUseAgain } = renderCard(
    makeJob('c8', {
      status: 'failed',
      aspect_ratio: '1:1',
      params: { quality: 2, raw: true },
      image_urls: ['https://example.com/a.png'],
      references: [{ role: 'image', url: '/api/images/old.png', job_id: 'old' }],
    }),
  );

  fireEvent.click(screen.getByRole('button', { name: 'Use again, with this prompt' }));

  expect(onUseAgain).toHaveBeenCalledWith({
    request: {
      prompt: 'https://example.com/a.png a red fox in the snow --q 2 --raw',
      image_prompts: [{ job_id: 'old' }],
    },
    images: [expect.objectContaining({ role: 'image', ref: { job_id: 'old' }, url: '/api/images/old.png' })],
  });
});

test('a card shows the job’s parameters in one line, what it costs, the images it used and the prompt as run', () => {
  renderCard(
    makeJob('p1', {
      status: 'complete',
      aspect_ratio: '3:2',
      params: { aspect_ratio: '3:2', stylize: 250, seed: 42, quality: 2 },
      cost: 2,
      image_url: '/api/images/p1.png',
      references: [
        { role: 'image', url: '/api/uploads/up_test000000000001/image', upload_id: 'up_test000000000001' },
        { role: 'omni', url: '/api/images/j0.png', job_id: 'j0' },
      ],
      final_prompt: '<https://s.mj.run/x> a red fox in the snow --ar 3:2 --s 250 --seed 42 --q 2 --v 7',
    }),
  );
  const card = screen.getByRole('article');

  expect(within(card).getByText('--ar 3:2 --s 250 --seed 42 --q 2')).toBeInTheDocument();
  expect(card).toHaveTextContent('2× cost');
  expect(within(card).getByRole('img', { name: 'Image prompt 1' })).toHaveAttribute(
    'src',
    '/api/uploads/up_test000000000001/image',
  );
  expect(within(card).getByRole('img', { name: 'Omni reference 2' })).toHaveAttribute('src', '/api/images/j0.png');
  expect(within(card).getByText('Prompt as run')).toBeInTheDocument();
  expect(within(card).getByText(/--v 7$/)).toBeInTheDocument();
});

test('a standard job says nothing about cost, and a draft says it costs half', () => {
  renderWithClient(
    <>
      <JobCard job={makeJob('s1', { prompt: 'standard one' })} onUseAgain={vi.fn()} />
      <JobCard job={makeJob('d1', { prompt: 'draft one', params: { draft: true }, cost: 0.5 })} onUseAgain={vi.fn()} />
    </>,
  );

  expect(screen.getByRole('article', { name: 'standard one' })).not.toHaveTextContent('cost');
  expect(screen.getByRole('article', { name: 'draft one' })).toHaveTextContent('0.5× cost');
  expect(screen.getByRole('article', { name: 'draft one' })).toHaveTextContent('--draft');
});

test('a finished describe job shows its image and its four prompts, each with "Use this prompt"', () => {
  const descriptions = ['a red barn in snow --ar 3:2', 'winter farmhouse', 'a lonely barn at dusk', 'snowy farm'];
  const { onUseAgain } = renderCard(
    makeJob('dj', {
      kind: 'describe',
      prompt: 'Describe this image',
      aspect_ratio: '1:1',
      status: 'complete',
      references: [{ role: 'image', url: '/api/uploads/up_test000000000009/image', upload_id: 'up_test000000000009' }],
      descriptions,
    }),
  );

  const buttons = screen.getAllByRole('button', { name: 'Use this prompt' });
  fireEvent.click(buttons[1] as HTMLElement);

  expect(screen.getByRole('img', { name: 'Describe this image' })).toHaveAttribute(
    'src',
    '/api/uploads/up_test000000000009/image',
  );
  expect(screen.getAllByRole('listitem').map((item) => item.querySelector('p')?.textContent)).toEqual(descriptions);
  expect(buttons).toHaveLength(4);
  expect(buttons[1]).toHaveAccessibleDescription('winter farmhouse');
  expect(onUseAgain).toHaveBeenCalledWith({ request: { prompt: 'winter farmhouse' }, images: [] });
  // A describe job is no prompt to send again.
  expect(screen.queryByRole('button', { name: 'Use again, with this prompt' })).not.toBeInTheDocument();
});

test('a describe job still running shows no prompts yet', () => {
  renderCard(makeJob('dr', { kind: 'describe', prompt: 'Describe this image', status: 'processing', progress: 30 }));

  expect(screen.queryByRole('button', { name: 'Use this prompt' })).not.toBeInTheDocument();
});

test('a finished image offers "Use as image prompt", which hands its job id and image on', () => {
  const onUseAsImage = vi.fn();
  renderWithClient(
    <JobCard
      job={makeJob('u1', { status: 'complete', image_url: '/api/images/u1.png' })}
      onUseAgain={vi.fn()}
      onUseAsImage={onUseAsImage}
    />,
  );

  fireEvent.click(screen.getByRole('button', { name: 'Use as image prompt' }));

  expect(onUseAsImage).toHaveBeenCalledWith({
    ref: { job_id: 'u1' },
    url: '/api/images/u1.png',
    name: 'a red fox in the snow',
  });
});

test('"Copy" puts the prompt on the clipboard', async () => {
  const writeText = vi.fn().mockResolvedValue(undefined);
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });

  renderCard(makeJob('c9', { status: 'complete', image_url: '/api/images/c9.png' }));
  fireEvent.click(screen.getByRole('button', { name: 'Copy prompt' }));

  expect(await screen.findByText('Copied')).toBeInTheDocument();
  expect(writeText).toHaveBeenCalledWith('a red fox in the snow');
});

test('a queued job shows its place in the queue', async () => {
  installFakeClock();
  answerInOrder('q1', [() => jobAnswer('q1', { status: 'queued', queue_position: 3, poll_after_ms: 3_000 })]);

  renderCard(makeJob('q1', { status: 'queued', queue_position: 3 }));
  await advance(0);

  expect(screen.getByRole('status')).toHaveTextContent('Queued for the upstream, position 3');
  expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();
});
