/**
 * Every event's payload, keyed by its namespaced name. Plugins add theirs by
 * declaration merging:
 *
 *   declare module '@plugchat/core' {
 *     interface EventMap { 'webhooks.delivered': { endpointId: string } }
 *   }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EventMap {
  'core.plugin.activated': { id: string };
  /** Every plugin has been activated: safe to start work that needs other plugins' contributions. */
  'core.ready': { plugins: string[] };
  /**
   * Graceful shutdown began: HTTP is closed, jobs and the database still work. Hand work over
   * here (close sockets, flush what is pending); plugins are deactivated after the queue stops.
   */
  'core.stopping': Record<string, never>;
  'core.plugin.deactivated': { id: string };
  /** Several processes on PostgreSQL: one died (its heartbeat stopped); re-run work it held. */
  'core.node.lost': { nodeId: string };
  'core.account.created': { accountId: string; name: string };
  'core.user.created': { accountId: string; userId: string; role: string };
  'core.settings.changed': { plugin: string; key: string; value: unknown };
}

export type EventName = keyof EventMap & string;
/** How an emit went: a durable emitter (an outbox) keeps an event whose listeners failed, to retry it. */
export interface EmitResult {
  failed: number;
}
export type EventListener<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;
/** Takes a run of one event's payloads at once, in order (one write for many, say). */
export type BatchEventListener<K extends EventName> = (payloads: EventMap[K][]) => void | Promise<void>;
