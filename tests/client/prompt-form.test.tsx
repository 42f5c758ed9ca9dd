import { type ImagineRequestInput, imagineRequestSchema } from '@shared/schemas/imagine';
import { PROMPT_MAX_LENGTH } from '@shared/schemas/imagine-values';
import type { Job } from '@shared/schemas/job';
import { paramCost } from '@shared/schemas/prompt-params';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { Gallery } from '@/features/jobs/components/gallery';
import { PromptForm } from '@/features/jobs/components/prompt-form';
import { API, errorAnswer, makeJob } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

/** The form above the history, as on the page: a submission shows up as a card. */
async function renderForm() {
  renderWithClient(
    <>
      <PromptForm />
      <Gallery onUseAgain={vi.fn()} />
    </>,
  );
  await screen.findByText(/Your images will appear here/);
  return { user: userEvent.setup() };
}

const cardPrompts = () => screen.queryAllByRole('article').map((card) => card.getAttribute('aria-label'));

/** A server that accepts every submission as a new job and reports it, read as the server reads it, while it runs. */
function acceptSubmissions() {
  const accepted = new Map<string, Job>();
  const sent: ImagineRequestInput[] = [];
  server.use(
    http.post(`${API}/imagine`, async ({ request }) => {
      const body = (await request.json()) as ImagineRequestInput;
      sent.push(body);
      const { text, params } = imagineRequestSchema.parse(body);
      const job = makeJob(`sub_${accepted.size + 1}`, {
        prompt: text,
        params,
        aspect_ratio: params.aspect_ratio ?? '1:1',
        cost: paramCost(params),
      });
      accepted.set(job.job_id, job);
      return HttpResponse.json(job, { status: 202 });
    }),
    http.get(`${API}/jobs/:jobId`, ({ params }) => {
      const job = accepted.get(String(params.jobId));
      return job ? HttpResponse.json(job) : errorAnswer(404, { code: 'not_found', message: 'No such job' });
    }),
  );
  return { sent };
}

test('submitting sends the prompt with the chosen options written into it and puts the new job at the top', async () => {
  const { sent } = acceptSubmissions();
  const { user } = await renderForm();

  await user.type(screen.getByLabelText('Prompt'), '  a castle in the clouds ');
  await user.click(screen.getByRole('radio', { name: /16:9/ }));
  await user.click(screen.getByRole('button', { name: 'Settings' }));
  await user.selectOptions(await screen.findByLabelText(/^Quality/), '2');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  const card = await screen.findByRole('article', { name: 'a castle in the clouds' });
  expect(sent).toEqual([{ prompt: 'a castle in the clouds --ar 16:9 --q 2' }]);
  expect(card).toHaveTextContent('--ar 16:9 --q 2');
  expect(card).toHaveTextContent('2× cost');
});

test('the form is disabled and says Submitting… until the server answers', async () => {
  let answer: (value: Response) => void = () => undefined;
  server.use(
    http.post(`${API}/imagine`, () => new Promise<Response>((resolve) => (answer = resolve))),
    http.get(`${API}/jobs/j`, () => HttpResponse.json(makeJob('j', { prompt: 'a fox' }))),
  );
  const { user } = await renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  const button = await screen.findByRole('button', { name: 'Submitting…' });
  expect(button).toBeDisabled();
  expect(screen.getByLabelText('Prompt')).toBeDisabled();
  answer(HttpResponse.json(makeJob('j', { prompt: 'a fox' }), { status: 202 }));
  await waitFor(() => expect(screen.getByRole('button', { name: 'Generate' })).toBeEnabled());
  expect(cardPrompts()).toEqual(['a fox']);
});

test('Ctrl+Enter and Cmd+Enter submit from the prompt', async () => {
  acceptSubmissions();
  const { user } = await renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox{Control>}{Enter}{/Control}');
  await waitFor(() => expect(cardPrompts()).toHaveLength(1));
  await user.type(screen.getByLabelText('Prompt'), '{Meta>}{Enter}{/Meta}');

  await waitFor(() => expect(cardPrompts()).toEqual(['a fox', 'a fox']));
});

test('the counter tracks the prompt against the shared limit and flags an overlong prompt', async () => {
  acceptSubmissions();
  const { user } = await renderForm();
  const prompt = screen.getByLabelText('Prompt');

  await user.click(prompt);
  await user.paste('x'.repeat(PROMPT_MAX_LENGTH + 1));
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(screen.getByText(`${PROMPT_MAX_LENGTH + 1} / ${PROMPT_MAX_LENGTH}`)).toHaveClass('over');
  expect(await screen.findByText(`Keep the prompt under ${PROMPT_MAX_LENGTH + 1} characters`)).toHaveRole('alert');
  expect(prompt).toHaveAttribute('aria-invalid', 'true');
  expect(cardPrompts()).toEqual([]);
});

test('a prompt with control characters is stopped with the shared schema message', async () => {
  acceptSubmissions();
  const { user } = await renderForm();

  await user.click(screen.getByLabelText('Prompt'));
  await user.paste('a fox\u0007');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('The prompt contains control characters')).toHaveRole('alert');
  expect(cardPrompts()).toEqual([]);
});

test('the form starts from a draft when one is given, its controls showing the draft’s parameters', async () => {
  const user = userEvent.setup();
  renderWithClient(<PromptForm initial={{ request: { prompt: 'use me again --ar 9:16 --q 2' }, images: [] }} />);

  await user.click(screen.getByRole('button', { name: 'Settings' }));

  expect(screen.getByLabelText('Prompt')).toHaveValue('use me again --ar 9:16 --q 2');
  expect(screen.getByRole('radio', { name: /9:16/ })).toBeChecked();
  expect(await screen.findByLabelText(/^Quality/)).toHaveValue('2');
});

test('the Generate button is disabled while the prompt is empty', async () => {
  await renderForm();

  expect(screen.getByRole('button', { name: 'Generate' })).toBeDisabled();
});

test('a refused prompt shows the upstream reason and keeps the prompt for editing', async () => {
  server.use(
    http.post(`${API}/imagine`, () =>
      errorAnswer(422, { code: 'content_refused', message: 'The prompt was refused: banned word "gore"' }),
    ),
  );
  const { user } = await renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'gore');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('The prompt was refused: banned word "gore"')).toBeInTheDocument();
  expect(screen.getByLabelText('Prompt')).toHaveValue('gore');
  expect(cardPrompts()).toEqual([]);
});

test('a rate-limited submission says how long to wait', async () => {
  server.use(
    http.post(`${API}/imagine`, () =>
      errorAnswer(429, { code: 'rate_limited', message: 'The upstream is rate limiting', retry_after_s: 21 }),
    ),
  );
  const { user } = await renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('Too many requests right now. Try again in 21 s.')).toBeInTheDocument();
});

test('a server that cannot be reached is reported plainly', async () => {
  server.use(http.post(`${API}/imagine`, () => HttpResponse.error()));
  const { user } = await renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('Could not reach the server. Check your connection.')).toBeInTheDocument();
});
