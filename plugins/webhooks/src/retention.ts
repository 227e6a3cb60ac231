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
  // Walks the primary key with a cursor: each chunk starts where the last ended, so neither the
  // rows kept nor those just deleted (PostgreSQL's dead row versions, until vacuum) are read twice.
  let after = '';
  for (;;) {
    const ids = await knex.transaction(async (trx): Promise<string[]> => {
      const old = trx('webhooks_deliveries')
        .where('id', '>', after)
        .whereIn('status', FINISHED)
        .andWhere((q) => q.where('delivered_at', '<', cutoff).orWhere((r) => r.whereNull('delivered_at').andWhere('created_at', '<', cutoff)))
        .orderBy('id')
        .limit(CHUNK);
      // Locked until the chunk is gone, so one sent again by hand meanwhile waits and is found gone
      // (the embedded database runs one transaction at a time anyway).
      if (opts.postgresql) old.forUpdate();
      const chunk: string[] = await old.pluck('id');
      if (!chunk.length) return chunk;
      await trx('webhooks_attempts').whereIn('delivery_id', chunk).delete();
      await trx('webhooks_deliveries').whereIn('id', chunk).delete();
      return chunk;
    });
    if (!ids.length) return total;
    total += ids.length;
    after = ids[ids.length - 1]!;
    opts.progress?.(total);
    if (ids.length < CHUNK) return total;
  }
}

/**
 * Forgets, for the account-wide log page (logPages.ts), the instances with no endpoint and no
 * delivery left, so that page stops reading them. An endpoint is written before its instance is
 * remembered, so one being created is never forgotten.
 */
export async function forgetEmptyInstances(knex: Knex): Promise<number> {
  const same = (table: string) => knex(table).select(knex.raw('1')).whereRaw(`${table}.account_id = webhooks_log_instances.account_id and ${table}.instance_id = webhooks_log_instances.instance_id`);
  return knex('webhooks_log_instances').whereNotExists(same('webhooks_endpoints')).whereNotExists(same('webhooks_deliveries')).delete();
}
