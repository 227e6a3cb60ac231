import type { BatchEventListener, EmitResult, EventMap, EventName, EventListener } from '../api/events.js';
import { toDisposable, type Disposable } from '../host/disposable.js';
import type { Logger } from '../services/logger.js';

interface Entry {
  plugin: string;
  listener?: EventListener<EventName>;
  batch?: BatchEventListener<EventName>;
}

/**
 * The typed in-process event bus. A listener that throws (or rejects) is logged
 * with its plugin and never affects the emitter or the other listeners.
 */
export class EventBus {
  private readonly listeners = new Map<string, Set<Entry>>();

  constructor(private readonly log: Logger) {}

  on<K extends EventName>(plugin: string, name: K, listener: EventListener<K>): Disposable {
    return this.add(name, { plugin, listener: listener as EventListener<EventName> });
  }

  onBatch<K extends EventName>(plugin: string, name: K, listener: BatchEventListener<K>): Disposable {
    return this.add(name, { plugin, batch: listener as BatchEventListener<EventName> });
  }

  private add(name: string, entry: Entry): Disposable {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(entry);
    return toDisposable(() => void set.delete(entry));
  }

  /** Resolves when every listener has finished, with how many failed; never rejects. */
  emit<K extends EventName>(name: K, payload: EventMap[K]): Promise<EmitResult> {
    return this.emitMany(name, [payload]);
  }

  /**
   * A run of one event: each batch listener gets the run at once, each other listener the payloads
   * one after another; the listeners run side by side. Resolves with how many failed; never rejects.
   */
  async emitMany<K extends EventName>(name: K, payloads: EventMap[K][]): Promise<EmitResult> {
    const set = this.listeners.get(name);
    if (!set?.size || !payloads.length) return { failed: 0 };
    let failed = 0;
    await Promise.all(
      [...set].map(async (entry) => {
        try {
          if (entry.batch) await entry.batch(payloads);
          else for (const p of payloads) await entry.listener!(p);
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
