import type { ImagineRequestInput } from '@shared/schemas/imagine';
import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { PromptForm } from '@/features/jobs/components/prompt-form';
import { DEFAULTS_STORAGE_KEY } from '@/features/jobs/hooks/use-param-defaults';
import { API, errorAnswer, makeJob } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

/** Counts and keeps the submissions; each is accepted as a new job. */
function recordSubmissions() {
  const sent: ImagineRequestInput[] = [];
  server.use(
    http.post(`${API}/imagine`, async ({ request }) => {
      sent.push((await request.json()) as ImagineRequestInput);
      return HttpResponse.json(makeJob(`p_${sent.length}`), { status: 202 });
    }),
  );
  return sent;
}

async function openSettings(user: ReturnType<typeof userEvent.setup>) {
  await user.click(screen.getByRole('button', { name: 'Settings' }));
  return screen.findByRole('region', { name: 'Settings' });
}

const prompt = () => screen.getByLabelText('Prompt');

test('known parameters in the prompt, typographic dashes too, are accepted and sent as written', async () => {
  const sent = recordSubmissions();
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.click(prompt());
  await user.paste('a cat --ar 21:9 —q 2');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  await expect.poll(() => sent).toEqual([{ prompt: 'a cat --ar 21:9 —q 2' }]);
  expect(screen.queryByRole('listitem')).not.toBeInTheDocument();
  expect(screen.getByLabelText('More aspect ratios')).toHaveValue('21:9');
});

test('an unknown parameter is named under the box as it is typed, and the prompt is not sent', async () => {
  const sent = recordSubmissions();
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.type(prompt(), 'a cat --repeat 4');
  const live = screen.getByText(/^--repeat is not a supported parameter/);
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(live).toHaveTextContent(
    '--repeat is not a supported parameter: it runs the job several times, each billed; submit again instead',
  );
  expect(await screen.findByRole('alert')).toHaveTextContent('--repeat is not a supported parameter');
  expect(prompt()).toHaveAttribute('aria-invalid', 'true');
  expect(sent).toEqual([]);
});

test('an out-of-range value and a parameter the model does not take are named before sending', async () => {
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.type(prompt(), 'a cat --s 5000 --v 6 --draft');

  expect(screen.getByText('--s (stylize) takes a whole number from 0 to 1000')).toBeInTheDocument();
  expect(screen.getByText('--draft is for model 7 only; this prompt uses --v 6')).toBeInTheDocument();
});

test('the server’s 400 message is shown when the browser let the prompt through', async () => {
  server.use(
    http.post(`${API}/imagine`, () =>
      errorAnswer(400, {
        code: 'invalid_request',
        message: 'Invalid request body: params.seed: --seed is not allowed here',
      }),
    ),
  );
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.type(prompt(), 'a cat --seed 3');
  await user.click(screen.getByRole('button', { name: 'Generate' }));

  expect(await screen.findByText('Invalid request body: params.seed: --seed is not allowed here')).toHaveRole('alert');
});

test('typing parameters moves the controls: the ratio, the stylize slider and the model', async () => {
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.type(prompt(), 'a cat --s 250 --ar 3:2 --niji 6');
  const settings = await openSettings(user);

  expect(screen.getByLabelText('More aspect ratios')).toHaveValue('3:2');
  expect(within(settings).getByRole('slider', { name: /^Stylize/ })).toHaveValue('250');
  expect(within(settings).getByLabelText(/^Model/)).toHaveValue('niji 6');
  expect(within(settings).getByRole('slider', { name: /^Stylize/ })).toHaveAccessibleDescription(
    expect.stringMatching(/^in the prompt /),
  );
  expect(within(settings).getByRole('slider', { name: /^Chaos/ })).toHaveValue('0');
});

test('moving the stylize slider and the ratio radios rewrites the text', async () => {
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();
  await user.type(prompt(), 'a cat');
  const settings = await openSettings(user);

  fireEvent.change(within(settings).getByRole('slider', { name: /^Stylize/ }), { target: { value: '250' } });
  const afterSlider = (prompt() as HTMLTextAreaElement).value;
  await user.click(screen.getByRole('radio', { name: /4:3/ }));
  const afterRatio = (prompt() as HTMLTextAreaElement).value;
  await user.click(screen.getByRole('radio', { name: /1:1/ }));

  expect(afterSlider).toBe('a cat --s 250');
  expect(afterRatio).toBe('a cat --ar 4:3 --s 250');
  expect(prompt()).toHaveValue('a cat --s 250');
});

