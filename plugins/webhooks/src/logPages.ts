import type { Knex } from '@plugchat/core';
import type { DeliveryRow } from './service.js';

export interface LogFilter {
  endpointId?: string;
  instanceId?: string;
  status?: string;
  eventType?: string;
  limit: number;
  before?: number;
}

/** Instances whose pages one query merges; an account with more is read in several and merged here. */
const INSTANCES_A_QUERY = 100;

/**
 * Pages of the delivery log, newest first, read through the log's (instance_id, seq) index. The
 * account's unfiltered page, which had to read and sort every account's rows, merges each of its
 * instances' newest (the instances it ever had endpoints on, kept in webhooks_log_instances):
 * PostgreSQL, a million rows, 236 ms a page before, 0.7 ms merged. An index on (account_id, seq)
 * would do the same but cost every delivery another index entry at its insert and again at its
 * outcome, which PostgreSQL's deliveries a second pay for.
 */
export class LogPages {
  constructor(private readonly knex: Knex) {}

  /** Records that the account's log may hold deliveries of this instance (as its endpoint is created). */
  async remember(accountId: string, instanceId: string): Promise<void> {
    await this.knex('webhooks_log_instances').insert({ account_id: accountId, instance_id: instanceId }).onConflict(['account_id', 'instance_id']).ignore();
  }

  async page(accountId: string, filter: LogFilter, instanceId?: string): Promise<DeliveryRow[]> {
    // A filtered page stays one query: walking each instance's index for a rare status, event or a
    // deleted endpoint's rows reads them all (PostgreSQL, 900,000 rows in 18 instances: 1.6 s merged, 70 ms scanned).
    if (instanceId || filter.endpointId || filter.status || filter.eventType) return this.query(accountId, instanceId, filter);
    const ids: string[] = await this.knex('webhooks_log_instances').where({ account_id: accountId }).pluck('instance_id');
    const rows: DeliveryRow[] = [];
    for (let i = 0; i < ids.length; i += INSTANCES_A_QUERY) {
      const [first, ...rest] = ids.slice(i, i + INSTANCES_A_QUERY).map((id, j) => this.knex.select('*').from(this.query(accountId, id, filter).as(`p${j}`)));
      const merged = rest.length ? first!.unionAll(rest) : first!;
      rows.push(...(await this.knex.select('*').from(merged.as('u')).orderBy('seq', 'desc').limit(filter.limit)));
    }
    if (ids.length <= INSTANCES_A_QUERY) return rows;
    return rows.sort((a, b) => (BigInt(b.seq) > BigInt(a.seq) ? 1 : -1)).slice(0, filter.limit);
  }

  private query(accountId: string, instanceId: string | undefined, filter: LogFilter) {
    const q = this.knex<DeliveryRow>('webhooks_deliveries').where({ account_id: accountId });
    if (instanceId) q.andWhere({ instance_id: instanceId });
    if (filter.endpointId) q.andWhere({ endpoint_id: filter.endpointId });
    if (filter.status) q.andWhere({ status: filter.status as DeliveryRow['status'] });
    if (filter.eventType) q.andWhere({ event_type: filter.eventType });
    if (filter.before) q.andWhere('seq', '<', filter.before);
    return q.orderBy('seq', 'desc').limit(filter.limit);
  }
}
