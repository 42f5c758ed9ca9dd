import { fireEvent, screen } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { App } from '../../client/src/app';
import { POLL_INTERVAL_MS } from '../../client/src/features/jobs/api/get-job';
import { API, jobAnswer } from '../mocks/api';
import { advance, countJobRequests, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

test('several jobs run at once, newest first, and each stops polling on its own', async () => {
  installFakeClock();
  let next = 0;
  server.use(
    http.post(`${API}/imagine`, () =>
      HttpResponse.json({ job_id: `job_${++next}`, status: 'pending' }, { status: 202 }),
    ),
    http.get(`${API}/jobs/job_1`, () =>
      jobAnswer('job_1', { status: 'complete', progress: 100, image_url: '/api/jobs/job_1/image' }),
    ),
    http.get(`${API}/jobs/job_2`, () => jobAnswer('job_2', { status: 'processing', progress: 50 })),
  );
  const first = countJobRequests('job_1');
  const second = countJobRequests('job_2');
  renderWithClient(<App />);
  const prompt = screen.getByLabelText('Prompt');

  fireEvent.change(prompt, { target: { value: 'first prompt' } });
  fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
  await advance(0);
  fireEvent.change(prompt, { target: { value: 'second prompt' } });
  fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
  await advance(0);
  await advance(POLL_INTERVAL_MS * 5);

  const cards = screen.getAllByRole('article');
  expect(cards.map((card) => card.getAttribute('aria-label'))).toEqual(['second prompt', 'first prompt']);
  expect(screen.getByRole('img', { name: 'first prompt' })).toBeInTheDocument();
  expect(first.count).toBe(1);
  expect(second.count).toBe(6);
});

test('trying a failed job again replaces its card with the new job', async () => {
  installFakeClock();
  let next = 0;
  server.use(
    http.post(`${API}/imagine`, () =>
      HttpResponse.json({ job_id: `try_${++next}`, status: 'pending' }, { status: 202 }),
    ),
    http.get(`${API}/jobs/try_1`, () => jobAnswer('try_1', { status: 'failed', error: 'GPU fault' })),
    http.get(`${API}/jobs/try_2`, () => jobAnswer('try_2', { status: 'processing', progress: 5 })),
  );
  renderWithClient(<App />);

  fireEvent.change(screen.getByLabelText('Prompt'), { target: { value: 'a fox' } });
  fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
  await advance(50);
  await advance(50);
  fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
  await advance(50);
  await advance(50);

  expect(screen.getAllByRole('article')).toHaveLength(1);
  expect(screen.getByRole('status')).toHaveTextContent('Generating… 5%');
});

test('an empty page invites the first prompt', () => {
  renderWithClient(<App />);

  expect(screen.getByText(/Your images will appear here/)).toBeInTheDocument();
});
