// The API keys panel as its user meets it: opened from the header, a key made and its secret
// shown once with a way to copy it, the list of keys, and revoking one after a confirmation.
import type { ApiKey, ApiKeyList, CreatedApiKey } from '@shared/schemas/api-key';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { App } from '@/app';
import { KeysPanel } from '@/features/keys/components/keys-panel';
import { API, errorAnswer } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

const SECRET = `mjk_${'s3cr3t'.repeat(7)}x`;

function makeKey(id: string, rest: Partial<ApiKey> = {}): ApiKey {
  return {
    id: `ak_${id.replaceAll(' ', '-').padEnd(20, '0')}`,
    name: id,
    hint: 'mjk_…ab12',
    created_at: '2026-05-01T10:00:00.000Z',
    last_used_at: null,
    revoked_at: null,
    ...rest,
  };
}

/** Our API's keys, kept as the server would: made, listed newest first, revoked. */
function keysServer(initial: ApiKey[] = []) {
  const keys = [...initial];
  const revoked: string[] = [];
  server.use(
    http.get(`${API}/keys`, () => HttpResponse.json({ keys } satisfies ApiKeyList)),
    http.post(`${API}/keys`, async ({ request }) => {
      const { name } = (await request.json()) as { name: string };
      const key = makeKey(`made${keys.length}`, { name, hint: `mjk_…${SECRET.slice(-4)}` });
      keys.unshift(key);
      return HttpResponse.json({ key, secret: SECRET } satisfies CreatedApiKey, { status: 201 });
    }),
    http.delete(`${API}/keys/:keyId`, ({ params }) => {
      const index = keys.findIndex((key) => key.id === params.keyId);
      const key = keys[index];
      if (!key) return errorAnswer(404, { code: 'not_found', message: 'No such API key' });
      keys[index] = { ...key, revoked_at: '2026-05-02T09:00:00.000Z' };
      revoked.push(key.id);
      return new HttpResponse(null, { status: 204 });
    }),
  );
  return { revoked };
}

const renderPanel = () => renderWithClient(<KeysPanel onClose={() => undefined} />);

test('the header\'s "API keys" opens the panel, which says how a script and a midjourney-proxy client use a key', async () => {
  const user = userEvent.setup();
  keysServer();
  renderWithClient(<App />);

  await user.click(await screen.findByRole('button', { name: 'API keys' }));
  const panel = await screen.findByRole('region', { name: 'API keys' });

  expect(screen.getByRole('button', { name: 'API keys' })).toHaveAttribute('aria-expanded', 'true');
  expect(panel).toHaveTextContent(`Point your midjourney-proxy client at ${window.location.origin}/mj`);
  expect(panel).toHaveTextContent('mj-api-secret');
  expect(panel).toHaveTextContent(`Scripts send it to ${window.location.origin}/api as Authorization: Bearer`);
  expect(within(panel).getByRole('link', { name: 'API reference' })).toHaveAttribute('href', '/api/docs');
  expect(await within(panel).findByText('No keys yet.')).toBeInTheDocument();
});

test('"Close" closes the panel and gives the focus back to the header\'s button', async () => {
  const user = userEvent.setup();
  keysServer();
  renderWithClient(<App />);
  const opener = await screen.findByRole('button', { name: 'API keys' });
  await user.click(opener);
  const panel = await screen.findByRole('region', { name: 'API keys' });

  await user.click(within(panel).getByRole('button', { name: 'Close' }));

  expect(screen.queryByRole('region', { name: 'API keys' })).not.toBeInTheDocument();
  expect(opener).toHaveFocus();
  expect(opener).toHaveAttribute('aria-expanded', 'false');
});

test('creating a key shows its secret once, with a warning and a Copy button, and never again after Done', async () => {
  const user = userEvent.setup();
  keysServer();
  renderPanel();

  await user.type(screen.getByLabelText('Name'), 'chat bot');
  await user.click(screen.getByRole('button', { name: 'Create key' }));
  const secret = await screen.findByLabelText('Secret of “chat bot”');
  const shown = secret instanceof HTMLInputElement ? { value: secret.value, readOnly: secret.readOnly } : undefined;
  const warned = screen.queryByText(/Copy this key now: it is shown only once/) !== null;
  await user.click(screen.getByRole('button', { name: 'Copy' }));
  const copied = await navigator.clipboard.readText();
  const listed = (await screen.findByRole('listitem')).textContent;
  await user.click(screen.getByRole('button', { name: 'Done' }));

  expect(shown).toEqual({ value: SECRET, readOnly: true });
  expect(warned).toBe(true);
  expect(copied).toBe(SECRET);
  expect(listed).toContain('chat bot');
  expect(screen.queryByDisplayValue(SECRET)).not.toBeInTheDocument();
  expect(document.body).not.toHaveTextContent(SECRET);
  expect(screen.getByLabelText('Name')).toHaveValue('');
});

