import { fireEvent, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http } from 'msw';
import { expect, test, vi } from 'vitest';
import { POLL_INTERVAL_MS } from '../../client/src/features/jobs/api/get-job';
import { JobCard } from '../../client/src/features/jobs/components/job-card';
import type { SubmittedJob } from '../../client/src/features/jobs/submitted-job';
import { API, errorAnswer, jobAnswer } from '../mocks/api';
import { advance, countJobRequests, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

function job(jobId: string, overrides: Partial<SubmittedJob> = {}): SubmittedJob {
  return {
    jobId,
    prompt: 'a red fox in the snow',
    aspectRatio: '16:9',
    quality: 'standard',
    submittedAt: Date.now(),
    ...overrides,
  };
}

function answerInOrder(jobId: string, answers: (() => Response)[]) {
  server.use(...answers.map((answer) => http.get(`${API}/jobs/${jobId}`, answer, { once: true })));
}

function renderCard(submitted: SubmittedJob, handlers: { onRetry?: () => void; onDismiss?: () => void } = {}) {
  return renderWithClient(
    <JobCard job={submitted} onRetry={handlers.onRetry ?? vi.fn()} onDismiss={handlers.onDismiss ?? vi.fn()} />,
  );
}

test('a card shows waiting, then progress and elapsed time, then the image with the prompt as alt text', async () => {
  installFakeClock();
  answerInOrder('c1', [
    () => jobAnswer('c1', { status: 'pending' }),
    () => jobAnswer('c1', { status: 'processing', progress: 45 }),
    () => jobAnswer('c1', { status: 'complete', progress: 100, image_url: '/api/jobs/c1/image' }),
  ]);

  renderCard(job('c1'));
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
  expect(screen.getByRole('img', { name: 'a red fox in the snow' })).toHaveAttribute('src', '/api/jobs/c1/image');
  expect(screen.getByRole('link', { name: 'Open full size' })).toHaveAttribute('href', '/api/jobs/c1/image');
  expect(screen.getByText(/took 4 s/)).toBeInTheDocument();
  expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
});

test('the image frame has the job aspect ratio before the image arrives, so nothing jumps', async () => {
  installFakeClock();

  const { container } = renderCard(job('c2', { aspectRatio: '9:16' }));
  await advance(0);

  const frame = container.querySelector('.job-frame');
  expect(frame).toHaveStyle({ aspectRatio: '9 / 16' });
});

test('a failed job shows the upstream reason and a way to try again', async () => {
  installFakeClock();
  answerInOrder('c3', [() => jobAnswer('c3', { status: 'failed', error: 'The render worker ran out of GPU memory' })]);
  const onRetry = vi.fn();

  renderCard(job('c3'), { onRetry });
  await advance(0);
  fireEvent.click(screen.getByRole('button', { name: 'Try again' }));

  expect(screen.getByRole('status')).toHaveTextContent('Failed: The render worker ran out of GPU memory');
  expect(onRetry).toHaveBeenCalledWith(expect.objectContaining({ jobId: 'c3' }));
});

test('a job the server no longer knows shows the error and offers to try again', async () => {
  installFakeClock();
  answerInOrder('c4', [() => errorAnswer(404, { code: 'not_found', message: 'No such job' })]);

  renderCard(job('c4'));
  await advance(0);

  expect(screen.getByRole('status')).toHaveTextContent('No such job');
  expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
});

test('a rate-limited poll says when it will check again and keeps the last progress', async () => {
  installFakeClock();
  answerInOrder('c5', [
    () => jobAnswer('c5', { status: 'processing', progress: 20 }),
    () => errorAnswer(429, { code: 'rate_limited', message: 'The upstream is rate limiting', retry_after_s: 9 }),
  ]);

  renderCard(job('c5'));
  await advance(0);
  await advance(POLL_INTERVAL_MS);

  expect(screen.getByRole('status')).toHaveTextContent('The upstream is rate limiting Checking again in 9 s.');
  expect(screen.getByRole('progressbar')).toHaveAttribute('value', '20');
  expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
});

test('unmounting a card stops its polling', async () => {
  installFakeClock();
  const requests = countJobRequests('c6');

  const { unmount } = renderCard(job('c6'));
  await advance(0);
  await advance(POLL_INTERVAL_MS);
  unmount();
  await advance(POLL_INTERVAL_MS * 10);

  expect(requests.count).toBe(2);
});

test('the remove button hands the job back to the list', async () => {
  const onDismiss = vi.fn();
  const user = userEvent.setup();

  renderCard(job('c7'), { onDismiss });
  await user.click(screen.getByRole('button', { name: 'Remove from list' }));

  expect(onDismiss).toHaveBeenCalledWith(expect.objectContaining({ jobId: 'c7' }));
});
