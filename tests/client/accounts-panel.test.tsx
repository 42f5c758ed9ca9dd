// The accounts panel as an operator meets it: opened from the header, each upstream account's
// state in words (why it is down, how long it is paused), its budget, work and last error,
// refreshed while the panel is open, and what it says when the list cannot be loaded.
import type { AccountList, AccountStatus } from '@shared/schemas/account';
import type { QueryClient } from '@tanstack/react-query';
import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { expect, test, vi } from 'vitest';
import { App } from '@/app';
import { ACCOUNTS_REFRESH_MS } from '@/features/accounts/api/list-accounts';
import { AccountsPanel } from '@/features/accounts/components/accounts-panel';
import { API, errorAnswer } from '../mocks/api';
import { advance, installFakeClock, renderWithClient } from './helpers';
import { server } from './setup';

function makeAccount(name: string, rest: Partial<AccountStatus> = {}): AccountStatus {
  return {
    name,
    kind: 'simulator',
    state: 'ready',
    limit: 60,
    window_s: 60,
    used: 0,
    running: 0,
    max_running: 2,
    queued: 0,
    ...rest,
  };
}

const pool = (used = 12): AccountList => ({
  accounts: [
    makeAccount('relay-a', { used, running: 1 }),
    makeAccount('relay-b', { state: 'paused', used: 60, paused_for_s: 12, running: 2, queued: 3 }),
    makeAccount('relay-c', {
      kind: 'mj-proxy',
      state: 'down',
      reason: 'credentials refused: The upstream rejected the key',
      probe_in_s: 40,
      limit: 30,
      last_error: { message: 'The upstream rejected the key', at: '2026-05-03T08:30:00.000Z' },
    }),
  ],
});

/** Answers the given lists in order, once each, and counts the requests. */
function accountsServer(...lists: AccountList[]) {
  const requests = { count: 0 };
  server.events.on('request:start', ({ request }) => {
    if (new URL(request.url).pathname === '/api/accounts') requests.count += 1;
  });
  server.use(...lists.map((list) => http.get(`${API}/accounts`, () => HttpResponse.json(list), { once: true })));
  return requests;
}

/**
 * Moves the fake clock on, then waits for the requests it started to be answered (msw answers
 * outside the fake clock) and for their answers to be rendered (which waits on a fake timer).
 */
async function advanceAndSettle(client: QueryClient, ms: number) {
  await advance(ms);
  await vi.waitFor(() => expect(client.isFetching()).toBe(0));
  await advance(0);
}

const rowOf = (name: string) => screen.getByRole('row', { name: new RegExp(`^${name}\\b`) });

test('the header\'s "Accounts" opens the panel with its title focused, and a pool of one shows its one account', async () => {
  const user = userEvent.setup();
  renderWithClient(<App />);

  await user.click(await screen.findByRole('button', { name: 'Accounts' }));
  const panel = await screen.findByRole('region', { name: 'Accounts' });
  const table = await within(panel).findByRole('table', { name: 'Upstream accounts' });

  expect(within(panel).getByRole('heading', { name: 'Accounts' })).toHaveFocus();
  expect(screen.getByRole('button', { name: 'Accounts' })).toHaveAttribute('aria-expanded', 'true');
  expect(within(table).getAllByRole('row')).toHaveLength(2);
  expect(within(table).getByRole('rowheader', { name: 'simulator' })).toBeInTheDocument();
  expect(panel).toHaveTextContent('1 of 1 account in rotation');
});

test('"Close" closes the panel and gives the focus back to the header\'s button', async () => {
  const user = userEvent.setup();
  renderWithClient(<App />);
  const opener = await screen.findByRole('button', { name: 'Accounts' });
  await user.click(opener);
  const panel = await screen.findByRole('region', { name: 'Accounts' });

  await user.click(within(panel).getByRole('button', { name: 'Close' }));

  expect(screen.queryByRole('region', { name: 'Accounts' })).not.toBeInTheDocument();
  expect(opener).toHaveFocus();
  expect(opener).toHaveAttribute('aria-expanded', 'false');
});

