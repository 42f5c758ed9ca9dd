// Remembers the upstream's image link for recently finished jobs, so serving an image does
// not cost another status call. Bounded: the oldest links are forgotten first.
export class ResultLinks {
  readonly #links = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity = 5_000) {
    this.#capacity = capacity;
  }

  remember(jobId: string, url: string): void {
    this.#links.delete(jobId);
    this.#links.set(jobId, url);
    while (this.#links.size > this.#capacity) {
      const oldest = this.#links.keys().next();
      if (oldest.done) break;
      this.#links.delete(oldest.value);
    }
  }

  lookup(jobId: string): string | undefined {
    return this.#links.get(jobId);
  }
}
