// The simulator's push side: for every job it sends notifications when the job starts, at
// half-way and when it ends, as the v7 upstream would (Standard Webhooks, signed, to one
// configured URL) or as midjourney-proxy would (the task JSON to the job's notifyHook,
// unsigned). Like real senders it is imperfect on purpose: a configurable share of
// notifications arrive late (after later ones), and a share arrive twice.
import { randomBytes } from 'node:crypto';
import { sign } from '../webhooks/standard-webhooks';
import type { SimJobView, SimulatorEngine } from './engine';
import { toRelayTask } from './relay-task';

export interface NotifierOptions {
  /**
   * v7: every job's notifications are signed with `secret` and go to `url`, which may be ''
   * until the receiver listens: then name it with `setTarget` or `resume` (assigning
   * `v7.url` on this object later still works, but is the old way).
   */
  v7?: { url: string; secret: string };
  /** Share of notifications delayed past the next one (out of order). */
  lateShare: number;
  /** Share of notifications delivered twice (same delivery id). */
  duplicateShare: number;
  /** How late a late notification is, in ms (before the time factor). */
  lateByMs: number;
  random?: () => number;
}

/** Where notices go, once known. `v7Url` is ignored unless the notifier was given `v7`. */
export interface NotifierTarget {
  v7Url?: string;
}

export class SimulatorNotifier {
  readonly #engine: SimulatorEngine;
  readonly #options: NotifierOptions;
  readonly #random: () => number;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #v7Url: string | undefined;
  /** Where result images are served (the simulator's own address, known once it listens). */
  imageBase = '';

  constructor(engine: SimulatorEngine, options: NotifierOptions) {
    this.#engine = engine;
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Plans a job's notifications; `relayHook` is its midjourney-proxy notifyHook, if any. */
  track(id: string, relayHook?: string): void {
    const end = this.#engine.endOf(id);
    const start = this.#engine.startOf(id);
    if (end === undefined || start === undefined) return;
    const now = Date.now();
    for (const at of [start + 1, (start + end) / 2, end + 1]) {
      const fire = () => {
        // The state at the moment of the event, even when it is delivered late.
        const view = this.#engine.get(id);
        if (!view) return;
        // Timers may fire a hair early: the final notice must carry the final state.
        if (at > end && (view.status === 'pending' || view.status === 'processing')) {
          this.#later(5, fire);
          return;
        }
        const late = this.#random() < this.#options.lateShare;
        const deliveryId = `msg_${randomBytes(9).toString('base64url')}`;
        const copies = this.#random() < this.#options.duplicateShare ? 2 : 1;
        const deliver = () => {
          for (let copy = 0; copy < copies; copy++) void this.#send(view, deliveryId, relayHook);
        };
        if (late) this.#later(this.#options.lateByMs * this.#engine.config.timeFactor, deliver);
        else deliver();
      };
      this.#later(Math.max(0, at - now), fire);
    }
  }

  /** Names where v7 notices go from now on, e.g. once the receiver listens. */
  setTarget(target: NotifierTarget): void {
    if (target.v7Url !== undefined) this.#v7Url = target.v7Url;
  }

  /**
   * After a restart: plans the notices of every job still running (v7, or with a hook),
   * first naming their target if given. Call it once: a job tracked twice is notified twice.
   */
  resume(target: NotifierTarget = {}): void {
    this.setTarget(target);
    for (const job of this.#engine.running()) {
      if (job.notifyHook || this.#options.v7) this.track(job.id, job.notifyHook);
    }
  }

  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #later(delay: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, delay);
    timer.unref?.();
    this.#timers.add(timer);
  }

  async #send(view: SimJobView, deliveryId: string, relayHook: string | undefined): Promise<void> {
    try {
      if (relayHook) {
        const task = toRelayTask(view, this.imageBase);
        await fetch(relayHook, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(task),
        });
      } else if (this.#options.v7) {
        const body = JSON.stringify({
          job_id: view.id,
          status: view.status,
          progress: view.progress,
          ...(view.error ? { error: view.error } : {}),
          ...(view.status === 'complete' ? { image_url: this.#imageUrl(view.id) } : {}),
        });
        const timestamp = Math.floor(Date.now() / 1000);
        await fetch(this.#v7Url ?? this.#options.v7.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': deliveryId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': sign(this.#options.v7.secret, deliveryId, timestamp, body),
          },
          body,
        });
      }
    } catch {
      // Like real senders: one attempt, no retry.
    }
  }

  #imageUrl(id: string): string {
    return `${this.imageBase}/v1/images/${id}.png`;
  }
}
