import { randomUUID } from 'node:crypto';
import type { EventMap, Knex, PluginContext } from '@plugchat/core';
import { nextSeq } from './store.js';
import { coalesced } from '@plugchat/core';

type Durable = 'whatsapp-session.message.received' | 'whatsapp-session.message.status' | 'whatsapp-session.instance.connected' | 'whatsapp-session.instance.disconnected';

/**
 * A transactional outbox for the events other plugins act on (webhooks above all):
 * the event row is written with the change it describes, then emitted, then removed.
 * After a crash the leftovers are emitted on the next start, so listeners see every
 * event at least once, each carrying a stable eventId to deduplicate by.
 */
export class Outbox {
  constructor(
    private readonly knex: Knex,
    private readonly ctx: PluginContext<never>,
  ) {}

  /** Whether anyone listens: without listeners there is nothing to make durable. */
  needed(name: Durable): boolean {
    return this.ctx.events.listenerCount(name) > 0;
  }

  /**
   * Records the event (inside `trx` when given) and dispatches it soon after. `id` names the
   * logical event (for example a message reaching a status), so a replay carries the same id.
   */
  async add<K extends Durable>(name: K, payload: Omit<EventMap[K], 'eventId'>, trx?: Knex.Transaction, id: string = randomUUID()): Promise<void> {
    // Nobody listens (no webhooks plugin, for one): emit right away and skip the writes.
    if (!this.ctx.events.listenerCount(name)) {
      await this.ctx.events.emit(name, { ...payload, eventId: id } as EventMap[K]);
      return;
    }
    await (trx ?? this.knex)('whatsapp_session_outbox').insert({ id, seq: nextSeq(), name, payload: JSON.stringify({ ...payload, eventId: id }), created_at: new Date() });
    if (!trx) void this.dispatch();
  }

  /**
   * Emits up to 100 recorded events and removes them; false when there were none. On PostgreSQL
   * the rows are locked while they are emitted, so processes dispatching at once never emit the
   * same event twice (each skips the rows another holds); a process that dies mid-batch releases
   * them and another emits them again, with the same eventId.
   */
  private async batch(): Promise<boolean> {
    const emit = async (rows: { id: string; name: string; payload: string }[]) => {
      for (const row of rows) await this.ctx.events.emit(row.name as Durable, JSON.parse(row.payload));
    };
    if (this.ctx.db.kind === 'postgresql') {
      return this.knex.transaction(async (trx) => {
        const rows: { id: string; name: string; payload: string }[] = await trx('whatsapp_session_outbox').orderBy('seq').limit(100).forUpdate().skipLocked();
        if (!rows.length) return false;
        await emit(rows);
        await trx('whatsapp_session_outbox').whereIn('id', rows.map((r) => r.id)).delete();
        return true;
      });
    }
    const rows: { id: string; name: string; payload: string }[] = await this.knex('whatsapp_session_outbox').orderBy('seq').limit(100);
    if (!rows.length) return false;
    await emit(rows);
    // Removed after the batch: a crash mid-batch replays a few, and listeners deduplicate by eventId.
    await this.knex('whatsapp_session_outbox').whereIn('id', rows.map((r) => r.id)).delete();
    return true;
  }

  /** Emits every recorded event in order; one dispatcher at a time. */
  readonly dispatch = coalesced(async () => {
    try {
      while (await this.batch());
    } catch (err) {
      this.ctx.logger.error({ err }, 'event outbox dispatch failed; it is retried on the next event or start');
    }
  });

}
