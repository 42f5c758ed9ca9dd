// The relay protocol's open windows for several instances: a window opened through one
// instance is confirmed through another. Numbered by one Redis counter, kept a day at most,
// and read back through a schema (Redis is shared, so what comes back is checked).
import { JOB_ACTIONS } from '@shared/schemas/job';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { FIRST_MODAL_NUMBER, MODALS_PER_OWNER, type ModalBook } from '../relay/modal-book';
import type { PendingModal } from '../relay/routes';

const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * Takes a window in one step, only for its owner: answers it and removes it and its place in
 * the owner's list, or answers nothing and changes nothing. (GET and DEL: Redis 6.2's GETDEL
 * is not needed.)
 */
const TAKE_SCRIPT = `local text = redis.call('get', KEYS[1])
if not text then return false end
local ok, modal = pcall(cjson.decode, text)
if not ok or type(modal) ~= 'table' or modal.owner ~= ARGV[1] then return false end
redis.call('del', KEYS[1])
redis.call('zrem', KEYS[2], ARGV[2])
return text`;

const modalSchema = z.object({
  owner: z.string(),
  parentId: z.string(),
  action: z.enum(JOB_ACTIONS),
  state: z.string().optional(),
  hook: z.string().optional(),
  openedAt: z.number(),
  prompt: z.string(),
});

/** A stored window, or nothing when what is stored is not one. */
function read(text: string | null): PendingModal | undefined {
  if (text === null) return undefined;
  try {
    const parsed = modalSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export class RedisModalBook implements ModalBook {
  readonly #redis: Redis;
  readonly #prefix: string;

  /** `prefix`: this studio's keys (REDIS_PREFIX), to which `modal:` is added. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = `${prefix}modal:`;
  }

  async open(modal: PendingModal): Promise<number> {
    const counter = `${this.#prefix}next`;
    await this.#redis.set(counter, String(FIRST_MODAL_NUMBER - 1), 'NX');
    const number = await this.#redis.incr(counter);
    const owned = await this.#keep(number, modal);
    // The owner's oldest beyond the limit close, as in one instance.
    const surplus = await this.#redis.zrange(owned, 0, -(MODALS_PER_OWNER + 1));
    if (surplus.length > 0) {
      await this.#redis
        .multi()
        .del(...surplus.map((old) => `${this.#prefix}${old}`))
        .zrem(owned, ...surplus)
        .exec();
    }
    return number;
  }

  async get(number: number): Promise<PendingModal | undefined> {
    return read(await this.#redis.get(`${this.#prefix}${number}`));
  }

  async take(number: number, owner: string): Promise<PendingModal | undefined> {
    const answer: unknown = await this.#redis.eval(
      TAKE_SCRIPT,
      2,
      `${this.#prefix}${number}`,
      `${this.#prefix}owner:${owner}`,
      owner,
      String(number),
    );
    return typeof answer === 'string' ? read(answer) : undefined;
  }

  async restore(number: number, modal: PendingModal): Promise<void> {
    await this.#keep(number, modal);
  }

  /** Stores the window under its number and in its owner's list; answers that list's key. */
  async #keep(number: number, modal: PendingModal): Promise<string> {
    const owned = `${this.#prefix}owner:${modal.owner}`;
    await this.#redis
      .multi()
      .set(`${this.#prefix}${number}`, JSON.stringify(modal), 'PX', KEEP_MS)
      .zadd(owned, number, String(number))
      .pexpire(owned, KEEP_MS)
      .exec();
    return owned;
  }
}
