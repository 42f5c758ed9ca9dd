// End to end over real HTTP: the production composition with three accounts played by the
// built-in simulator (time compressed), browsers submitting through /api, and one account
// whose key is revoked mid-load, then restored. Every job must still end complete.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jobSchema } from '@shared/schemas/job';
import { afterEach, expect, test } from 'vitest';
import type { AccountSpec } from '../../server/src/accounts/accounts-file';
import { type ComposedServer, createServer } from '../../server/src/compose';
import { parseEnv } from '../../server/src/env';
import { createLogger } from '../../server/src/logger';
import { mockHttpForEachTest } from '../mocks/node';
import { waitFor } from '../support/wait';

mockHttpForEachTest();

/** Real milliseconds per simulated one: a 7 s job takes about 0.2 s. */
const F = 0.03;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const spec = (name: string): AccountSpec => ({
  name,
  kind: 'simulator',
  baseUrl: undefined,
  secret: undefined,
  perMinute: 60,
  maxRunning: 6,
  weight: 1,
  modes: ['fast', 'relax', 'turbo'],
  enabled: true,
  channel: undefined,
});

async function startPool(
  push: 'on' | 'off',
  protocol = 'mj-proxy',
  names = ['sim-1', 'sim-2', 'sim-3'],
): Promise<{ composed: ComposedServer; base: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mj-pool-'));
  const composed = await createServer(
    {
      ...parseEnv({
        DATA_DIR: dataDir,
        UPSTREAM: 'simulator',
        SIM_PROTOCOL: protocol,
        SIM_PUSH: push,
        SIM_FAILURE_RATE: '0',
        SESSION_SECRET: randomBytes(24).toString('hex'),
      }),
      SIM_TIME_FACTOR: F,
      BUDGET_WINDOW_MS: 60_000 * F,
      MIN_CHECK_GAP_MS: 1_000 * F,
      MAX_CHECK_GAP_MS: 60_000 * F,
      JOB_DEADLINE_MS: 10 * 60_000,
      UPSTREAM_TIMEOUT_MS: 2_000,
      SUBMITS_PER_MINUTE_PER_CLIENT: 1_000,
      SUBMITS_PER_MINUTE_PER_ADDRESS: 100_000,
      NEW_OWNERS_PER_HOUR_PER_ADDRESS: 100_000,
      RUNNING_JOBS_PER_CLIENT: 1_000,
      accounts: names.map(spec),
    },
    { logger: createLogger({ level: 'silent' }), simulator: { imageScale: 0.1 } },
  );
  const server: Server = await composed.listen(0, '127.0.0.1');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await composed.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { composed, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function submit(base: string, cookie: string, prompt: string): Promise<string> {
  const response = await fetch(`${base}/api/imagine`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt }),
  });
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return jobSchema.parse(await response.json()).job_id;
}

test('one of three accounts has its key revoked mid-load: it leaves rotation, the others take the work, and every job still ends complete', async () => {
  const { composed, base } = await startPool('on');
  const cookie = String((await fetch(`${base}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';
  const engine = composed.simulator?.engine;
  const dyingKey = composed.simulatorKeys.get('sim-2') ?? '';
  const ids: string[] = [];

  for (let i = 0; i < 12; i++) ids.push(await submit(base, cookie, `before ${i}`));
  await waitFor(() => ids.some((id) => composed.store.get(id)?.account === 'sim-2'), {
    message: 'a job on sim-2',
    timeoutMs: 5_000,
  });
  engine?.setFault(dyingKey, 'refuse');
  for (let i = 0; i < 12; i++) ids.push(await submit(base, cookie, `during ${i}`));
  const down = await waitFor(
    () => composed.scheduler.accounts().find((entry) => entry.name === 'sim-2' && entry.state === 'down'),
    { message: 'sim-2 to be taken out of rotation', timeoutMs: 10_000 },
  );
  const healthz = await (await fetch(`${base}/healthz`)).json();
  for (let i = 0; i < 12; i++) ids.push(await submit(base, cookie, `after ${i}`));
  const sentWhileDown = ids.slice(24).map((id) => composed.store.get(id)?.account);
  engine?.setFault(dyingKey, undefined);
  await waitFor(() => ids.every((id) => composed.store.get(id)?.status === 'complete'), {
    message: 'all 36 jobs to be complete',
    timeoutMs: 60_000,
  });

  expect(down.reason).toMatch(/credentials refused/);
  expect(healthz.accounts.find((entry: { name: string }) => entry.name === 'sim-2')).toMatchObject({ state: 'down' });
  expect(JSON.stringify(healthz)).not.toContain(dyingKey);
  expect(sentWhileDown).not.toContain('sim-2');
  const perAccount = new Map<string, number>();
  for (const id of ids) {
    const account = composed.store.get(id)?.account ?? 'none';
    perAccount.set(account, (perAccount.get(account) ?? 0) + 1);
  }
  expect([...perAccount.keys()].sort()).toEqual(['sim-1', 'sim-2', 'sim-3']);
  expect(ids.map((id) => composed.store.get(id)?.status)).toEqual(ids.map(() => 'complete'));
  await waitFor(() => composed.scheduler.accounts().every((entry) => entry.state === 'ready'), {
    message: 'sim-2 back in rotation after a probe',
    timeoutMs: 20_000,
  });
}, 120_000);

test.each(['useapi', 'legnext', 'apiframe'])(
  "the simulator plays %s accounts: jobs run through that API's adapter end to end, an upscale included",
  async (protocol) => {
    const { composed, base } = await startPool('off', protocol, ['paid-1', 'paid-2']);
    const cookie = String((await fetch(`${base}/api/jobs`)).headers.get('set-cookie')).split(';')[0] ?? '';
    const ids = [await submit(base, cookie, 'a lighthouse at dawn'), await submit(base, cookie, 'a fox in snow')];
    await waitFor(() => ids.every((id) => composed.store.get(id)?.status === 'complete'), {
      message: `both ${protocol} jobs to be complete`,
      timeoutMs: 20_000,
    });
    const grid = jobSchema.parse(await (await fetch(`${base}/api/jobs/${ids[0]}`, { headers: { cookie } })).json());

    const acted = await fetch(`${base}/api/jobs/${ids[0]}/actions`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'upscale', index: 1 }),
    });
    const upscale = jobSchema.parse(await acted.json());
    await waitFor(() => composed.store.get(upscale.job_id)?.status === 'complete', {
      message: `the ${protocol} upscale to be complete`,
      timeoutMs: 20_000,
    });

    expect(composed.accounts.first.adapter.name).toBe('simulator');
    expect(grid.output).toBe('grid');
    expect(grid.available_actions).toContainEqual({ action: 'upscale', index: 1 });
    expect(acted.status).toBe(202);
    expect(composed.store.get(upscale.job_id)?.account).toBe(composed.store.get(ids[0] ?? '')?.account);
    const image = await fetch(`${base}${grid.image_url}`, { headers: { cookie } });
    expect(image.headers.get('content-type')).toBe('image/png');
  },
  60_000,
);
