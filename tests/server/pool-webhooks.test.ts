// Unsigned notices in a pool: each account's own secret hook path, matched to that account's
// jobs alone (two relays may both have a task 7).
import { HttpResponse, http } from 'msw';
import { expect, test } from 'vitest';
import type { AccountSpec } from '../../server/src/accounts/accounts-file';
import { server } from '../mocks/node';
import { CDN_BASE } from '../mocks/upstream';
import { waitFor } from '../support/wait';
import { buildTestApp, mockUpstreamForEachTest, submitJob } from './helpers';

mockUpstreamForEachTest();

const relay = (name: string, weight: number): AccountSpec => ({
  name,
  kind: 'mj-proxy',
  baseUrl: `https://${name}.test/mj`,
  secret: `relay-secret-${name}-0123456789`,
  perMinute: 1_000,
  maxRunning: 10,
  weight,
  modes: ['fast', 'relax', 'turbo'],
  enabled: true,
  channel: undefined,
});

/** A relay whose every task is number 7; it says SUCCESS once `done` holds. */
function mockRelay(name: string) {
  const state = { done: false, hook: '' };
  server.use(
    http.post(`https://${name}.test/mj/submit/imagine`, async ({ request }) => {
      state.hook = String(((await request.json()) as { notifyHook?: string }).notifyHook ?? '');
      return HttpResponse.json({ code: 1, description: 'ok', result: '7' });
    }),
    http.get(`https://${name}.test/mj/task/7/fetch`, () =>
      HttpResponse.json(
        state.done
          ? { id: '7', status: 'SUCCESS', progress: '100%', imageUrl: `${CDN_BASE}/images/${name}.png` }
          : { id: '7', status: 'IN_PROGRESS', progress: '40%' },
      ),
    ),
  );
  return state;
}

test("a notice on one account's hook path reaches that account's task alone, and a made-up path is a 404", async () => {
  const first = mockRelay('one');
  const second = mockRelay('two');
  const app = await buildTestApp({
    accounts: [relay('one', 2), relay('two', 1)],
    publicUrl: 'https://studio.example',
  });
  const onOne = await submitJob(app.agent, 'on the first');
  const onTwo = await submitJob(app.agent, 'on the second');
  first.done = true;
  second.done = true;

  const path = new URL(first.hook).pathname;
  const delivered = await app.agent.post(path).send({ id: '7', status: 'SUCCESS', progress: '100%' });
  await waitFor(() => app.store.get(onOne)?.status === 'complete', { message: 'the first task to be complete' });
  const wrong = await app.agent.post('/hooks/account/not-a-token').send({ id: '7', status: 'SUCCESS' });

  expect(first.hook).toMatch(/^https:\/\/studio\.example\/hooks\/account\/[\w-]{32}$/);
  expect(second.hook).toMatch(/^https:\/\/studio\.example\/hooks\/account\/[\w-]{32}$/);
  expect(second.hook).not.toBe(first.hook);
  expect(delivered.status).toBe(204);
  expect(app.store.get(onOne)).toMatchObject({ account: 'one', status: 'complete' });
  expect(app.store.get(onTwo)).toMatchObject({ account: 'two', status: 'pending' });
  expect(wrong.status).toBe(404);
});
