import { badRequest } from '@plugchat/core';
import { DateTime } from 'luxon';
import { AgentSchema, AttendanceLabelSchema, AttendanceSchema, ContactSchema, type ReportEventName } from '../entities.js';
import { TIME_METRICS_SQL } from '../migrations.js';
import type { Helpdesk } from './helpdesk.js';
import { displayName } from './views.js';

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
export type Granularity = 'hour' | 'day' | 'week';

/** Seconds: mean, median and 90th percentile (linear interpolation, as percentile_cont). */
export interface Stat {
  count: number;
  avg: number | null;
  median: number | null;
  p90: number | null;
  /** The same within business hours (equal to the above for queues without hours). */
  business: { avg: number | null; median: number | null; p90: number | null };
}

export interface Figures {
  created: number;
  reopened: number;
  resolved: number;
  messagesIn: number;
  messagesOut: number;
  assigned: number;
  transfersIn: number;
  transfersOut: number;
  firstResponse: Stat;
  replyTime: Stat;
  resolution: Stat;
  assignmentWait: Stat;
}

const TIME_METRICS = { first_response: 'firstResponse', reply_time: 'replyTime', resolution: 'resolution', assignment_wait: 'assignmentWait' } as const;
type TimeMetric = keyof typeof TIME_METRICS;
const COUNTS: Partial<Record<ReportEventName, keyof Figures>> = {
  created: 'created',
  reopened: 'reopened',
  resolution: 'resolved',
  message_in: 'messagesIn',
  message_out: 'messagesOut',
  assigned: 'assigned',
  transfer: 'transfersIn',
};
/** What a figure of the page drills down to: the events behind it. */
export const DRILL: Record<string, ReportEventName> = {
  created: 'created',
  reopened: 'reopened',
  resolved: 'resolution',
  messagesIn: 'message_in',
  messagesOut: 'message_out',
  assigned: 'assigned',
  transfers: 'transfer',
  firstResponse: 'first_response',
  replyTime: 'reply_time',
  resolution: 'resolution',
  assignmentWait: 'assignment_wait',
};

const QUARTER_HOUR = 900_000;
const EPSILON = 1e-9;
const MAX_BUCKETS = 2_000;

const emptyStat = (): Stat => ({ count: 0, avg: null, median: null, p90: null, business: { avg: null, median: null, p90: null } });
export const emptyFigures = (): Figures => ({
  created: 0,
  reopened: 0,
  resolved: 0,
  messagesIn: 0,
  messagesOut: 0,
  assigned: 0,
  transfersIn: 0,
  transfersOut: 0,
  firstResponse: emptyStat(),
  replyTime: emptyStat(),
  resolution: emptyStat(),
  assignmentWait: emptyStat(),
});

/** The candidate row numbers (1-based) a quantile interpolates between. */
const QUANTILES = [0.5, 0.9];

/**
 * Reports over the helpdesk's reporting events, aggregated by the database: counts and sums
 * by GROUP BY, quantiles by a window function that returns only the rows they interpolate
 * between, time buckets of a quarter hour folded into local hours, days or weeks here (every
 * time zone's offset is a multiple of 15 minutes, so day boundaries are exact to the second).
 */
export class Reports {
  constructor(private readonly hd: Helpdesk) {}

  private get pg() {
    return this.hd.ctx.db.kind === 'postgresql';
  }

  /** A time as the column stores it (SQLite: epoch milliseconds). */
  private t(d: Date): Date | number {
    return this.pg ? d : d.getTime();
  }

  private ms(v: unknown): number {
    return v instanceof Date ? v.getTime() : typeof v === 'string' && !/^\d+$/.test(v) ? Date.parse(v) : Number(v);
  }

  private floor(expr: string): string {
    return this.pg ? `floor(${expr})::bigint` : `cast(${expr} as integer)`;
  }

