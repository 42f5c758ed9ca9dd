// When to look at a running job, learnt from what the looks find. Every look at a job whose
// finish was predicted is an answer to "was it done yet?": too many yeses mean the looks come
// too late (images wait unseen), too many noes mean too early (wasted calls). Two running
// quantile estimates (stochastic approximation) steer both kinds of look towards a target
// share of yeses. They learn only from those yes/no answers, so they cannot drift the way
// an average of "when we noticed" would (that is always late, and pushes the next looks later).
import type { Quality } from '@shared/schemas/imagine';

export interface ProgressSample {
  at: number;
  progress: number | null;
}

/** How fast the estimates move per answer. */
const STEP = 0.06;

/** The shares of jobs meant to be done by the first look: with budget to spare, and without. */
export const FIRST_LOOK_SHARES = { spare: 0.1, scarce: 0.6 } as const;
type Pressure = keyof typeof FIRST_LOOK_SHARES;

export class DurationModel {
  readonly #prior: number;
  /** Per quality and pressure: how long after sending the first look comes. */
  readonly #firstLook = new Map<string, number>();
  /** Scales the time left that the progress rate predicts. */
  #remainingScale = 1;

  constructor(priorMs: number) {
    this.#prior = priorMs;
  }

  /** How long after sending to look first, aiming for FIRST_LOOK_SHARES of jobs done by then. */
  firstLook(quality: Quality, pressure: Pressure): number {
    const base = this.#prior * (quality === 'high' ? 1.5 : 1);
    return this.#firstLook.get(`${quality}:${pressure}`) ?? base * (0.7 + 0.6 * FIRST_LOOK_SHARES[pressure]);
  }

  /**
   * Learns from a finished job: it was seen running `runningFor` ms after it was sent (the
   * latest such look, 0 if none) and seen done `doneAfter` ms after. Each first-look estimate
   * for which that answers "done by then?" moves towards its share.
   */
  learnJob(quality: Quality, runningFor: number, doneAfter: number): void {
    for (const pressure of Object.keys(FIRST_LOOK_SHARES) as Pressure[]) {
      const at = this.firstLook(quality, pressure);
      const done = doneAfter <= at ? 1 : runningFor >= at ? 0 : undefined;
      if (done === undefined) continue;
      this.#firstLook.set(`${quality}:${pressure}`, at * (1 - STEP * (done - FIRST_LOOK_SHARES[pressure])));
    }
  }

  /** A look planned from progress found the job `done` or not; aim for `share` done. */
  learnFinishLook(done: boolean, share: number): void {
    this.#remainingScale = Math.min(4, Math.max(0.25, this.#remainingScale * (1 - STEP * ((done ? 1 : 0) - share))));
  }

  /**
   * When a job will probably finish, from its progress: the rate between the last two samples
   * with progress (or since it was sent), with the learnt correction on the time left.
   * Undefined without any progress.
   */
  estimateFinish(sentAt: number, samples: readonly ProgressSample[]): number | undefined {
    const withProgress = samples.filter((sample) => sample.progress !== null && sample.progress > 0);
    const last = withProgress.at(-1);
    if (!last || last.progress === null) return undefined;
    const previous = withProgress.at(-2);
    const from =
      previous && previous.progress !== null && previous.progress < last.progress
        ? previous
        : { at: sentAt, progress: 0 };
    const rate = (last.progress - (from.progress ?? 0)) / Math.max(1, last.at - from.at);
    if (rate <= 0) return undefined;
    return last.at + ((100 - last.progress) / rate) * this.#remainingScale;
  }
}