test('a custom W:H is written into the text, and one Midjourney cannot take is explained', async () => {
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();
  await user.type(prompt(), 'a tall tower');
  const custom = screen.getByLabelText('Custom aspect ratio (W:H)');

  await user.type(custom, '1:20{Enter}');
  const refusal = screen.getByText(/^--ar \(aspect ratio\) takes W:H/);
  const textWhileRefused = (prompt() as HTMLTextAreaElement).value;
  await user.clear(custom);
  await user.type(custom, '5:4{Enter}');

  expect(refusal).toHaveTextContent('the longer side at most 14 times the shorter');
  expect(refusal).toHaveRole('alert');
  expect(textWhileRefused).toBe('a tall tower');
  expect(prompt()).toHaveValue('a tall tower --ar 5:4');
  expect(screen.queryByText(/^--ar \(aspect ratio\) takes W:H/)).not.toBeInTheDocument();
  expect(custom).toHaveValue('5:4');
});

test('settings are remembered in this browser, sent as params for the next prompts, and reset', async () => {
  const sent = recordSubmissions();
  const user = userEvent.setup();
  const first = renderWithClient(<PromptForm />);
  await user.type(prompt(), 'a cat');
  let settings = await openSettings(user);
  fireEvent.change(within(settings).getByRole('slider', { name: /^Stylize/ }), { target: { value: '250' } });
  await user.click(within(settings).getByRole('checkbox', { name: /^Raw/ }));
  const firstText = (prompt() as HTMLTextAreaElement).value;
  first.unmount();

  renderWithClient(<PromptForm />);
  await user.type(prompt(), 'a dog --s 50');
  const line = screen.getByText(/Your defaults, added/);
  settings = await openSettings(user);
  const raw = within(settings).getByRole('checkbox', { name: /^Raw/ });
  const stylize = within(settings).getByRole('slider', { name: /^Stylize/ });
  await user.click(screen.getByRole('button', { name: 'Generate' }));
  await expect.poll(() => sent.length).toBe(1);

  expect(firstText).toBe('a cat --s 250 --raw');
  expect(line).toHaveTextContent('Your defaults, added: --raw');
  expect(raw).toBeChecked();
  expect(raw).toHaveAccessibleDescription(expect.stringMatching(/^your default /));
  expect(stylize).toHaveValue('50');
  expect(stylize).toHaveAccessibleDescription(expect.stringMatching(/^in the prompt /));
  expect(sent).toEqual([{ prompt: 'a dog --s 50', params: { raw: true } }]);

  await user.click(within(settings).getByRole('button', { name: "Reset to Midjourney's defaults" }));

  expect(prompt()).toHaveValue('a dog');
  expect(within(settings).getByRole('slider', { name: /^Stylize/ })).toHaveValue('100');
  expect(screen.queryByText(/Your defaults, added/)).not.toBeInTheDocument();
  expect(JSON.parse(localStorage.getItem(DEFAULTS_STORAGE_KEY) ?? 'null')).toEqual({});
});

test('a remembered setting the prompt’s model refuses is marked and not sent', async () => {
  localStorage.setItem(DEFAULTS_STORAGE_KEY, JSON.stringify({ draft: true, stylize: 300, chaos: 'lots' }));
  const sent = recordSubmissions();
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();

  await user.type(prompt(), 'a fox --v 6');
  const settings = await openSettings(user);
  await user.click(screen.getByRole('button', { name: 'Generate' }));
  await expect.poll(() => sent.length).toBe(1);

  expect(within(settings).getByRole('checkbox', { name: /^Draft/ })).toHaveAccessibleDescription(
    expect.stringMatching(/^your default, not for this model/),
  );
  expect(sent).toEqual([{ prompt: 'a fox --v 6', params: { stylize: 300 } }]);
});

test('the quality choices follow the model, with their cost', async () => {
  renderWithClient(<PromptForm />);
  const user = userEvent.setup();
  await user.type(prompt(), 'a fox');
  const settings = await openSettings(user);
  const quality = within(settings).getByLabelText(/^Quality/);
  const v7 = within(quality)
    .getAllByRole('option')
    .map((option) => option.textContent);

  await user.selectOptions(within(settings).getByLabelText(/^Model/), '6.1');

  expect(v7).toEqual(['1', '2 (2× cost)', '4 (4× cost)']);
  expect(
    within(quality)
      .getAllByRole('option')
      .map((option) => option.textContent),
  ).toEqual(['0.25', '0.5', '1', '2 (2× cost)']);
  expect(prompt()).toHaveValue('a fox --v 6.1');
});