  private async rows<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]> {
    if (!this.pg) return (await this.hd.ctx.db.knex.raw(sql, params as never[])) as T[];
    // The sorts and hashes of a report outgrow PostgreSQL's default 4 MB of work memory and spill to disk.
    return this.hd.ctx.db.knex.transaction(async (trx) => {
      await trx.raw("set local work_mem = '64MB'");
      return (await trx.raw(sql, params as never[])).rows as T[];
    });
  }

  /** WHERE for one account's events of some names in some periods, with the filters. */
  private where(accountId: string, f: ReportFilter, names: readonly string[], periods: [Date, Date][] = [[f.from, f.to]]): { sql: string; params: unknown[] } {
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
  private segments(f: ReportFilter): { months: [Date, Date] | null; days: [Date, Date][]; edges: [Date, Date][] } {
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
  private groupKey(g: Grouping): { key: string; by: string; join: string } {
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

  /** Counts and sums per group and event name: the daily rollups for whole days, the events for the rest (labels: the events). */
  private async counts(accountId: string, f: ReportFilter, grouping: Grouping, names: string[]) {
    type CountRow = { k: unknown; name: ReportEventName; n: unknown; s: unknown; sb: unknown };
    const { key, by, join } = this.groupKey(grouping);
    if (grouping === 'label' || f.labelId) {
      const w = this.where(accountId, f, names);
      return this.rows<CountRow>(`select ${key} as k, e.name as name, count(*) as n, sum(e.value) as s, sum(e.business_value) as sb from helpdesk_report_events e ${join} where ${w.sql} group by ${by}e.name`, w.params);
    }
    const { months, days, edges } = this.segments(f);
    const parts: string[] = [];
    const params: unknown[] = [];
    const rollup = (table: string, column: string, range: [Date, Date]) => {
      const dk = grouping === 'agent' ? "nullif(d.agent_id, '')" : grouping === 'queue' ? "nullif(d.queue_id, '')" : "'total'";
      const conds = ['d.account_id = ?', `d.${column} >= ?`, `d.${column} < ?`, `d.name in (${names.map(() => '?').join(', ')})`];
      params.push(accountId, this.t(range[0]), this.t(range[1]), ...names);
      if (f.instanceId) conds.push('d.instance_id = ?'), params.push(f.instanceId);
      if (f.queueId) conds.push('d.queue_id = ?'), params.push(f.queueId);
      if (f.agentId) conds.push('d.agent_id = ?'), params.push(f.agentId);
      parts.push(`select ${dk} as k, d.name as name, d.n as n, d.s as s, d.sb as sb from ${table} d where ${conds.join(' and ')}`);
    };
    if (months) rollup('helpdesk_report_monthly', 'month', months);
    for (const range of days) rollup('helpdesk_report_daily', 'day', range);
    if (edges.length) {
      const w = this.where(accountId, f, names, edges);
      parts.push(`select ${key} as k, e.name as name, 1 as n, e.value as s, e.business_value as sb from helpdesk_report_events e where ${w.sql}`);
      params.push(...w.params);
    }
    return this.rows<CountRow>(`select x.k as k, x.name as name, sum(x.n) as n, sum(x.s) as s, sum(x.sb) as sb from (${parts.join(' union all ')}) x group by x.k, x.name`, params);
  }

  /** Every figure of the period, for the whole selection or per agent, queue or label. */
  async figures(accountId: string, f: ReportFilter, grouping: Grouping): Promise<Map<string | null, Figures>> {
    const out = new Map<string | null, Figures>();
    const of = (k: unknown) => {
      const id = k === null || k === undefined ? null : String(k);
      let fig = out.get(id);
      if (!fig) out.set(id, (fig = emptyFigures()));
      return fig;
    };
    if (grouping === 'total') of('total');

    const all = Object.keys(COUNTS).concat(Object.keys(TIME_METRICS).filter((n) => !(n in COUNTS)));
    for (const r of await this.counts(accountId, f, grouping, all)) {
      const fig = of(r.k);
      const n = Number(r.n);
      const field = COUNTS[r.name];
      if (field) (fig[field] as number) += n;
      const metric = TIME_METRICS[r.name as TimeMetric];
      if (metric) {
        const st = fig[metric];
        st.count = n;
        st.avg = n ? Number(r.s) / n : null;
        st.business.avg = n ? Number(r.sb) / n : null;
      }
    }
    if (grouping === 'agent') {
      // Transfers away from an agent name them as the one it came from.
      const t = this.where(accountId, { ...f, agentId: undefined }, ['transfer']);
      const extra = f.agentId ? ' and e.from_agent_id = ?' : '';
      const moved = await this.rows<{ k: unknown; n: unknown }>(
        `select e.from_agent_id as k, count(*) as n from helpdesk_report_events e where ${t.sql} and e.from_agent_id is not null${extra} group by e.from_agent_id`,
        f.agentId ? [...t.params, f.agentId] : t.params,
      );
      for (const r of moved) of(r.k).transfersOut += Number(r.n);
    }
    const histogram = this.histogramDim(f, grouping);
    if (grouping === 'label' || f.labelId) await this.windowQuantiles(accountId, f, grouping, of);
    else if (histogram) {
      const jobs = (Object.keys(TIME_METRICS) as TimeMetric[]).flatMap((name) => (['wall', 'business'] as const).map((kind) => () => this.histogramQuantiles(accountId, f, grouping, histogram, name, kind, of)));
      await inBatches(jobs, this.pg ? 4 : 1);
    } else {
      const jobs: (() => Promise<void>)[] = [];
      for (const [k, fig] of out) {
        for (const [name, metric] of Object.entries(TIME_METRICS) as [TimeMetric, (typeof TIME_METRICS)[TimeMetric]][]) {
          const st = fig[metric];
          if (!st.count) continue;
          for (const column of ['value', 'business_value'] as const) {
            jobs.push(async () => {
              const target = column === 'value' ? st : st.business;
              [target.median, target.p90] = await this.rankQuantiles(accountId, f, grouping, k, name, column, st.count);
            });
          }
        }
      }
      // PostgreSQL answers several at once on its pool; SQLite has one connection anyway.
      await inBatches(jobs, this.pg ? 4 : 1);
    }
    return out;
  }

  /** Which duration histogram answers these quantiles (all, per agent or per queue), or none for other filter mixes. */
  private histogramDim(f: ReportFilter, grouping: Grouping): { dim: 'all' | 'agent' | 'queue'; id?: string } | null {
    // Measured on a year of 100,000 attendances: the histogram wins for the whole account, where
    // it folds many durations into each second; per agent or queue it hardly folds anything and
    // walking the rank indexes is faster.
    if (grouping !== 'total' || f.instanceId || f.labelId || f.agentId || f.queueId) return null;
    return { dim: 'all' };
  }

  /**
   * Median and p90 of whole seconds per group: the histogram of the whole UTC months in the
   * period plus the events of the rest, summed per second, walked by a running count to the
   * ranks the quantiles interpolate between.
   */
  private async histogramQuantiles(
    accountId: string,
    f: ReportFilter,
    grouping: Grouping,
    h: { dim: 'all' | 'agent' | 'queue'; id?: string },
    name: TimeMetric,
    kind: 'wall' | 'business',
    of: (k: unknown) => Figures,
  ) {
    const { months } = this.segments(f);
    const raw: [Date, Date][] = months ? ([[f.from, months[0]], [months[1], f.to]] as [Date, Date][]).filter(([a, b]) => a < b) : [[f.from, f.to]];
    const parts: string[] = [];
    const params: unknown[] = [];
    if (months) {
      parts.push(`select h.dim_id as k, h.seconds as v, h.n as n from helpdesk_report_durations h where h.account_id = ? and h.dim = ? and h.name = ? and h.kind = ? and h.month >= ? and h.month < ?${h.id ? ' and h.dim_id = ?' : ''}`);
      params.push(accountId, h.dim, name, kind, this.t(months[0]), this.t(months[1]), ...(h.id ? [h.id] : []));
    }
    if (raw.length) {
      const column = kind === 'wall' ? 'e.value' : 'e.business_value';
      const key = h.dim === 'agent' ? "coalesce(e.agent_id, '')" : h.dim === 'queue' ? "coalesce(e.queue_id, '')" : "''";
      const w = this.where(accountId, { ...f, agentId: h.dim === 'agent' ? h.id : undefined, queueId: h.dim === 'queue' ? h.id : undefined }, [name], raw);
      parts.push(`select ${key} as k, ${this.floor(column)} as v, 1 as n from helpdesk_report_events e where ${w.sql}`);
      params.push(...w.params);
    }
    const rank = (p: number, plus: number) => `${this.floor(`(x.total - 1) * ${p} + ${EPSILON}`)} + ${plus}`;
    const hits = QUANTILES.flatMap((p) => [1, 2].map((plus) => `(x.cum - x.n < ${rank(p, plus)} and ${rank(p, plus)} <= x.cum)`)).join(' or ');
    const picked = await this.rows<{ k: string; v: unknown; n: unknown; cum: unknown; total: unknown }>(
      `select x.k as k, x.v as v, x.n as n, x.cum as cum, x.total as total from (
         select u.k, u.v, u.n, sum(u.n) over (partition by u.k order by u.v) as cum, sum(u.n) over (partition by u.k) as total
         from (select g.k as k, g.v as v, sum(g.n) as n from (${parts.join(' union all ')}) g group by g.k, g.v) u
       ) x where ${hits}`,
      params,
    );
    const groups = new Map<string, { total: number; rows: { v: number; from: number; to: number }[] }>();
    for (const r of picked) {
      let g = groups.get(r.k);
      if (!g) groups.set(r.k, (g = { total: Number(r.total), rows: [] }));
      g.rows.push({ v: Number(r.v), from: Number(r.cum) - Number(r.n) + 1, to: Number(r.cum) });
    }
    for (const [k, g] of groups) {
      const ranks = new Map<number, number>();
      for (const p of QUANTILES) {
        const lo = Math.floor((g.total - 1) * p + EPSILON);
        for (const r of [lo + 1, lo + 2]) {
          const row = g.rows.find((x) => x.from <= r && r <= x.to);
          if (row) ranks.set(r, row.v);
        }
      }
      const st = of(grouping === 'total' ? 'total' : k === '' ? null : k)[TIME_METRICS[name]];
      const target = kind === 'wall' ? st : st.business;
      target.median = quantile(g.total, ranks, 0.5);
      target.p90 = quantile(g.total, ranks, 0.9);
    }
  }

  /**
   * The median and p90 of a group's durations (whole seconds) by walking its partial index in
   * value order only as far as the ranks they need: no sort. `n` is the group's count in the
   * period, from counts(). SQLite skips to each rank (LIMIT 2 OFFSET rank, twice); PostgreSQL
   * numbers the rows of one walk up to the furthest rank.
   */
  private async rankQuantiles(accountId: string, f: ReportFilter, grouping: Grouping, k: string | null, name: TimeMetric, column: 'value' | 'business_value', n: number): Promise<[number | null, number | null]> {
    const dim = grouping === 'agent' || (grouping === 'total' && f.agentId) ? 'agent_id' : grouping === 'queue' || (grouping === 'total' && f.queueId) ? 'queue_id' : '';
    const dimValue = grouping === 'agent' || grouping === 'queue' ? k : dim === 'agent_id' ? f.agentId! : dim === 'queue_id' ? f.queueId! : null;
    const index = `helpdesk_report_rank${dim ? `_${dim.replace('_id', '')}` : ''}_${column === 'value' ? 'wall' : 'business'}`;
    // SQLite uses a partial index only when the query repeats its condition; PostgreSQL proves it
    // from name = ? and plans worse with it repeated.
    const conds = [...(this.pg ? [] : [TIME_METRICS_SQL]), 'account_id = ?', 'name = ?', 'at >= ?', 'at < ?'];
    const params: unknown[] = [accountId, name, this.t(f.from), this.t(f.to)];
    if (dim) {
      if (dimValue === null) conds.push(`${dim} is null`);
      else conds.push(`${dim} = ?`), params.push(dimValue);
    }
    if (f.instanceId) conds.push('instance_id = ?'), params.push(f.instanceId);
    if (f.queueId && dim !== 'queue_id') conds.push('queue_id = ?'), params.push(f.queueId);
    if (f.agentId && dim !== 'agent_id') conds.push('agent_id = ?'), params.push(f.agentId);
    const los = QUANTILES.map((p) => Math.floor((n - 1) * p + EPSILON));
    const values = new Map<number, number>();
    if (this.pg) {
      const ranks = los.flatMap((lo) => [lo + 1, lo + 2]);
      const picked = await this.rows<{ rn: unknown; v: unknown }>(
        `select x.rn as rn, x.v as v from (select ${column} as v, row_number() over (order by ${column}) as rn from helpdesk_report_events where ${conds.join(' and ')} order by ${column} limit ${Math.max(...ranks)}) x where x.rn in (${ranks.join(', ')})`,
        params,
      );
      for (const r of picked) values.set(Number(r.rn), Math.floor(Number(r.v)));
    } else {
      for (const lo of los) {
        const picked = await this.rows<{ v: unknown }>(`select ${column} as v from helpdesk_report_events indexed by ${index} where ${conds.join(' and ')} order by ${column} limit 2 offset ${lo}`, params);
        picked.forEach((r, i) => values.set(lo + 1 + i, Math.floor(Number(r.v))));
      }
    }
    return [quantile(n, values, QUANTILES[0]!), quantile(n, values, QUANTILES[1]!)];
  }

  /** Quantiles per label (a join the indexes cannot walk): a window over the period's durations. */
  private async windowQuantiles(accountId: string, f: ReportFilter, grouping: Grouping, of: (k: unknown) => Figures) {
    const { key, by, join } = this.groupKey(grouping);
    for (const column of ['value', 'business_value'] as const) {
      const q = this.where(accountId, f, Object.keys(TIME_METRICS));
      // The epsilon keeps the database's floor and quantile()'s equal where (n - 1) * p is a whole number.
      const candidates = QUANTILES.flatMap((p) => [`x.rn = ${this.floor(`(x.n - 1) * ${p} + ${EPSILON}`)} + 1`, `x.rn = ${this.floor(`(x.n - 1) * ${p} + ${EPSILON}`)} + 2`]).join(' or ');
      const picked = await this.rows<{ k: unknown; name: TimeMetric; rn: unknown; n: unknown; v: unknown }>(
        `select x.k, x.name, x.rn, x.n, x.v from (
           select ${key} as k, e.name as name, e.${column} as v,
                  row_number() over (partition by ${by}e.name order by e.${column}) as rn,
                  count(*) over (partition by ${by}e.name) as n
           from helpdesk_report_events e ${join} where ${q.sql}
         ) x where ${candidates}`,
        q.params,
      );
      const byGroup = new Map<string, { n: number; values: Map<number, number> }>();
      for (const r of picked) {
        const id = `${r.k ?? ''}\u0000${r.name}`;
        let g = byGroup.get(id);
        if (!g) byGroup.set(id, (g = { n: Number(r.n), values: new Map() }));
        g.values.set(Number(r.rn), Math.floor(Number(r.v)));
      }
      for (const r of picked) {
        const g = byGroup.get(`${r.k ?? ''}\u0000${r.name}`)!;
        const st = of(r.k)[TIME_METRICS[r.name]];
        const target = column === 'value' ? st : st.business;
        target.median = quantile(g.n, g.values, 0.5);
        target.p90 = quantile(g.n, g.values, 0.9);
      }
    }
  }

  /** Counts and averages per local hour, day or week of the period, zeros included. */
  async series(accountId: string, f: ReportFilter, granularity: Granularity, zone: string) {
    const keys: number[] = [];
    const start = DateTime.fromJSDate(f.from, { zone }).startOf(granularity);
    for (let b = start; b.toMillis() < f.to.getTime(); b = b.plus({ [granularity]: 1 })) {
      keys.push(b.toMillis());
      if (keys.length > MAX_BUCKETS) throw badRequest(`Too many ${granularity}s in the period; pick a coarser granularity.`, [{ path: 'query.granularity', message: `at most ${MAX_BUCKETS} buckets` }], 'too_many_buckets');
    }
    const points = new Map(keys.map((k) => [k, { created: 0, resolved: 0, messagesIn: 0, messagesOut: 0, firstResponse: { n: 0, s: 0 }, resolution: { n: 0, s: 0 } }]));
    const names = ['created', 'resolution', 'message_in', 'message_out', 'first_response'];
    const w = this.where(accountId, f, names);
    const bucket = this.pg ? `floor(extract(epoch from e.at) / 900)::bigint` : `(e.at / ${QUARTER_HOUR})`;
    const rows = await this.rows<{ b: unknown; name: string; n: unknown; s: unknown }>(
      `select ${bucket} as b, e.name as name, count(*) as n, sum(e.value) as s from helpdesk_report_events e where ${w.sql} group by ${bucket}, e.name`,
      w.params,
    );
    for (const r of rows) {
      const p = points.get(keys[bucketOf(keys, Number(r.b) * QUARTER_HOUR)]!);
      if (!p) continue;
      const n = Number(r.n);
      if (r.name === 'created') p.created += n;
      else if (r.name === 'message_in') p.messagesIn += n;
      else if (r.name === 'message_out') p.messagesOut += n;
      else if (r.name === 'first_response') (p.firstResponse.n += n), (p.firstResponse.s += Number(r.s));
      else if (r.name === 'resolution') (p.resolved += n), (p.resolution.n += n), (p.resolution.s += Number(r.s));
    }
    return keys.map((k) => {
      const p = points.get(k)!;
      return {
        start: DateTime.fromMillis(k, { zone }).toISO()!,
        created: p.created,
        resolved: p.resolved,
        messagesIn: p.messagesIn,
        messagesOut: p.messagesOut,
        firstResponseAvg: p.firstResponse.n ? p.firstResponse.s / p.firstResponse.n : null,
        resolutionAvg: p.resolution.n ? p.resolution.s / p.resolution.n : null,
      };
    });
  }

  /** Customer messages and new attendances per local weekday (0 = Sunday) and hour. */
  async heatmap(accountId: string, f: ReportFilter, zone: string) {
    const cells = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => ({ messagesIn: 0, created: 0 })));
    // Each local hour of the period, as the instant it starts: a quarter-hour bucket falls in the last one at or before it.
    const hours: number[] = [];
    const slots: { day: number; hour: number }[] = [];
    // Local hours are an hour apart in absolute time too; one formatter names each (luxon per hour is slow for a year).
    const names = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
    const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    for (let h = DateTime.fromJSDate(f.from, { zone }).startOf('hour').toMillis(); h < f.to.getTime(); h += 3_600_000) {
      const parts = names.formatToParts(h);
      hours.push(h);
      slots.push({ day: WEEKDAYS.indexOf(parts.find((p) => p.type === 'weekday')!.value), hour: Number(parts.find((p) => p.type === 'hour')!.value) });
    }
    const w = this.where(accountId, f, ['message_in', 'created']);
    const bucket = this.pg ? `floor(extract(epoch from e.at) / 900)::bigint` : `(e.at / ${QUARTER_HOUR})`;
    const rows = await this.rows<{ b: unknown; name: string; n: unknown }>(
      `select ${bucket} as b, e.name as name, count(*) as n from helpdesk_report_events e where ${w.sql} group by ${bucket}, e.name`,
      w.params,
    );
    for (const r of rows) {
      const slot = slots[bucketOf(hours, Number(r.b) * QUARTER_HOUR)];
      if (!slot) continue;
      const cell = cells[slot.day]![slot.hour]!;
      if (r.name === 'message_in') cell.messagesIn += Number(r.n);
      else cell.created += Number(r.n);
    }
    return cells;
  }

  /**
   * The contacts who sent the most messages in the period (ties: the most recent last message
   * first), with the attendances those messages went to and their last message.
   */
  async topClients(accountId: string, f: ReportFilter, limit = 10) {
    type TopRow = { contact_id: string; n: unknown; last: unknown };
    const order = `order by sum(x.n) desc, max(x.last) desc, x.contact_id limit ${Number(limit)}`;
    let top: TopRow[];
    const { months, days: dayRanges, edges: dayEdges } = this.segments(f);
    // The per-contact rollup is daily: whole months count as their days.
    const days: [Date, Date] | null = months ? [dayRanges.find((r) => r[1].getTime() === months[0].getTime())?.[0] ?? months[0], dayRanges.find((r) => r[0].getTime() === months[1].getTime())?.[1] ?? months[1]] : (dayRanges[0] ?? null);
    const edges = dayEdges;
    if (days && !f.instanceId && !f.queueId && !f.agentId && !f.labelId) {
      // Whole days from the per-contact rollup, the edges from the events.
      const parts = ['select c.contact_id as contact_id, c.n as n, c.last_at as last from helpdesk_report_contact_daily c where c.account_id = ? and c.day >= ? and c.day < ?'];
      const params: unknown[] = [accountId, this.t(days[0]), this.t(days[1])];
      if (edges.length) {
        const w = this.where(accountId, f, ['message_in'], edges);
        parts.push(`select e.contact_id as contact_id, 1 as n, e.at as last from helpdesk_report_events e where ${w.sql}`);
        params.push(...w.params);
      }
      top = await this.rows<TopRow>(`select x.contact_id as contact_id, sum(x.n) as n, max(x.last) as last from (${parts.join(' union all ')}) x group by x.contact_id ${order}`, params);
    } else {
      const w = this.where(accountId, f, ['message_in']);
      top = await this.rows<TopRow>(`select x.contact_id as contact_id, count(*) as n, max(x.last) as last from (select e.contact_id as contact_id, 1 as n, e.at as last from helpdesk_report_events e where ${w.sql}) x group by x.contact_id ${order.replace('sum(x.n)', 'count(*)')}`, w.params);
    }
    if (!top.length) return [];
    const ids = top.map((t) => t.contact_id);
    const a = this.where(accountId, f, ['message_in']);
    const attendances = await this.rows<{ contact_id: string; n: unknown }>(
      `select e.contact_id as contact_id, count(distinct e.attendance_id) as n from helpdesk_report_events e where ${a.sql} and e.contact_id in (${ids.map(() => '?').join(', ')}) group by e.contact_id`,
      [...a.params, ...ids],
    );
    const perContact = new Map(attendances.map((r) => [r.contact_id, Number(r.n)]));
    const contacts = new Map((await this.hd.units.read(accountId).find(ContactSchema, { id: { $in: ids } })).map((c) => [c.id, c]));
    return top.map((t, i) => {
      const c = contacts.get(t.contact_id);
      return {
        rank: i + 1,
        contactId: t.contact_id,
        name: c ? displayName(c) : '',
        phone: c?.phone ?? '',
        messages: Number(t.n),
        attendances: perContact.get(t.contact_id) ?? 0,
        lastMessageAt: new Date(this.ms(t.last)).toISOString(),
      };
    });
  }

  /** The events behind a figure, newest first, with their attendance: the drill-down. */
  async events(accountId: string, f: ReportFilter, name: ReportEventName, opts: { offset: number; limit: number }) {
    const w = this.where(accountId, f, [name]);
    const rows = await this.rows<{ at: unknown; value: unknown; business_value: unknown; attendance_id: string; agent_id: string | null; queue_id: string | null; from_agent_id: string | null; number: unknown; contact_id: string; status: string }>(
      `select e.at, e.value, e.business_value, e.attendance_id, e.agent_id, e.queue_id, e.from_agent_id, a.number, a.contact_id, a.status
       from helpdesk_report_events e join helpdesk_attendances a on a.id = e.attendance_id
       where ${w.sql} order by e.at desc, e.id desc limit ${Number(opts.limit) + 1} offset ${Number(opts.offset)}`,
      w.params,
    );
    const more = rows.length > opts.limit;
    const page = rows.slice(0, opts.limit);
    const contacts = new Map((await this.hd.units.read(accountId).find(ContactSchema, { id: { $in: [...new Set(page.map((r) => r.contact_id))] } })).map((c) => [c.id, c]));
    return {
      items: page.map((r) => ({
        attendanceId: r.attendance_id,
        number: Number(r.number),
        status: r.status,
        contactName: contacts.get(r.contact_id) ? displayName(contacts.get(r.contact_id)!) : '',
        phone: contacts.get(r.contact_id)?.phone ?? '',
        at: new Date(this.ms(r.at)).toISOString(),
        seconds: Number(r.value),
        businessSeconds: Number(r.business_value),
        agentId: r.agent_id,
        fromAgentId: r.from_agent_id,
        queueId: r.queue_id,
      })),
      nextOffset: more ? opts.offset + opts.limit : null,
    };
  }

  /** Now: attendances by state and who is online, with the same filters (no period). */
  async live(accountId: string, f: Omit<ReportFilter, 'from' | 'to'>) {
    const em = this.hd.units.read(accountId);
    const where: Record<string, unknown>[] = [];
    if (f.instanceId) where.push({ instanceId: f.instanceId });
    if (f.queueId) where.push({ queueId: f.queueId });
    if (f.agentId) where.push({ assigneeId: f.agentId });
    if (f.labelId) where.push({ id: { $in: (await em.find(AttendanceLabelSchema, { labelId: f.labelId }, { fields: ['attendanceId'] })).map((l) => l.attendanceId) } });
    const count = (...and: Record<string, unknown>[]) => em.count(AttendanceSchema, { $and: [...where, ...and] });
    const active = { status: { $in: ['pending', 'open'] } };
    const [open, pending, snoozed, unassigned, unattended] = await Promise.all([
      count({ status: 'open' }),
      count({ status: 'pending' }),
      count({ status: 'snoozed' }),
      count(active, { assigneeId: null }),
      // Nobody answered yet, or the customer wrote after the last answer.
      count(active, { $or: [{ firstReplyAt: null }, { waitingSince: { $ne: null } }] }),
    ]);
    const users = (await this.hd.ctx.users.list(accountId)).filter((u) => !u.disabled);
    const agents = new Map((await em.find(AgentSchema, {})).map((a) => [a.userId, a]));
    const counts = await this.hd.assignment.openCounts({ em }, users.map((u) => u.id));
    const now = this.hd.clock.now();
    const people = users.map((u) => ({
      userId: u.id,
      name: u.name,
      status: this.hd.assignment.effectiveStatus(agents.get(u.id), now),
      open: counts.get(u.id) ?? 0,
      capacity: this.hd.assignment.capacityOf(agents.get(u.id)),
    }));
    return { open, pending, snoozed, unassigned, unattended, agentsOnline: people.filter((p) => p.status === 'online').length, agents: people };
  }
}

/** The index of the last start at or before `at` in ascending `starts` (-1 before the first). */
function bucketOf(starts: number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= at) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  return found;
}

/** Runs jobs with at most `width` at a time. */
async function inBatches(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
}

/** The p-quantile of n sorted values by linear interpolation, from the (1-based) rows it needs. */
export function quantile(n: number, values: Map<number, number>, p: number): number | null {
  if (!n) return null;
  const h = (n - 1) * p;
  const lo = Math.floor(h + EPSILON);
  const a = values.get(lo + 1);
  if (a === undefined) return null;
  const b = values.get(lo + 2) ?? a;
  return a + Math.max(0, h - lo) * (b - a);
}
