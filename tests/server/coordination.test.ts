// What several instances share in Redis (a real one, on loopback): one budget per upstream key
// that their calls together never exceed, a pause after a 429, the log a new scheduler reads
// back, and a lease held by one instance at a time that passes on when its holder goes.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, test } from 'vitest';
import { KeyBudget } from '../../server/src/budget/key-budget';
import { Coordination } from '../../server/src/cluster/coordination';
import { createLogger } from '../../server/src/logger';
import { REDIS_TEST_URL } from '../support/instances';
import { waitFor } from '../support/wait';
import { busiestWindow } from '../support/windows';

const redis = new Redis(REDIS_TEST_URL);
const prefix = `mj-test-${randomBytes(6).toString('hex')}:`;
const logger = createLogger({ level: 'silent' });
const opened: Coordination[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((coordination) => coordination.close()));
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const budgetKey = () => `${prefix}budget:${randomBytes(4).toString('hex')}`;

/** Takes calls as fast as the budget allows until `until`, answering when each was granted. */
async function greedy(budget: KeyBudget, until: number): Promise<number[]> {
  const taken: number[] = [];
  while (Date.now() < until) {
    const answer = await budget.tryTake();
    if (answer.ok) taken.push(Date.now());
    else await new Promise((resolve) => setTimeout(resolve, Math.min(answer.waitMs, until - Date.now() + 1)));
  }
  return taken;
}

test('three instances drawing on one shared budget together stay within its limit in every sliding window', async () => {
  const key = budgetKey();
  // 30 calls per 1.5 s: short windows of a tenth of a second and less, as a test compresses time.
  const options = { limit: 30, windowMs: 1_500, burst: 2 };
  const budgets = [0, 1, 2].map(() => new KeyBudget({ ...options, shared: { redis, key } }));

  const until = Date.now() + 4_500;
  const taken = (await Promise.all(budgets.map((budget) => greedy(budget, until)))).flat().sort((a, b) => a - b);

  expect(busiestWindow(taken, options.windowMs)).toBeLessThanOrEqual(options.limit);
  // Shared, not each its own: three separate budgets would have let about three times as many through.
  expect(taken.length).toBeLessThanOrEqual(Math.ceil((4_500 / options.windowMs) * options.limit) + options.limit);
  expect(taken.length).toBeGreaterThan(2 * options.limit);
});

test('the same budgets without Redis are three budgets: the test above would see them exceed the limit', async () => {
  const options = { limit: 30, windowMs: 1_500, burst: 2 };
  const budgets = [0, 1, 2].map(() => new KeyBudget(options));

  const until = Date.now() + 1_500;
  const taken = (await Promise.all(budgets.map((budget) => greedy(budget, until)))).flat().sort((a, b) => a - b);

  expect(busiestWindow(taken, options.windowMs)).toBeGreaterThan(options.limit);
});

test('a pause after a 429 on one instance holds on every instance sharing the key', async () => {
  const key = budgetKey();
  const options = { limit: 60, windowMs: 60_000, burst: 2 };
  const one = new KeyBudget({ ...options, shared: { redis, key } });
  const other = new KeyBudget({ ...options, shared: { redis, key } });

  one.pause(5_000);
  await waitFor(async () => (await redis.get(`${key}:paused`)) !== null, { message: 'the pause to reach Redis' });
  const answer = await other.tryTake();

  expect(answer.ok).toBe(false);
  expect(answer.ok ? 0 : answer.waitMs).toBeGreaterThan(4_000);
  expect(other.pausedUntil).toBeDefined();
});

test('an instance that takes over reads back the calls the others spent in the window', async () => {
  const key = budgetKey();
  const options = { limit: 60, windowMs: 60_000, burst: 30 };
  const spender = new KeyBudget({ ...options, shared: { redis, key } });
  for (let call = 0; call < 12; call++) expect((await spender.tryTake()).ok).toBe(true);
  const successor = new KeyBudget({ ...options, shared: { redis, key } });
  await waitFor(async () => (await redis.zcard(`${key}:calls`)) === 12, { message: 'the calls to be logged' });

  expect(successor.usedInWindow()).toBe(0);
  await successor.catchUp();

  expect(successor.usedInWindow()).toBe(12);
});

