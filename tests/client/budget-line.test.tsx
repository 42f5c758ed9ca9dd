import { screen } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import { BudgetLine } from '@/features/budget/components/budget-line';
import { API } from '../mocks/api';
import { renderWithClient } from './helpers';
import { server } from './setup';

test('the budget line shows upstream requests in the last minute against the limit, and the queue', async () => {
  server.use(
    http.get(`${API}/budget`, () => HttpResponse.json({ limit: 60, window_s: 60, used: 42, queue_length: 3 })),
  );

  renderWithClient(<BudgetLine />);

  expect(await screen.findByText('Upstream: 42 of 60 requests in the last minute · 3 queued')).toBeInTheDocument();
});

test('the budget line says when the upstream has paused the budget', async () => {
  server.use(
    http.get(`${API}/budget`, () =>
      HttpResponse.json({ limit: 60, window_s: 60, used: 60, queue_length: 0, paused_for_s: 12 }),
    ),
  );

  renderWithClient(<BudgetLine />);

  expect(await screen.findByText(/paused 12 s by the upstream/)).toBeInTheDocument();
});
