import { PROMPT_MAX_LENGTH } from '@shared/schemas/imagine';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { PromptForm } from '@/features/jobs/components/prompt-form';
import { API, errorAnswer, makeJob } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

function renderForm() {
  const onSubmitted = vi.fn();
  renderWithClient(<PromptForm onSubmitted={onSubmitted} />);
  return { onSubmitted, user: userEvent.setup() };
}

test('submitting sends the prompt and options and hands the new job to the page', async () => {
  let sent: unknown;
  server.use(
    http.post(`${API}/imagine`, async ({ request }) => {
      sent = await request.json();
      return HttpResponse.json(
        makeJob('new_1', { prompt: 'a castle in the clouds', aspect_ratio: '16:9', quality: 'high' }),
        {
          status: 202,
        },
      );
    }),
  );
  const { onSubmitted, user } = renderForm();

  await user.type(screen.getByLabelText('Prompt'), '  a castle in the clouds ');
  await user.click(screen.getByRole('radio', { name: /16:9/ }));
  await user.selectOptions(screen.getByLabelText('Quality'), 'high');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  await waitFor(() => expect(onSubmitted).toHaveBeenCalledTimes(1));
  expect(sent).toEqual({ prompt: 'a castle in the clouds', aspect_ratio: '16:9', quality: 'high' });
  expect(onSubmitted.mock.calls[0]?.[0]).toMatchObject({ job_id: 'new_1', status: 'pending' });
});

test('the form is disabled and says Submitting… until the server answers', async () => {
  let answer: (value: Response) => void = () => undefined;
  server.use(http.post(`${API}/imagine`, () => new Promise<Response>((resolve) => (answer = resolve))));
  const { onSubmitted, user } = renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  const button = await screen.findByRole('button', { name: 'Submitting…' });
  expect(button).toBeDisabled();
  expect(screen.getByLabelText('Prompt')).toBeDisabled();
  answer(HttpResponse.json(makeJob('j'), { status: 202 }));
  await waitFor(() => expect(screen.getByRole('button', { name: 'Generate' })).toBeEnabled());
  expect(onSubmitted).toHaveBeenCalledTimes(1);
});

test('Ctrl+Enter and Cmd+Enter submit from the prompt', async () => {
  const { onSubmitted, user } = renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox{Control>}{Enter}{/Control}');
  await waitFor(() => expect(onSubmitted).toHaveBeenCalledTimes(1));
  await user.type(screen.getByLabelText('Prompt'), '{Meta>}{Enter}{/Meta}');

  await waitFor(() => expect(onSubmitted).toHaveBeenCalledTimes(2));
});

test('the counter tracks the prompt against the shared limit and flags an overlong prompt', async () => {
  const { onSubmitted, user } = renderForm();
  const prompt = screen.getByLabelText('Prompt');

  await user.click(prompt);
  await user.paste('x'.repeat(PROMPT_MAX_LENGTH + 1));
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(screen.getByText(`${PROMPT_MAX_LENGTH + 1} / ${PROMPT_MAX_LENGTH}`)).toHaveClass('over');
  expect(screen.getByRole('alert')).toHaveTextContent(`Keep the prompt under ${PROMPT_MAX_LENGTH + 1} characters`);
  expect(prompt).toHaveAttribute('aria-invalid', 'true');
  expect(onSubmitted).not.toHaveBeenCalled();
});

test('a prompt with control characters is stopped with the shared schema message', async () => {
  const { onSubmitted, user } = renderForm();

  await user.click(screen.getByLabelText('Prompt'));
  await user.paste('a fox\u0007');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(screen.getByRole('alert')).toHaveTextContent('The prompt contains control characters');
  expect(onSubmitted).not.toHaveBeenCalled();
});

test('the form starts from a draft when one is given', () => {
  renderWithClient(<PromptForm initial={{ prompt: 'use me again', aspect_ratio: '9:16', quality: 'high' }} />);

  expect(screen.getByLabelText('Prompt')).toHaveValue('use me again');
  expect(screen.getByRole('radio', { name: /9:16/ })).toBeChecked();
  expect(screen.getByLabelText('Quality')).toHaveValue('high');
});

test('the Generate button is disabled while the prompt is empty', () => {
  renderForm();

  expect(screen.getByRole('button', { name: 'Generate' })).toBeDisabled();
});

test('a refused prompt shows the upstream reason and keeps the prompt for editing', async () => {
  server.use(
    http.post(`${API}/imagine`, () =>
      errorAnswer(422, { code: 'content_refused', message: 'The prompt was refused: banned word "gore"' }),
    ),
  );
  const { onSubmitted, user } = renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'gore');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('The prompt was refused: banned word "gore"')).toBeInTheDocument();
  expect(screen.getByLabelText('Prompt')).toHaveValue('gore');
  expect(onSubmitted).not.toHaveBeenCalled();
});

test('a rate-limited submission says how long to wait', async () => {
  server.use(
    http.post(`${API}/imagine`, () =>
      errorAnswer(429, { code: 'rate_limited', message: 'The upstream is rate limiting', retry_after_s: 21 }),
    ),
  );
  const { user } = renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('Too many requests right now. Try again in 21 s.')).toBeInTheDocument();
});

test('a server that cannot be reached is reported plainly', async () => {
  server.use(http.post(`${API}/imagine`, () => HttpResponse.error()));
  const { user } = renderForm();

  await user.type(screen.getByLabelText('Prompt'), 'a fox');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('Could not reach the server. Check your connection.')).toBeInTheDocument();
});