test('the list shows each key with its hint, when it was made and when last used, or "never"', async () => {
  keysServer([
    makeKey('gateway', { hint: 'mjk_…Zz90', last_used_at: '2026-05-03T08:30:00.000Z' }),
    makeKey('old bot', { revoked_at: '2026-05-02T09:00:00.000Z' }),
    makeKey('fresh'),
  ]);
  renderPanel();

  const rows = await screen.findAllByRole('listitem');

  expect(rows).toHaveLength(3);
  expect(rows[0]).toHaveTextContent('gateway');
  expect(rows[0]).toHaveTextContent('mjk_…Zz90');
  expect(rows[0]).toHaveTextContent(/Created .+ · Last used .*\d/);
  expect(rows[0]).not.toHaveTextContent('never');
  expect(rows[1]).toHaveTextContent(/Revoked/);
  expect(rows[1]?.querySelector('button')).toBeNull();
  expect(rows[2]).toHaveTextContent('Last used never');
  expect(screen.getByText('2 of 50 keys in use')).toBeInTheDocument();
});

test('Revoke asks first: "Keep it" sends nothing, "Revoke key" revokes it and the list says so', async () => {
  const user = userEvent.setup();
  const { revoked } = keysServer([makeKey('gateway')]);
  renderPanel();

  await user.click(await screen.findByRole('button', { name: 'Revoke gateway' }));
  const question = screen.getByRole('group', { name: /Revoke “gateway”\? Clients using it stop working at once/ });
  await user.click(within(question).getByRole('button', { name: 'Keep it' }));
  const afterKeeping = [...revoked];
  await user.click(screen.getByRole('button', { name: 'Revoke gateway' }));
  await user.click(screen.getByRole('button', { name: 'Revoke key' }));

  expect(afterKeeping).toEqual([]);
  await waitFor(() => expect(screen.getByRole('listitem')).toHaveTextContent(/Revoked/));
  expect(revoked).toEqual([makeKey('gateway').id]);
  expect(screen.queryByRole('button', { name: 'Revoke gateway' })).not.toBeInTheDocument();
});

test('the confirmation puts the focus on "Keep it", the safe answer', async () => {
  const user = userEvent.setup();
  keysServer([makeKey('gateway')]);
  renderPanel();

  await user.click(await screen.findByRole('button', { name: 'Revoke gateway' }));

  expect(screen.getByRole('button', { name: 'Keep it' })).toHaveFocus();
});

test("the server's refusal to make another key is shown, and no secret appears", async () => {
  const user = userEvent.setup();
  keysServer();
  server.use(
    http.post(
      `${API}/keys`,
      () => errorAnswer(409, { code: 'conflict', message: 'You have 50 API keys already: revoke one first' }),
      { once: true },
    ),
  );
  renderPanel();

  await user.type(screen.getByLabelText('Name'), 'one too many');
  await user.click(screen.getByRole('button', { name: 'Create key' }));

  expect(await screen.findByText('You have 50 API keys already: revoke one first')).toHaveAttribute('role', 'alert');
  expect(screen.queryByText(/shown only once/)).not.toBeInTheDocument();
  expect(screen.getByLabelText('Name')).toHaveValue('one too many');
});

test('a name of spaces alone cannot be sent', async () => {
  const user = userEvent.setup();
  keysServer();
  renderPanel();

  await user.type(screen.getByLabelText('Name'), '   ');

  expect(screen.getByRole('button', { name: 'Create key' })).toBeDisabled();
});

test('a list that cannot be loaded says so', async () => {
  server.use(http.get(`${API}/keys`, () => errorAnswer(500, { code: 'internal', message: 'Something went wrong' })));
  renderPanel();

  expect(await screen.findByText('Could not load the keys: Something went wrong')).toHaveAttribute('role', 'alert');
});
