import type { Knex } from '@plugchat/core';
import type { MessageRow } from '../store.js';

/** What differs between queued messages; the rest of a new outgoing row is the same for all. */
const VARYING = ['id', 'account_id', 'instance_id', 'wa_id', 'chat', 'type', 'content', 'seq', 'media_path', 'delay_ms', 'created_at', 'updated_at'] as const;
const COLUMNS = [...VARYING, 'direction', 'status', 'from_me', 'attempts'].join(', ');
const ROW = `(${VARYING.map(() => '?').join(', ')}, 'out', 'QUEUED', true, 0)`;
/** Rows per statement at most: the group commit hands over no more (bound values stay well under either database's limit). */
export const QUEUED_INSERT_MAX_ROWS = 100;

/** SQL per row count, built once: the statement each group commit of that size runs. */
const statements = new Map<number, string>();
const statementFor = (n: number) => {
  let sql = statements.get(n);
  if (!sql) statements.set(n, (sql = `insert into whatsapp_session_messages (${COLUMNS}) values ${Array.from({ length: n }, () => ROW).join(', ')}`));
  return sql;
};

/**
 * Writes new queued messages (the sends of a group commit, at most QUEUED_INSERT_MAX_ROWS) in one
 * statement. Every send-text passes here: the statement is prepared once per batch size and binds
 * only what differs between rows (binding is synchronous work on the main thread in node-sqlite3),
 * without a query builder compiling it per batch.
 */
export async function insertQueued(knex: Knex, rows: Partial<MessageRow>[]): Promise<void> {
  const values: unknown[] = [];
  for (const r of rows) for (const c of VARYING) values.push(r[c] ?? null);
  await knex.raw(statementFor(rows.length), values as Knex.Value[]);
}
