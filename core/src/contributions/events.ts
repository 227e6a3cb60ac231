import type { EmitResult, EventMap, EventName, EventListener } from '../api/events.js';
import { toDisposable, type Disposable } from '../host/disposable.js';
import type { Logger } from '../services/logger.js';

interface Entry {
  plugin: string;
  listener: EventListener<EventName>;
}

/**
 * The typed in-process event bus. A listener that throws (or rejects) is logged
 * with its plugin and never affects the emitter or the other listeners.
 */
export class EventBus {
  private readonly listeners = new Map<string, Set<Entry>>();

  constructor(private readonly log: Logger) {}

  on<K extends EventName>(plugin: string, name: K, listener: EventListener<K>): Disposable {
    const entry: Entry = { plugin, listener: listener as EventListener<EventName> };
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(entry);
    return toDisposable(() => void set.delete(entry));
  }

  /** Resolves when every listener has finished, with how many failed; never rejects. */
  async emit<K extends EventName>(name: K, payload: EventMap[K]): Promise<EmitResult> {
    const set = this.listeners.get(name);
    if (!set?.size) return { failed: 0 };
    let failed = 0;
    await Promise.all(
      [...set].map(async (entry) => {
        try {
          await entry.listener(payload);
        } catch (err) {
          failed++;
          this.log.error({ err, plugin: entry.plugin, contribution: 'event', event: name }, 'event listener failed');
        }
      }),
    );
    return { failed };
  }

  listenerCount(name: string): number {
    return this.listeners.get(name)?.size ?? 0;
  }
}
