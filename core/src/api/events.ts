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
  'core.plugin.deactivated': { id: string };
  'core.account.created': { accountId: string; name: string };
  'core.user.created': { accountId: string; userId: string; role: string };
  'core.settings.changed': { plugin: string; key: string; value: unknown };
}

export type EventName = keyof EventMap & string;
export type EventListener<K extends EventName> = (payload: EventMap[K]) => void | Promise<void>;
