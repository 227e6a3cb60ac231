/**
 * Writes many callers' items as one: `add` resolves once its item is in a committed write.
 * While one write runs, what arrives joins the next, so under load each transaction carries
 * many rows (one commit instead of one each) and an idle caller waits for nothing.
 */
export class GroupCommit<T> {
  private waiting: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch = 500,
    /** How long the first item of an idle group waits for company (0: the same tick only). */
    private readonly gatherMs = 0,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Callers adding in the same tick (or within gatherMs) share the first write.
        if (this.gatherMs > 0) setTimeout(() => void this.drain(), this.gatherMs);
        else queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        await this.write(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.running = false;
  }
}