test('each account shows its state in words, with why it is down and when it is next probed, or how long it is paused', async () => {
  accountsServer(pool());
  renderWithClient(<AccountsPanel onClose={() => undefined} />);

  await screen.findByRole('table');

  expect(rowOf('relay-a')).toHaveTextContent(/Ready/);
  expect(rowOf('relay-b')).toHaveTextContent(/Paused.*paused 12 s/);
  expect(rowOf('relay-c')).toHaveTextContent(
    /Down.*credentials refused: The upstream rejected the key · next probe in 40 s/,
  );
  expect(screen.getByText('2 of 3 accounts in rotation')).toBeInTheDocument();
});

test('each account shows its budget in use per minute, its running and queued work, and its last error with its time', async () => {
  accountsServer(pool());
  renderWithClient(<AccountsPanel onClose={() => undefined} />);

  await screen.findByRole('table');
  const headers = screen.getAllByRole('columnheader').map((header) => header.textContent);
  const cells = (name: string) =>
    within(rowOf(name))
      .getAllByRole('cell')
      .map((cell) => cell.textContent);

  expect(headers).toEqual(['Account', 'Kind', 'State', 'Budget in use', 'Running', 'Queued', 'Last error']);
  expect(cells('relay-a')).toEqual([
    'simulator',
    expect.stringContaining('Ready'),
    '12 / 60 per minute',
    '1 / 2',
    '0',
    'None',
  ]);
  expect(cells('relay-b').slice(2, 5)).toEqual(['60 / 60 per minute', '2 / 2', '3']);
  expect(cells('relay-c')[0]).toBe('mj-proxy');
  expect(cells('relay-c')[2]).toBe('0 / 30 per minute');
  expect(cells('relay-c')[5]).toMatch(/^The upstream rejected the key.+\d/);
  expect(rowOf('relay-c').querySelector('time')).toHaveAttribute('dateTime', '2026-05-03T08:30:00.000Z');
});

test('the panel asks again every 5 seconds while it is open and shows what it learns', async () => {
  installFakeClock();
  const requests = accountsServer(pool(12), pool(20), pool(31));
  const { client } = renderWithClient(<AccountsPanel onClose={() => undefined} />);

  await advanceAndSettle(client, 0);
  const first = rowOf('relay-a').textContent;
  await advanceAndSettle(client, ACCOUNTS_REFRESH_MS);
  const second = rowOf('relay-a').textContent;
  await advanceAndSettle(client, ACCOUNTS_REFRESH_MS);

  expect(first).toContain('12 / 60 per minute');
  expect(second).toContain('20 / 60 per minute');
  expect(rowOf('relay-a')).toHaveTextContent('31 / 60 per minute');
  expect(requests.count).toBe(3);
});

test('a list that cannot be loaded says so, stops asking, and "Try again" brings the accounts back', async () => {
  installFakeClock();
  const requests = accountsServer();
  server.use(
    http.get(`${API}/accounts`, () => errorAnswer(500, { code: 'internal', message: 'Something went wrong' }), {
      once: true,
    }),
  );
  const { client } = renderWithClient(<AccountsPanel onClose={() => undefined} />);

  await advanceAndSettle(client, 0);
  const alert = screen.getByRole('alert').textContent;
  await advanceAndSettle(client, ACCOUNTS_REFRESH_MS * 4);
  const whileFailed = requests.count;
  act(() => screen.getByRole('button', { name: 'Try again' }).click());
  await advanceAndSettle(client, 0);

  expect(alert).toBe('Could not load the accounts: Something went wrong');
  expect(whileFailed).toBe(1);
  expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  expect(screen.getByRole('rowheader', { name: 'simulator' })).toBeInTheDocument();
});
