// The relay protocol's open windows shared in Redis (a real one, on loopback): opened through
// one instance, confirmed through another, bounded per owner as in one process.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, test } from 'vitest';
import { RedisModalBook } from '../../server/src/cluster/redis-modal-book';
import { FIRST_MODAL_NUMBER, MemoryModalBook, MODALS_PER_OWNER } from '../../server/src/relay/modal-book';
import type { PendingModal } from '../../server/src/relay/routes';
import { REDIS_TEST_URL } from '../support/instances';

const redis = new Redis(REDIS_TEST_URL);
const prefix = `mj-test-${randomBytes(6).toString('hex')}:`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const modal = (owner: string, n = 0): PendingModal => ({
  owner,
  parentId: `job-${n}`,
  action: 'vary_region',
  state: `{"n":${n}}`,
  hook: 'https://bot.example/hook',
  openedAt: 1_700_000_000_000 + n,
  prompt: `a prompt ${n}`,
});

test('a window opened through one instance is taken through another, once, and only by its owner', async () => {
  const one = new RedisModalBook(redis, prefix);
  const other = new RedisModalBook(redis, prefix);

  const number = await one.open(modal('alice'));

  expect(number).toBeGreaterThanOrEqual(FIRST_MODAL_NUMBER);
  expect(await other.get(number)).toEqual(modal('alice'));
  expect(await other.take(number, 'mallory')).toBeUndefined();
  expect(await one.get(number)).toEqual(modal('alice'));
  const [taken, again] = await Promise.all([other.take(number, 'alice'), one.take(number, 'alice')]);
  expect([taken, again].filter(Boolean)).toEqual([modal('alice')]);
  expect(await one.get(number)).toBeUndefined();
  await one.restore(number, modal('alice'));
  expect(await other.get(number)).toEqual(modal('alice'));
});

test('numbers are never given twice, whichever instance opens', async () => {
  const books = [new RedisModalBook(redis, prefix), new RedisModalBook(redis, prefix)];

  const numbers = await Promise.all(Array.from({ length: 30 }, (_, n) => books[n % 2]?.open(modal(`owner-${n}`, n))));

  expect(new Set(numbers).size).toBe(30);
});

test('an owner keeps at most the limit open, its oldest going first, as in one process', async () => {
  const shared = new RedisModalBook(redis, prefix);
  const memory = new MemoryModalBook();
  const opened: { shared: number; memory: number }[] = [];

  for (let n = 0; n <= MODALS_PER_OWNER; n++) {
    opened.push({ shared: await shared.open(modal('bob', n)), memory: await memory.open(modal('bob', n)) });
  }

  const [oldest, ...rest] = opened;
  expect(await shared.get(oldest?.shared ?? 0)).toBeUndefined();
  expect(await memory.get(oldest?.memory ?? 0)).toBeUndefined();
  for (const kept of rest) {
    expect(await shared.get(kept.shared)).toBeDefined();
    expect(await memory.get(kept.memory)).toBeDefined();
  }
});

test('what Redis holds under a window that is not a window is no window', async () => {
  const book = new RedisModalBook(redis, prefix);
  await redis.set(`${prefix}modal:${FIRST_MODAL_NUMBER + 999_999}`, '{"owner":"mallory"}');
  await redis.set(`${prefix}modal:${FIRST_MODAL_NUMBER + 999_998}`, 'not json');

  expect(await book.get(FIRST_MODAL_NUMBER + 999_999)).toBeUndefined();
  expect(await book.get(FIRST_MODAL_NUMBER + 999_998)).toBeUndefined();
});
