import type { Disposable } from '../host/disposable.js';

/** A PlugChat process as the others see it. */
export interface ClusterNode {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** Shutting down gracefully: it hands its work over and takes none. */
  stopping: boolean;
}

/**
 * The processes sharing one database. In embedded mode there is exactly one ("single"):
 * broadcasts and requests stay in this process. On PostgreSQL ("cluster") they travel as
 * notifications, so every process sees them within milliseconds.
 */
export interface Cluster {
  readonly mode: 'single' | 'cluster';
  /** This process's id, new on every start. */
  readonly nodeId: string;
  /** Delivers `payload` to the channel's listeners in every process, this one included. */
  broadcast(channel: string, payload: unknown): Promise<void>;
  /** Listens to a channel (namespaced by plugin id, like events). */
  on(channel: string, listener: (payload: any, from: string) => void): Disposable; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Asks one process to run a handler and answers with its result. An HttpError thrown
   * there is thrown here with the same status, code and details; a process that does not
   * answer within `timeoutMs` gives a 503 `node_unreachable`.
   */
  request<T = unknown>(nodeId: string, method: string, payload: unknown, timeoutMs?: number): Promise<T>;
  handle(method: string, handler: (payload: any) => Promise<unknown> | unknown): Disposable; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Processes whose heartbeat is recent, this one included, oldest first. */
  liveNodes(): Promise<ClusterNode[]>;
  /** Whether `nodeId` is live now (its heartbeat is recent). */
  isLive(nodeId: string): Promise<boolean>;
}
