import type { Knex } from '@mikro-orm/knex';

/**
 * Inserts rows all or nothing: one statement when they fit in `chunk`, else chunks in one
 * transaction, so a caller told its write failed may retry it and no part of it stays. With
 * `ignoreConflictOn`, rows whose key is already there are skipped (a replay); with `mergeOnConflict`,
 * they update only the columns named.
 */
export async function insertAll(
  knex: Knex,
  table: string,
  rows: object[],
  opts: { chunk?: number; ignoreConflictOn?: string; mergeOnConflict?: { on: string[]; merge: string[] } } = {},
): Promise<void> {
  if (!rows.length) return;
  const chunk = opts.chunk ?? 100;
  const write = (db: Knex, part: object[]) => {
    const q = db(table).insert(part);
    if (opts.mergeOnConflict) return q.onConflict(opts.mergeOnConflict.on).merge(opts.mergeOnConflict.merge);
    return opts.ignoreConflictOn ? q.onConflict(opts.ignoreConflictOn).ignore() : q;
  };
  if (rows.length <= chunk) return void (await write(knex, rows));
  await knex.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += chunk) await write(trx, rows.slice(i, i + chunk));
  });
}
