/**
 * Runs work one at a time per key (an instance id), in the order it was asked for: starting and
 * stopping an instance's socket must not interleave (two sockets for one device, or one started
 * after it was stopped), nor may its state records land out of order.
 */
export class PerKey {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    // The map holds only keys with work pending.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves once everything asked so far, for any key, has finished. */
  async allIdle(): Promise<void> {
    await Promise.all(this.tails.values());
  }

  /** Resolves once everything asked for the key so far has finished. */
  idle(key: string): Promise<void> {
    return (this.tails.get(key) ?? Promise.resolve()).then(() => undefined);
  }
}
