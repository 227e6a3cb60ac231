import type { Disposable } from '../host/disposable.js';
import type { Cluster } from './cluster.js';

/**
 * A per-key copy of something read on every request and changed rarely (an account's opt-outs, an
 * instance's webhook endpoints). Each process reads a key once and keeps it; `drop(key)` forgets it
 * here and, through the cluster channel, in every other process within milliseconds. A copy is
 * trusted `keepMs` at most, should a notice be missed. A failed read is not kept.
 */
export class ClusterCache<V> implements Disposable {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();
  private readonly subscription: Disposable;

  constructor(
    private readonly cluster: Cluster,
    /** The channel the drops travel on; it starts with the plugin's id. */
    private readonly channel: string,
    private readonly load: (key: string) => Promise<V>,
    private readonly keepMs = 60_000,
  ) {
    this.subscription = cluster.on(channel, (p: { key: string }) => this.entries.delete(p.key));
  }

  get(key: string): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < this.keepMs) return hit.value;
    // A query builder is a thenable that runs again each time it is awaited: keep its one result.
    const value = Promise.resolve(this.load(key));
    this.entries.set(key, { at: Date.now(), value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** The key changed: every process reads it again on its next use. */
  async drop(key: string): Promise<void> {
    this.entries.delete(key);
    if (this.cluster.mode === 'cluster') await this.cluster.broadcast(this.channel, { key }).catch(() => {});
  }

  dispose(): void {
    this.subscription.dispose();
    this.entries.clear();
  }
}
