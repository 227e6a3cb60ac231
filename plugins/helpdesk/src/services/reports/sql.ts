import type { Helpdesk } from '../helpdesk.js';

/** A period [from, to) and the filters every report takes. */
export interface ReportFilter {
  from: Date;
  to: Date;
  instanceId?: string;
  queueId?: string;
  agentId?: string;
  labelId?: string;
}

export type Grouping = 'total' | 'agent' | 'queue' | 'label';

/** A quarter hour: every time zone's offset is a multiple of it, so buckets of it fold into any zone's hours and days exactly. */
export const QUARTER_HOUR = 900_000;

/**
 * What every report query shares: the dialect, how times are stored (SQLite: epoch
 * milliseconds), the WHERE of a period with its filters, and how a period splits between the
 * rollups and the events.
 */
export class ReportSql {
  constructor(readonly hd: Helpdesk) {}

  get pg() {
    return this.hd.ctx.db.kind === 'postgresql';
  }

  /** A time as the column stores it (SQLite: epoch milliseconds). */
  t(d: Date): Date | number {
    return this.pg ? d : d.getTime();
  }

  ms(v: unknown): number {
    return v instanceof Date ? v.getTime() : typeof v === 'string' && !/^\d+$/.test(v) ? Date.parse(v) : Number(v);
  }

  floor(expr: string): string {
    return this.pg ? `floor(${expr})::bigint` : `cast(${expr} as integer)`;
  }

  async rows<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]> {
    if (!this.pg) return (await this.hd.ctx.db.knex.raw(sql, params as never[])) as T[];
    // The sorts and hashes of a report outgrow PostgreSQL's default 4 MB of work memory and spill to disk.
    return this.hd.ctx.db.knex.transaction(async (trx) => {
      await trx.raw("set local work_mem = '64MB'");
      return (await trx.raw(sql, params as never[])).rows as T[];
    });
  }

  /** WHERE for one account's events of some names in some periods, with the filters. */
  where(accountId: string, f: ReportFilter, names: readonly string[], periods: [Date, Date][] = [[f.from, f.to]]): { sql: string; params: unknown[] } {
    const parts = ['e.account_id = ?', `e.name in (${names.map(() => '?').join(', ')})`, `(${periods.map(() => '(e.at >= ? and e.at < ?)').join(' or ')})`];
    const params: unknown[] = [accountId, ...names, ...periods.flatMap(([a, b]) => [this.t(a), this.t(b)])];
    if (f.instanceId) parts.push('e.instance_id = ?'), params.push(f.instanceId);
    if (f.queueId) parts.push('e.queue_id = ?'), params.push(f.queueId);
    if (f.agentId) parts.push('e.agent_id = ?'), params.push(f.agentId);
    if (f.labelId) {
      parts.push('e.attendance_id in (select l.attendance_id from helpdesk_attendance_labels l where l.account_id = ? and l.label_id = ?)');
      params.push(accountId, f.labelId);
    }
    return { sql: parts.join(' and '), params };
  }

  /**
   * The period cut into what the rollups answer and what the events answer: the whole UTC
   * months inside it (monthly rollups), the whole UTC days around those (daily rollups), and
   * the partial days at either end (events). Together exact to the millisecond in any time zone.
   */
  segments(f: ReportFilter): { months: [Date, Date] | null; days: [Date, Date][]; edges: [Date, Date][] } {
    const DAY = 86_400_000;
    const a = Math.ceil(f.from.getTime() / DAY) * DAY;
    const b = Math.floor(f.to.getTime() / DAY) * DAY;
    if (a >= b) return { months: null, days: [], edges: [[f.from, f.to]] };
    const edges: [Date, Date][] = [];
    if (f.from.getTime() < a) edges.push([f.from, new Date(a)]);
    if (b < f.to.getTime()) edges.push([new Date(b), f.to]);
    const monthStart = (ms: number, up: boolean) => {
      const d = new Date(ms);
      const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      return up && first < ms ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : first;
    };
    const ma = monthStart(a, true);
    const mb = monthStart(b, false);
    if (ma >= mb) return { months: null, days: [[new Date(a), new Date(b)]], edges };
    const days: [Date, Date][] = [];
    if (a < ma) days.push([new Date(a), new Date(ma)]);
    if (mb < b) days.push([new Date(mb), new Date(b)]);
    return { months: [new Date(ma), new Date(mb)], days, edges };
  }

  /** The group's column, what GROUP BY and PARTITION BY name first (nothing for the total: PostgreSQL refuses a constant there), and a join. */
  groupKey(g: Grouping): { key: string; by: string; join: string } {
    switch (g) {
      case 'agent':
        return { key: 'e.agent_id', by: 'e.agent_id, ', join: '' };
      case 'queue':
        return { key: 'e.queue_id', by: 'e.queue_id, ', join: '' };
      case 'label':
        return { key: 'al.label_id', by: 'al.label_id, ', join: 'join helpdesk_attendance_labels al on al.attendance_id = e.attendance_id and al.account_id = e.account_id' };
      default:
        return { key: "'total'", by: '', join: '' };
    }
  }
}
