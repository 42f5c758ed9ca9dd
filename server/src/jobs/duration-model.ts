// What the server knows about how long jobs take, learnt from the jobs it has watched:
// the durations (per quality), and a calibration from reported progress to finish time
// (progress is rarely linear in time, so the ratio total/elapsed is learnt per progress band).
import type { Quality } from '../../../shared/schemas/imagine';

export interface ProgressSample {
  at: number;
  progress: number | null;
}

const KEEP = 60;
const BANDS = 10;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const push = (list: number[], value: number) => {
  list.push(value);
  if (list.length > KEEP) list.shift();
};

export class DurationModel {
  readonly #durations = new Map<Quality, number[]>();
  readonly #ratios: number[][] = Array.from({ length: BANDS }, () => []);
  readonly #prior: number;

  constructor(priorMs: number) {
    this.#prior = priorMs;
  }

  /** The q-quantile of the durations seen for this quality, or a spread around the prior. */
  quantile(quality: Quality, q: number): number {
    const list = this.#durations.get(quality);
    if (!list || list.length < 5) return this.#prior * (quality === 'high' ? 1.5 : 1) * (0.7 + 0.6 * q);
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? this.#prior;
  }

  /**
   * Learns from a job seen complete at `seenAt`. Its true finish lies between the last check
   * that found it running and `seenAt`; only a tight bracket teaches the duration and the
   * progress calibration, taking the finish as `marginMs` before it was seen (checks are
   * planned that long after a predicted finish). A job found done at its first look bounds its duration from
   * above only: it is counted half-way between the shortest durations seen and that bound,
   * so that early finishers are not forgotten (which would make first looks drift later).
   */
  learn(
    quality: Quality,
    sentAt: number,
    samples: readonly ProgressSample[],
    seenAt: number,
    tightMs: number,
    marginMs: number,
  ): void {
    const list = this.#durations.get(quality) ?? [];
    this.#durations.set(quality, list);
    const last = samples.at(-1);
    if (!last) {
      const bound = seenAt - sentAt;
      push(list, Math.min(bound, (this.quantile(quality, 0.05) + bound) / 2));
      return;
    }
    if (seenAt - last.at > Math.max(tightMs, 0.15 * (seenAt - sentAt))) return;
    const total = Math.max(last.at, seenAt - marginMs) - sentAt;
    push(list, total);
    for (const sample of samples) {
      if (sample.progress === null || sample.progress <= 0 || sample.progress >= 100) continue;
      const band = this.#ratios[Math.min(BANDS - 1, Math.floor((sample.progress / 100) * BANDS))];
      if (band && sample.at > sentAt) push(band, total / (sample.at - sentAt));
    }
  }

  /**
   * When a job will probably finish, from its latest progress: the learnt ratio for that
   * progress band when there is one, else the rate between the last two samples (or since it
   * was sent). Undefined without any progress.
   */
  estimateFinish(sentAt: number, samples: readonly ProgressSample[]): number | undefined {
    const withProgress = samples.filter((sample) => sample.progress !== null && sample.progress > 0);
    const last = withProgress.at(-1);
    if (!last || last.progress === null) return undefined;
    const band = this.#ratios[Math.min(BANDS - 1, Math.floor((last.progress / 100) * BANDS))];
    if (band && band.length >= 3) return sentAt + (last.at - sentAt) * median(band);
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
