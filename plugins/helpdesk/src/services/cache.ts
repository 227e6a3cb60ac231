/**
 * A few seconds of memory for what every incoming message reads and rarely changes (an account's
 * queues and routing, its active users). Writes drop the entry at once, in other processes through
 * a cluster notification; the TTL bounds it should one be lost.
 */
export class ShortCache {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(private readonly ttlMs: number) {}

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  drop(key: string): void {
    this.entries.delete(key);
  }
}
