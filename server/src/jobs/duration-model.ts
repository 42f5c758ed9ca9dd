// What the server knows about how long jobs take: the durations it has seen (per quality),
// and from a job's progress samples, when it will probably finish.
import type { Quality } from '../../../shared/schemas/imagine';

export interface ProgressSample {
  at: number;
  progress: number | null;
}

const KEEP = 50;

export class DurationModel {
  readonly #seen = new Map<Quality, number[]>();
  readonly #prior: number;

  constructor(priorMs: number) {
    this.#prior = priorMs;
  }

  learn(quality: Quality, durationMs: number): void {
    const list = this.#seen.get(quality) ?? [];
    list.push(durationMs);
    if (list.length > KEEP) list.shift();
    this.#seen.set(quality, list);
  }

  /** The q-quantile of the durations seen for this quality, or the prior before any. */
  quantile(quality: Quality, q: number): number {
    const list = this.#seen.get(quality);
    if (!list || list.length < 3) return this.#prior * (quality === 'high' ? 1.5 : 1) * (0.7 + 0.6 * q);
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? this.#prior;
  }

  /**
   * When a job will probably finish, from its progress samples: the rate between the last two
   * samples with progress, or, with one, the rate since it was sent. Undefined without any.
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
    return last.at + (100 - last.progress) / rate;
  }
}
