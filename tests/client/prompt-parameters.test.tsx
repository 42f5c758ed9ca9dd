import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { PromptForm } from '@/features/jobs/components/prompt-form';
import { API } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

test('a prompt with Midjourney parameters is stopped in the browser with the message the server gives', async () => {
  let submissions = 0;
  server.use(
    http.post(`${API}/imagine`, () => {
      submissions += 1;
      return HttpResponse.json({}, { status: 500 });
    }),
  );
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.click(screen.getByLabelText('Prompt'));
  await user.paste('a cat --ar 21:9 —q 2');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  const message = await screen.findByText(
    'Midjourney parameters in the prompt are not supported yet: --ar, --q; use the aspect ratio and quality fields',
  );
  expect(message).toHaveRole('alert');
  expect(screen.getByLabelText('Prompt')).toHaveAttribute('aria-invalid', 'true');
  expect(submissions).toBe(0);
});
