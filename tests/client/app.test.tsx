import type { Job } from '@shared/schemas/job';
import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { App } from '@/app';
import { POLL_INTERVAL_MS } from '@/features/jobs/api/get-job';
import { API, jobAnswer, makeJob } from '../mocks/api';
import { advance, countJobRequests, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

test('several jobs run at once, newest first, each stopping its own polling, while the form stays usable', async () => {
  installFakeClock();
  let next = 0;
  server.use(
    http.post(`${API}/imagine`, async ({ request }) => {
      const body = (await request.json()) as { prompt: string };
      return HttpResponse.json(makeJob(`job_${++next}`, { prompt: body.prompt }), { status: 202 });
    }),
    http.get(`${API}/jobs/job_1`, () =>
      jobAnswer('job_1', {
        prompt: 'first prompt',
        status: 'complete',
        progress: 100,
        image_url: '/api/images/job_1.png',
      }),
    ),
    http.get(`${API}/jobs/job_2`, () =>
      jobAnswer('job_2', { prompt: 'second prompt', status: 'processing', progress: 50 }),
    ),
    http.get(`${API}/jobs/job_3`, () =>
      jobAnswer('job_3', { prompt: 'third prompt', status: 'failed', error: 'GPU fault' }),
    ),
  );
  const counts = ['job_1', 'job_2', 'job_3'].map(countJobRequests);
  renderWithClient(<App />);
  for (let i = 0; i < 4; i++) await advance(20);
  const prompt = screen.getByLabelText('Prompt');

  for (const text of ['first prompt', 'second prompt', 'third prompt']) {
    fireEvent.change(prompt, { target: { value: text } });
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await advance(0);
    await advance(0);
  }
  await advance(POLL_INTERVAL_MS * 5);

  const cards = screen.getAllByRole('article');
  expect(cards.map((card) => card.getAttribute('aria-label'))).toEqual([
    'third prompt',
    'second prompt',
    'first prompt',
  ]);
  expect(screen.getByRole('img', { name: 'first prompt' })).toBeInTheDocument();
  expect(counts.map((count) => count.count)).toEqual([1, 6, 1]);
  expect(screen.getByRole('button', { name: 'Generate' })).toBeEnabled();
});

test('the history from earlier visits is listed after a reload, and running jobs resume polling', async () => {
  installFakeClock();
  const earlier: Job[] = [
    makeJob('old_running', { prompt: 'still rendering', status: 'processing', progress: 70 }),
    makeJob('old_done', { prompt: 'done yesterday', status: 'complete', image_url: '/api/images/old_done.png' }),
  ];
  server.use(
    http.get(`${API}/jobs`, () => HttpResponse.json({ jobs: earlier, next_cursor: null })),
    http.get(`${API}/jobs/old_running`, () =>
      jobAnswer('old_running', {
        prompt: 'still rendering',
        status: 'complete',
        image_url: '/api/images/old_running.png',
      }),
    ),
  );
  const running = countJobRequests('old_running');
  const done = countJobRequests('old_done');

  renderWithClient(<App />);
  for (let i = 0; i < 4; i++) await advance(20);
  await advance(POLL_INTERVAL_MS * 3);

  expect(screen.getAllByRole('article').map((card) => card.getAttribute('aria-label'))).toEqual([
    'still rendering',
    'done yesterday',
  ]);
  expect(screen.getByRole('img', { name: 'still rendering' })).toBeInTheDocument();
  expect(running.count).toBe(1);
  expect(done.count).toBe(0);
});

test('the history loads more pages on demand', async () => {
  installFakeClock();
  server.use(
    http.get(`${API}/jobs`, ({ request }) => {
      const cursor = new URL(request.url).searchParams.get('cursor');
      return cursor === 'page2'
        ? HttpResponse.json({
            jobs: [makeJob('p2', { prompt: 'older', status: 'failed', error: 'x' })],
            next_cursor: null,
          })
        : HttpResponse.json({
            jobs: [makeJob('p1', { prompt: 'newer', status: 'failed', error: 'x' })],
            next_cursor: 'page2',
          });
    }),
  );

  renderWithClient(<App />);
  for (let i = 0; i < 4; i++) await advance(20);
  fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
  await advance(0);

  expect(screen.getAllByRole('article').map((card) => card.getAttribute('aria-label'))).toEqual(['newer', 'older']);
  expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
});

test('removing a job takes it off the page', async () => {
  installFakeClock();
  server.use(
    http.get(`${API}/jobs`, () =>
      HttpResponse.json({
        jobs: [makeJob('gone', { prompt: 'remove me', status: 'failed', error: 'x' })],
        next_cursor: null,
      }),
    ),
    http.delete(`${API}/jobs/gone`, () => new HttpResponse(null, { status: 204 })),
  );

  renderWithClient(<App />);
  for (let i = 0; i < 4; i++) await advance(20);
  fireEvent.click(screen.getByRole('button', { name: 'Remove from history' }));
  await advance(0);

  expect(screen.queryByRole('article')).not.toBeInTheDocument();
});

test('"Use again" fills the form with the job’s prompt, its parameters written into it', async () => {
  installFakeClock();
  server.use(
    http.get(`${API}/jobs`, () =>
      HttpResponse.json({
        jobs: [
          makeJob('again', {
            prompt: 'a lantern festival',
            aspect_ratio: '21:9',
            params: { aspect_ratio: '21:9', stylize: 400, seed: 7 },
            status: 'failed',
            error: 'x',
          }),
        ],
        next_cursor: null,
      }),
    ),
  );

  renderWithClient(<App />);
  for (let i = 0; i < 4; i++) await advance(20);
  fireEvent.click(screen.getByRole('button', { name: 'Use again, with this prompt' }));

  expect(screen.getByLabelText('Prompt')).toHaveValue('a lantern festival --ar 21:9 --s 400 --seed 7');
  expect(screen.getByLabelText('More aspect ratios')).toHaveValue('21:9');
});

test('"Use this prompt" on a finished describe job puts that prompt into the box', async () => {
  installFakeClock();
  server.use(
    http.get(`${API}/jobs`, () =>
      HttpResponse.json({
        jobs: [
          makeJob('described', {
            kind: 'describe',
            prompt: 'Describe this image',
            aspect_ratio: '1:1',
            status: 'complete',
            finished_at: new Date(Date.now()).toISOString(),
            references: [
              { role: 'image', url: '/api/uploads/up_test000000000042/image', upload_id: 'up_test000000000042' },
            ],
            descriptions: ['a red barn in a snowy field --ar 3:2', 'winter farmhouse, oil painting', 'c', 'd'],
          }),
        ],
        next_cursor: null,
      }),
    ),
  );

  renderWithClient(<App />);
  for (let i = 0; i < 4; i++) await advance(20);
  fireEvent.click(screen.getAllByRole('button', { name: 'Use this prompt' })[0] as HTMLElement);

  expect(screen.getByLabelText('Prompt')).toHaveValue('a red barn in a snowy field --ar 3:2');
  expect(screen.getByLabelText('More aspect ratios')).toHaveValue('3:2');
  expect(screen.getByLabelText('Prompt')).toHaveFocus();
});

test('"Use as image prompt" adds a finished image to the tray, keeps the text, and sends it by job id', async () => {
  const sent: unknown[] = [];
  server.use(
    http.get(`${API}/jobs`, () =>
      HttpResponse.json({
        jobs: [
          makeJob('done1', {
            prompt: 'a glass teapot',
            status: 'complete',
            finished_at: new Date(Date.now()).toISOString(),
            image_url: '/api/images/done1.png',
          }),
        ],
        next_cursor: null,
      }),
    ),
    http.post(`${API}/imagine`, async ({ request }) => {
      sent.push(await request.json());
      return HttpResponse.json(makeJob('next', { prompt: 'in the style of a watercolour' }), { status: 202 });
    }),
  );
  const user = userEvent.setup();
  renderWithClient(<App />);

  await user.type(await screen.findByLabelText('Prompt'), 'in the style of a watercolour');
  await user.click(await screen.findByRole('button', { name: 'Use as image prompt' }));
  const thumbnail = await screen.findByRole('img', { name: 'Image prompt 1: a glass teapot' });
  await user.click(screen.getByRole('button', { name: 'Generate' }));
  await screen.findByRole('article', { name: 'in the style of a watercolour' });

  expect(thumbnail).toHaveAttribute('src', '/api/images/done1.png');
  expect(screen.getByLabelText('Prompt')).toHaveValue('in the style of a watercolour');
  expect(sent).toEqual([{ prompt: 'in the style of a watercolour', image_prompts: [{ job_id: 'done1' }] }]);
});

test('an empty history invites the first prompt', async () => {
  renderWithClient(<App />);

  expect(await screen.findByText(/Your images will appear here/)).toBeInTheDocument();
});

test('a private server shows the sign-in screen, and the right token opens the studio', async () => {
  let signedIn = false;
  server.use(
    http.get(`${API}/session`, () => HttpResponse.json({ required: true, signed_in: signedIn })),
    http.post(`${API}/session`, async ({ request }) => {
      const { token } = (await request.json()) as { token: string };
      if (token !== 'the-token') {
        return HttpResponse.json(
          { error: { code: 'unauthorized', message: 'That access token is not right' } },
          { status: 401 },
        );
      }
      signedIn = true;
      return new HttpResponse(null, { status: 204 });
    }),
  );
  const user = userEvent.setup();
  renderWithClient(<App />);

  await user.type(await screen.findByLabelText('Access token'), 'wrong');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
  expect(await screen.findByText('That access token is not right')).toBeInTheDocument();
  await user.clear(screen.getByLabelText('Access token'));
  await user.type(screen.getByLabelText('Access token'), 'the-token');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));

  expect(await screen.findByLabelText('Prompt')).toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Sign out' })).toBeInTheDocument();
});

test("the footer links to the API's reference page and its OpenAPI document, signed in or not", async () => {
  server.use(http.get(`${API}/session`, () => HttpResponse.json({ required: true, signed_in: false })));
  renderWithClient(<App />);

  await screen.findByLabelText('Access token');
  const footer = screen.getByRole('contentinfo');

  expect(within(footer).getByRole('link', { name: 'API reference' })).toHaveAttribute('href', '/api/docs');
  expect(within(footer).getByRole('link', { name: 'OpenAPI document' })).toHaveAttribute('href', '/api/openapi.json');
});
