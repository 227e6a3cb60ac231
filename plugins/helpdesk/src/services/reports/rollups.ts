import type { MigrationContext } from '@plugchat/core';
import { TIME_METRICS_SQL } from '../../migrations.js';
import { bucketSql } from './buckets.js';

type Knex = MigrationContext['knex'];
type Dialect = MigrationContext['dialect'];

/**
 * The report rollups rebuilt from the events, one statement each: what the helpdesk keeps event
 * by event in the same transaction (services/reporting.ts), for a migration that adds a rollup,
 * and for loading a history straight into the tables (benchmarks, tests).
 */
export function rollupSql(dialect: Dialect) {
  const pg = dialect === 'postgresql';
  const floor = (e: string) => (pg ? `floor(${e})::bigint` : `cast(${e} as integer)`);
  return {
    floor,
    day: pg ? "date_trunc('day', at at time zone 'UTC') at time zone 'UTC'" : '(at / 86400000) * 86400000',
    month: pg ? "date_trunc('month', at at time zone 'UTC') at time zone 'UTC'" : "cast(strftime('%s', datetime(at / 1000, 'unixepoch', 'start of month')) as integer) * 1000",
  };
}

const CLOCKS = [
  ['wall', 'value'],
  ['business', 'business_value'],
] as const;

/** Per agent and per queue, each month's durations counted per bucket (one account, or all). */
export async function buildBucketRollups(knex: Knex, dialect: Dialect, accountId?: string): Promise<void> {
  const { floor, month } = rollupSql(dialect);
  const only = accountId ? ' and account_id = ?' : '';
  for (const [dim, column] of [['agent', 'agent_id'], ['queue', 'queue_id']] as const) {
    for (const [kind, value] of CLOCKS) {
      const bucket = bucketSql(floor(value), floor);
      await knex.raw(
        `insert into helpdesk_report_buckets (account_id, dim, dim_id, name, kind, month, bucket, n)
         select account_id, '${dim}', coalesce(${column}, ''), name, '${kind}', ${month}, ${bucket}, count(*) from helpdesk_report_events
         where ${TIME_METRICS_SQL}${only} group by account_id, coalesce(${column}, ''), name, ${month}, ${bucket}`,
        accountId ? [accountId] : [],
      );
    }
  }
}

/** Every rollup of one account, from its events (the rollups must be empty for it). */
export async function buildRollups(knex: Knex, dialect: Dialect, accountId: string): Promise<void> {
  const { floor, day, month } = rollupSql(dialect);
  for (const [table, column, start] of [
    ['helpdesk_report_daily', 'day', day],
    ['helpdesk_report_monthly', 'month', month],
  ] as const) {
    await knex.raw(
      `insert into ${table} (account_id, ${column}, name, instance_id, queue_id, agent_id, n, s, sb)
       select account_id, ${start}, name, instance_id, coalesce(queue_id, ''), coalesce(agent_id, ''), count(*), sum(value), sum(business_value)
       from helpdesk_report_events where account_id = ? group by account_id, ${start}, name, instance_id, coalesce(queue_id, ''), coalesce(agent_id, '')`,
      [accountId],
    );
  }
  for (const [kind, value] of CLOCKS) {
    await knex.raw(
      `insert into helpdesk_report_durations (account_id, dim, name, kind, month, dim_id, seconds, n)
       select account_id, 'all', name, '${kind}', ${month}, '', ${floor(value)}, count(*) from helpdesk_report_events
       where account_id = ? and ${TIME_METRICS_SQL} group by account_id, name, ${month}, ${floor(value)}`,
      [accountId],
    );
  }
  await buildBucketRollups(knex, dialect, accountId);
  await knex.raw(
    `insert into helpdesk_report_contact_daily (account_id, day, contact_id, n, last_at)
     select account_id, ${day}, contact_id, count(*), max(at) from helpdesk_report_events where account_id = ? and name = 'message_in' group by account_id, ${day}, contact_id`,
    [accountId],
  );
}
