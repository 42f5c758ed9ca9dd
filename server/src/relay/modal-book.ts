// The relay protocol's open windows (Vary Region, Custom Zoom, Remix): an action answered 21
// waits here under a number of its own until its /submit/modal. In memory for one instance;
// shared (cluster/redis-modal-book.ts) when several answer the same clients.
import type { PendingModal } from './routes';

/** Waiting modals are free to open: each owner may keep this many, its oldest go first. */
export const MODALS_PER_OWNER = 20;
/** Modal numbers live far above task numbers (which start at 1.7e15), and below 2^53. */
export const FIRST_MODAL_NUMBER = 8_000_000_000_000_000;

export interface ModalBook {
  /** Keeps a window open; answers its number (the owner's oldest beyond the limit close). */
  open(modal: PendingModal): Promise<number>;
  get(number: number): Promise<PendingModal | undefined>;
  /**
   * Removes and answers the window if it is this owner's, at once for everyone: two
   * confirmations never both act, and nobody else's confirmation touches it.
   */
  take(number: number, owner: string): Promise<PendingModal | undefined>;
  /** Puts a taken window back under its number (its confirmation failed). */
  restore(number: number, modal: PendingModal): Promise<void>;
}

export class MemoryModalBook implements ModalBook {
  readonly #modals = new Map<number, PendingModal>();
  #next = FIRST_MODAL_NUMBER;

  async open(modal: PendingModal): Promise<number> {
    const number = this.#next++;
    const mine = [...this.#modals].filter(([, open]) => open.owner === modal.owner);
    for (const [old] of mine.slice(0, Math.max(0, mine.length - MODALS_PER_OWNER + 1))) this.#modals.delete(old);
    this.#modals.set(number, modal);
    return number;
  }

  async get(number: number): Promise<PendingModal | undefined> {
    return this.#modals.get(number);
  }

  async take(number: number, owner: string): Promise<PendingModal | undefined> {
    const modal = this.#modals.get(number);
    if (modal?.owner !== owner) return undefined;
    this.#modals.delete(number);
    return modal;
  }

  async restore(number: number, modal: PendingModal): Promise<void> {
    this.#modals.set(number, modal);
  }
}
