import { EventEmitter } from 'node:events';
import type { PluginContext } from '@plugchat/core';

const EVERY_MS = 250;

/**
 * Which instances' delivery logs changed, for the live log (Server-Sent Events): emitted here and
 * broadcast to the other processes, at most every 250 ms, so thousands of deliveries a second
 * cost a few notifications.
 */
export class LogChanges extends EventEmitter {
  private readonly dirty = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: PluginContext) {
    super();
    this.setMaxListeners(0);
    ctx.subscriptions.push(
      ctx.cluster.on('webhooks.changed', (p: { instanceIds: string[] }, from) => {
        if (from !== ctx.cluster.nodeId) for (const id of p.instanceIds) this.emit('changed', id);
      }),
      { dispose: () => clearTimeout(this.timer) },
    );
  }

  mark(instanceId: string): void {
    this.dirty.add(instanceId);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), EVERY_MS);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    const instanceIds = [...this.dirty];
    this.dirty.clear();
    for (const id of instanceIds) this.emit('changed', id);
    if (this.ctx.cluster.mode === 'cluster') void this.ctx.cluster.broadcast('webhooks.changed', { instanceIds }).catch(() => {});
  }
}
