import type { Knex } from '@plugchat/core';
import type { MessageRow } from '../store.js';

/** What differs between queued messages; the rest of a new outgoing row is the same for all. */
const VARYING = ['id', 'account_id', 'instance_id', 'wa_id', 'chat', 'type', 'content', 'seq', 'media_path', 'delay_ms', 'created_at', 'updated_at'] as const;
const COLUMNS = [...VARYING, 'direction', 'status', 'from_me', 'attempts'].join(', ');
const ROW = `(${VARYING.map(() => '?').join(', ')}, 'out', 'QUEUED', true, 0)`;
/** Rows per statement (a statement's bound values stay well under either database's limit). */
const CHUNK = 100;

/** SQL per row count, built once: the statement each group commit of that size runs. */
const statements = new Map<number, string>();
const statementFor = (n: number) => {
  let sql = statements.get(n);
  if (!sql) statements.set(n, (sql = `insert into whatsapp_session_messages (${COLUMNS}) values ${Array.from({ length: n }, () => ROW).join(', ')}`));
  return sql;
};

/**
 * Writes new queued messages (the sends of a group commit), all or nothing. Every send-text passes
 * here: the statement is prepared once per batch size and binds only what differs between rows
 * (half the values; binding is synchronous work on the main thread in node-sqlite3), without a
 * query builder compiling it per batch.
 */
export async function insertQueued(knex: Knex, rows: Partial<MessageRow>[]): Promise<void> {
  const write = (db: Knex, part: Partial<MessageRow>[]) => {
    const values: unknown[] = [];
    for (const r of part) for (const c of VARYING) values.push(r[c] ?? null);
    return db.raw(statementFor(part.length), values as Knex.Value[]);
  };
  if (rows.length <= CHUNK) return void (await write(knex, rows));
  await knex.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += CHUNK) await write(trx, rows.slice(i, i + CHUNK));
  });
}