test('one instance at a time holds the lease, and another takes it once the holder lets go', async () => {
  const options = { url: REDIS_TEST_URL, prefix: `${prefix}lease-a:`, logger, leaseMs: 500 };
  const first = await Coordination.connect(options);
  const second = await Coordination.connect(options);
  opened.push(first, second);
  const holders = new Map<Coordination, boolean>();
  first.lead('scheduler', (leader) => holders.set(first, leader));
  second.lead('scheduler', (leader) => holders.set(second, leader));

  await waitFor(() => [...holders.values()].some(Boolean), { message: 'one instance to take the lease' });
  await new Promise((resolve) => setTimeout(resolve, 600));
  const [holder, waiting] = holders.get(first) ? [first, second] : [second, first];

  expect(holders.get(holder)).toBe(true);
  expect(holders.get(waiting) ?? false).toBe(false);
  await holder.close();
  await waitFor(() => holders.get(waiting) === true, { message: 'the other instance to take over', timeoutMs: 3_000 });
});

test('a holder whose lease another instance took (it stalled past the lease) stops at its next renewal', async () => {
  const options = { url: REDIS_TEST_URL, prefix: `${prefix}lease-b:`, logger, leaseMs: 500 };
  const holder = await Coordination.connect(options);
  opened.push(holder);
  const told: boolean[] = [];
  holder.lead('scheduler', (leader) => told.push(leader));
  await waitFor(() => told.includes(true), { message: 'the lease to be taken' });

  // Another instance holds it now, as after this one's lease ran out.
  await redis.set(`${prefix}lease-b:lease:scheduler`, 'someone-else', 'PX', 10_000);

  await waitFor(() => told.at(-1) === false, { message: 'the holder to step down', timeoutMs: 2_000 });
  expect(await redis.get(`${prefix}lease-b:lease:scheduler`)).toBe('someone-else');
});

test('messages reach the other instances, and a message that is not JSON is ignored', async () => {
  const options = { url: REDIS_TEST_URL, prefix: `${prefix}messages:`, logger };
  const sender = await Coordination.connect(options);
  const receiver = await Coordination.connect(options);
  opened.push(sender, receiver);
  const received: unknown[] = [];
  receiver.subscribe('queued', (message) => received.push(message));
  await new Promise((resolve) => setTimeout(resolve, 100));

  await redis.publish(`${prefix}messages:channel:queued`, 'not json');
  sender.publish('queued', { id: 'job-1' });

  await waitFor(() => received.length > 0, { message: 'the message to arrive' });
  expect(received).toEqual([{ id: 'job-1' }]);
});

/** A TCP relay to Redis that can stop passing bytes either way, as a half-open connection does. */
async function freezableRedis(): Promise<{ url: string; freeze: () => void; close: () => Promise<void> }> {
  const target = new URL(REDIS_TEST_URL);
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => frozen || client.write(chunk));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port } = relay.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

test('a holder whose Redis stops answering steps down before its lease can pass to another instance', async () => {
  const relay = await freezableRedis();
  const leaseMs = 1_000;
  const stalled = await Coordination.connect({ url: relay.url, prefix: `${prefix}lease-c:`, logger, leaseMs });
  const events: { who: string; leader: boolean; at: number }[] = [];
  stalled.lead('scheduler', (leader) => events.push({ who: 'stalled', leader, at: performance.now() }));
  await waitFor(() => events.some((event) => event.leader), { message: 'the lease to be taken' });
  const healthy = await Coordination.connect({ url: REDIS_TEST_URL, prefix: `${prefix}lease-c:`, logger, leaseMs });
  opened.push(healthy);
  healthy.lead('scheduler', (leader) => events.push({ who: 'healthy', leader, at: performance.now() }));

  relay.freeze();

  await waitFor(() => events.some((event) => event.who === 'healthy' && event.leader), {
    message: 'the healthy instance to take over',
    timeoutMs: 5_000,
  });
  const stepDown = events.find((event) => event.who === 'stalled' && !event.leader);
  const takeOver = events.find((event) => event.who === 'healthy' && event.leader);
  // Never two holders at once: the stalled one gave up first.
  expect(stepDown).toBeDefined();
  expect(stepDown?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(takeOver?.at ?? 0);
  await relay.close();
  stalled.redis.disconnect();
  await stalled.close().catch(() => undefined);
});
