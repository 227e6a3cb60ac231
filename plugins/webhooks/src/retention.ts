import type { Clock, Knex } from '@plugchat/core';

const FINISHED = ['delivered', 'failed', 'dead'];
const CHUNK = 1_000;

/**
 * Drops finished deliveries (delivered, failed, dead) older than `days`, with their attempts: a
 * delivered one counts from its success, the others from their creation. Pending deliveries stay
 * however old. Works in chunks, each its own short transaction, so a large log is never locked at
 * once; `progress` hears the running total after each chunk.
 */
export async function pruneLog(knex: Knex, clock: Clock, days: number, opts: { postgresql: boolean; progress?: (dropped: number) => void }): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - days * 86_400_000);
  let total = 0;
  for (;;) {
    const n = await knex.transaction(async (trx): Promise<number> => {
      const old = trx('webhooks_deliveries')
        .whereIn('status', FINISHED)
        .andWhere((q) => q.where('delivered_at', '<', cutoff).orWhere((r) => r.whereNull('delivered_at').andWhere('created_at', '<', cutoff)))
        .limit(CHUNK);
      // Locked until the chunk is gone, so one sent again by hand meanwhile waits and is found gone
      // (the embedded database runs one transaction at a time anyway).
      if (opts.postgresql) old.forUpdate();
      const ids: string[] = await old.pluck('id');
      if (!ids.length) return 0;
      await trx('webhooks_attempts').whereIn('delivery_id', ids).delete();
      await trx('webhooks_deliveries').whereIn('id', ids).delete();
      return ids.length;
    });
    total += n;
    if (n) opts.progress?.(total);
    if (n < CHUNK) return total;
  }
}
