import { randomUUID } from 'node:crypto';
import type { EventMap, Knex, PluginContext } from '@plugchat/core';
import { nextSeq } from './store.js';
import { coalesced, insertAll } from '@plugchat/core';

type OutboxRow = { id: string; name: string; payload: string; attempts: number };
/** Attempts before an event whose listener keeps failing stops holding up the ones after it. */
const MAX_ATTEMPTS = 6;

type Durable = 'whatsapp-session.message.received' | 'whatsapp-session.message.status' | 'whatsapp-session.instance.connected' | 'whatsapp-session.instance.disconnected';

/** An event's row: its payload carries the event id listeners deduplicate by. */
const outboxRow = (name: Durable, id: string, payload: object) => ({ id, seq: nextSeq(), name, payload: JSON.stringify({ ...payload, eventId: id }), created_at: new Date() });

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
    await (trx ?? this.knex)('whatsapp_session_outbox').insert(outboxRow(name, id, payload));
    if (!trx) void this.dispatch();
  }

  /** Records several events of one kind in `trx` (one statement); the caller dispatches after its commit. */
  async addAll<K extends Durable>(name: K, events: { id: string; payload: Omit<EventMap[K], 'eventId'> }[], trx: Knex.Transaction): Promise<void> {
    await insertAll(
      trx,
      'whatsapp_session_outbox',
      events.map(({ id, payload }) => outboxRow(name, id, payload)),
    );
  }

  /**
   * Emits up to 100 recorded events and removes them; false when there were none, or when one
   * failed in a listener (the webhooks' queue gone during a shutdown, say): that one and those
   * after it stay, in order, and are tried again shortly (here, or by any process on the database).
   * On PostgreSQL the rows are locked while they are emitted, so processes dispatching at once
   * never emit the same event twice (each skips the rows another holds); a process that dies
   * mid-batch releases them and another emits them again, with the same eventId.
   */
  private async batch(): Promise<boolean> {
    const run = async (db: Knex | Knex.Transaction, rows: OutboxRow[]): Promise<boolean> => {
      const done: string[] = [];
      let more = rows.length > 0;
      // Runs of one event go out together, so a listener that writes can write a run at once.
      for (let i = 0; i < rows.length && more; ) {
        let j = i + 1;
        while (j < rows.length && rows[j]!.name === rows[i]!.name) j++;
        const runRows = rows.slice(i, j);
        i = j;
        const { failed } = await this.ctx.events.emitMany(runRows[0]!.name as Durable, runRows.map((r) => JSON.parse(r.payload)));
        if (!failed) {
          done.push(...runRows.map((r) => r.id));
          continue;
        }
        // Something failed in the run: go through it one event at a time (listeners deduplicate by
        // eventId), so the one that fails holds back only itself and those after it.
        for (const row of runRows) {
          const { failed } = await this.ctx.events.emit(row.name as Durable, JSON.parse(row.payload));
          if (failed && row.attempts + 1 < MAX_ATTEMPTS) {
            await db('whatsapp_session_outbox').where({ id: row.id }).update({ attempts: row.attempts + 1 });
            this.retryLater(row.attempts + 1);
            more = false;
            break;
          }
          if (failed) this.ctx.logger.error({ event: row.name, eventId: row.id, attempts: MAX_ATTEMPTS }, 'an event kept failing in a listener; it is given up');
          done.push(row.id);
        }
      }
      // Removed after the batch: a crash mid-batch replays a few, and listeners deduplicate by eventId.
      if (done.length) await db('whatsapp_session_outbox').whereIn('id', done).delete();
      return more;
    };
    if (this.ctx.db.kind === 'postgresql') {
      return this.knex.transaction(async (trx) => run(trx, await trx('whatsapp_session_outbox').orderBy('seq').limit(100).forUpdate().skipLocked()));
    }
    return run(this.knex, await this.knex('whatsapp_session_outbox').orderBy('seq').limit(100));
  }

  private retryTimer?: NodeJS.Timeout;

  private retryLater(attempt: number) {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.dispatch();
    }, Math.min(30_000, 250 * 2 ** attempt));
    this.retryTimer.unref();
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
