import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Cluster, ClusterNode } from '../api/cluster.js';
import { HttpError } from '../api/errors.js';
import { toDisposable, type Disposable } from '../host/disposable.js';
import type { Logger } from '../services/logger.js';

type Listener = (payload: unknown, from: string) => void;
type Handler = (payload: unknown) => Promise<unknown> | unknown;

/**
 * The cluster of one process (embedded mode): broadcasts reach this process's listeners,
 * requests to itself run its own handler. The PostgreSQL cluster extends it with the wire.
 */
export class LocalCluster implements Cluster {
  readonly mode: 'single' | 'cluster' = 'single';
  readonly nodeId = randomUUID();
  readonly startedAt = new Date().toISOString();
  protected readonly listeners = new Map<string, Set<Listener>>();
  protected readonly handlers = new Map<string, Handler>();

  constructor(protected readonly log: Logger) {}

  async broadcast(channel: string, payload: unknown): Promise<void> {
    this.deliver(channel, payload, this.nodeId);
  }

  on(channel: string, listener: Listener): Disposable {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return toDisposable(() => void set.delete(listener));
  }

  handle(method: string, handler: Handler): Disposable {
    if (this.handlers.has(method)) throw new Error(`cluster method ${method} is handled already`);
    this.handlers.set(method, handler);
    return toDisposable(() => void this.handlers.delete(method));
  }

  async request<T>(nodeId: string, method: string, payload: unknown, _timeoutMs?: number): Promise<T> {
    if (nodeId !== this.nodeId) throw unreachable(nodeId);
    return (await this.runHandler(method, payload)) as T;
  }

  async liveNodes(): Promise<ClusterNode[]> {
    return [{ id: this.nodeId, host: hostname(), pid: process.pid, startedAt: this.startedAt, stopping: false }];
  }

  async isLive(nodeId: string): Promise<boolean> {
    return nodeId === this.nodeId;
  }

  async start(): Promise<void> {}
  async stopping(): Promise<void> {}
  async close(): Promise<void> {}

  protected deliver(channel: string, payload: unknown, from: string) {
    for (const l of this.listeners.get(channel) ?? []) {
      try {
        l(payload, from);
      } catch (err) {
        this.log.error({ err, channel }, 'cluster listener failed');
      }
    }
  }

  protected async runHandler(method: string, payload: unknown): Promise<unknown> {
    const h = this.handlers.get(method);
    if (!h) throw new HttpError(503, 'node_unreachable', `This process cannot do "${method}" now (the plugin is not active). Try again in a few seconds.`);
    return h(payload);
  }
}

export const unreachable = (nodeId: string) =>
  new HttpError(503, 'node_unreachable', `The PlugChat process that runs this instance (${nodeId.slice(0, 8)}) did not answer. Try again in a few seconds: if it died, another process takes the instance over.`);
