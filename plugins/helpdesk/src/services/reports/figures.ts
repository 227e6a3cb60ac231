import type { ReportEventName } from '../../entities.js';
import { TIME_METRICS_SQL } from '../../migrations.js';
import { BucketQuantiles } from './bucketQuantiles.js';
import { EPSILON, inBatches, QUANTILES, quantile, TIME_METRICS, type TimeMetric } from './metrics.js';
import type { Grouping, ReportFilter, ReportSql } from './sql.js';

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

/**
 * The figures of a period: counts and sums from the rollups and the events at the edges;
 * medians and p90 from the duration histograms (the whole account), the bucket counts (per
 * agent or queue, bucketQuantiles.ts), the rank indexes (other filter mixes) or a window over the
 * events (labels).
 */
export class ReportFigures {
  private readonly buckets: BucketQuantiles;

  constructor(private readonly sql: ReportSql) {
    this.buckets = new BucketQuantiles(sql);
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
    // Per agent or queue the quantiles need nothing of the counts: they run alongside.
    const byBucket = this.buckets.dim(f, grouping);
    const bucketed = byBucket ? this.buckets.quantiles(accountId, f, grouping, byBucket, of) : undefined;
    bucketed?.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled meanwhile
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
      const t = this.sql.where(accountId, { ...f, agentId: undefined }, ['transfer']);
      const extra = f.agentId ? ' and e.from_agent_id = ?' : '';
      const moved = await this.sql.rows<{ k: unknown; n: unknown }>(
        `select e.from_agent_id as k, count(*) as n from helpdesk_report_events e where ${t.sql} and e.from_agent_id is not null${extra} group by e.from_agent_id`,
        f.agentId ? [...t.params, f.agentId] : t.params,
      );
      for (const r of moved) of(r.k).transfersOut += Number(r.n);
    }
    // A duration within business hours never exceeds its wall-clock one, so equal sums mean every
    // one is equal (no business hours on the queues): the business quantiles are the wall ones.
    const sameClock = (st: Stat) => st.avg === st.business.avg;
    if (grouping === 'label' || f.labelId) await this.windowQuantiles(accountId, f, grouping, of);
    else if (this.wholeAccount(f, grouping)) {
      const total = of('total');
      const jobs = (Object.keys(TIME_METRICS) as TimeMetric[]).flatMap((name) =>
        (['wall', 'business'] as const).filter((kind) => kind === 'wall' || !sameClock(total[TIME_METRICS[name]])).map((kind) => () => this.histogramQuantiles(accountId, f, name, kind, of)),
      );
      await inBatches(jobs, this.sql.pg ? 4 : 1);
    } else if (bucketed) {
      await bucketed;
    } else {
      const jobs: (() => Promise<void>)[] = [];
      for (const [k, fig] of out) {
        for (const [name, metric] of Object.entries(TIME_METRICS) as [TimeMetric, (typeof TIME_METRICS)[TimeMetric]][]) {
          const st = fig[metric];
          if (!st.count) continue;
          for (const column of sameClock(st) ? (['value'] as const) : (['value', 'business_value'] as const)) {
            jobs.push(async () => {
              const target = column === 'value' ? st : st.business;
              [target.median, target.p90] = await this.rankQuantiles(accountId, f, grouping, k, name, column, st.count);
            });
          }
        }
      }
      // PostgreSQL answers several at once on its pool; SQLite has one connection anyway.
      await inBatches(jobs, this.sql.pg ? 4 : 1);
    }
    for (const fig of out.values()) {
      for (const metric of Object.values(TIME_METRICS)) {
        const st = fig[metric];
        if (st.count && sameClock(st) && st.business.median === null) Object.assign(st.business, { median: st.median, p90: st.p90 });
      }
    }
    return out;
  }

  /** Counts and sums per group and event name: the daily rollups for whole days, the events for the rest (labels: the events). */
  private async counts(accountId: string, f: ReportFilter, grouping: Grouping, names: string[]) {
    type CountRow = { k: unknown; name: ReportEventName; n: unknown; s: unknown; sb: unknown };
    const { key, by, join } = this.sql.groupKey(grouping);
    if (grouping === 'label' || f.labelId) {
      const w = this.sql.where(accountId, f, names);
      return this.sql.rows<CountRow>(`select ${key} as k, e.name as name, count(*) as n, sum(e.value) as s, sum(e.business_value) as sb from helpdesk_report_events e ${join} where ${w.sql} group by ${by}e.name`, w.params);
    }
    const { months, days, edges } = this.sql.segments(f);
    const parts: string[] = [];
    const params: unknown[] = [];
    const rollup = (table: string, column: string, range: [Date, Date]) => {
      const dk = grouping === 'agent' ? "nullif(d.agent_id, '')" : grouping === 'queue' ? "nullif(d.queue_id, '')" : "'total'";
      const conds = ['d.account_id = ?', `d.${column} >= ?`, `d.${column} < ?`, `d.name in (${names.map(() => '?').join(', ')})`];
      params.push(accountId, this.sql.t(range[0]), this.sql.t(range[1]), ...names);
      if (f.instanceId) conds.push('d.instance_id = ?'), params.push(f.instanceId);
      if (f.queueId) conds.push('d.queue_id = ?'), params.push(f.queueId);
      if (f.agentId) conds.push('d.agent_id = ?'), params.push(f.agentId);
      parts.push(`select ${dk} as k, d.name as name, d.n as n, d.s as s, d.sb as sb from ${table} d where ${conds.join(' and ')}`);
    };
    if (months) rollup('helpdesk_report_monthly', 'month', months);
    for (const range of days) rollup('helpdesk_report_daily', 'day', range);
    if (edges.length) {
      const w = this.sql.where(accountId, f, names, edges);
      parts.push(`select ${key} as k, e.name as name, 1 as n, e.value as s, e.business_value as sb from helpdesk_report_events e where ${w.sql}`);
      params.push(...w.params);
    }
    return this.sql.rows<CountRow>(`select x.k as k, x.name as name, sum(x.n) as n, sum(x.s) as s, sum(x.sb) as sb from (${parts.join(' union all ')}) x group by x.k, x.name`, params);
  }

  /**
   * Whether the whole account's per-second histogram answers these quantiles: it folds many
   * durations into each second; per agent or queue it would fold almost nothing, and the bucket
   * counts answer those (bucketQuantiles.ts).
   */
  private wholeAccount(f: ReportFilter, grouping: Grouping): boolean {
    return grouping === 'total' && !f.instanceId && !f.labelId && !f.agentId && !f.queueId;
  }

  /**
   * Median and p90 of whole seconds for the whole account: the histogram of the whole UTC
   * months in the period plus the events of the rest, summed per second, walked by a running
   * count to the ranks the quantiles interpolate between.
   */
  private async histogramQuantiles(accountId: string, f: ReportFilter, name: TimeMetric, kind: 'wall' | 'business', of: (k: unknown) => Figures) {
    const { months } = this.sql.segments(f);
    const raw: [Date, Date][] = months ? ([[f.from, months[0]], [months[1], f.to]] as [Date, Date][]).filter(([a, b]) => a < b) : [[f.from, f.to]];
    const parts: string[] = [];
    const params: unknown[] = [];
    if (months) {
      parts.push(`select h.seconds as v, h.n as n from helpdesk_report_durations h where h.account_id = ? and h.dim = 'all' and h.name = ? and h.kind = ? and h.month >= ? and h.month < ?`);
      params.push(accountId, name, kind, this.sql.t(months[0]), this.sql.t(months[1]));
    }
    if (raw.length) {
      const column = kind === 'wall' ? 'e.value' : 'e.business_value';
      const w = this.sql.where(accountId, f, [name], raw);
      parts.push(`select ${this.sql.floor(column)} as v, 1 as n from helpdesk_report_events e where ${w.sql}`);
      params.push(...w.params);
    }
    const rank = (p: number, plus: number) => `${this.sql.floor(`(x.total - 1) * ${p} + ${EPSILON}`)} + ${plus}`;
    const hits = QUANTILES.flatMap((p) => [1, 2].map((plus) => `(x.cum - x.n < ${rank(p, plus)} and ${rank(p, plus)} <= x.cum)`)).join(' or ');
    const picked = await this.sql.rows<{ v: unknown; n: unknown; cum: unknown; total: unknown }>(
      `select x.v as v, x.n as n, x.cum as cum, x.total as total from (
         select u.v, u.n, sum(u.n) over (order by u.v) as cum, sum(u.n) over () as total
         from (select g.v as v, sum(g.n) as n from (${parts.join(' union all ')}) g group by g.v) u
       ) x where ${hits}`,
      params,
    );
    if (!picked.length) return;
    const total = Number(picked[0]!.total);
    const rows = picked.map((r) => ({ v: Number(r.v), from: Number(r.cum) - Number(r.n) + 1, to: Number(r.cum) }));
    const ranks = new Map<number, number>();
    for (const p of QUANTILES) {
      const lo = Math.floor((total - 1) * p + EPSILON);
      for (const r of [lo + 1, lo + 2]) {
        const row = rows.find((x) => x.from <= r && r <= x.to);
        if (row) ranks.set(r, row.v);
      }
    }
    const st = of('total')[TIME_METRICS[name]];
    const target = kind === 'wall' ? st : st.business;
    target.median = quantile(total, ranks, 0.5);
    target.p90 = quantile(total, ranks, 0.9);
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
    const conds = [...(this.sql.pg ? [] : [TIME_METRICS_SQL]), 'account_id = ?', 'name = ?', 'at >= ?', 'at < ?'];
    const params: unknown[] = [accountId, name, this.sql.t(f.from), this.sql.t(f.to)];
    if (dim) {
      if (dimValue === null) conds.push(`${dim} is null`);
      else conds.push(`${dim} = ?`), params.push(dimValue);
    }
    if (f.instanceId) conds.push('instance_id = ?'), params.push(f.instanceId);
    if (f.queueId && dim !== 'queue_id') conds.push('queue_id = ?'), params.push(f.queueId);
    if (f.agentId && dim !== 'agent_id') conds.push('agent_id = ?'), params.push(f.agentId);
    const los = QUANTILES.map((p) => Math.floor((n - 1) * p + EPSILON));
    const values = new Map<number, number>();
    if (this.sql.pg) {
      const ranks = los.flatMap((lo) => [lo + 1, lo + 2]);
      const picked = await this.sql.rows<{ rn: unknown; v: unknown }>(
        `select x.rn as rn, x.v as v from (select ${column} as v, row_number() over (order by ${column}) as rn from helpdesk_report_events where ${conds.join(' and ')} order by ${column} limit ${Math.max(...ranks)}) x where x.rn in (${ranks.join(', ')})`,
        params,
      );
      for (const r of picked) values.set(Number(r.rn), Math.floor(Number(r.v)));
    } else {
      for (const lo of los) {
        const picked = await this.sql.rows<{ v: unknown }>(`select ${column} as v from helpdesk_report_events indexed by ${index} where ${conds.join(' and ')} order by ${column} limit 2 offset ${lo}`, params);
        picked.forEach((r, i) => values.set(lo + 1 + i, Math.floor(Number(r.v))));
      }
    }
    return [quantile(n, values, QUANTILES[0]!), quantile(n, values, QUANTILES[1]!)];
  }

  /** Quantiles per label (a join the indexes cannot walk): a window over the period's durations. */
  private async windowQuantiles(accountId: string, f: ReportFilter, grouping: Grouping, of: (k: unknown) => Figures) {
    const { key, by, join } = this.sql.groupKey(grouping);
    for (const column of ['value', 'business_value'] as const) {
      const q = this.sql.where(accountId, f, Object.keys(TIME_METRICS));
      // The epsilon keeps the database's floor and quantile()'s equal where (n - 1) * p is a whole number.
      const candidates = QUANTILES.flatMap((p) => [`x.rn = ${this.sql.floor(`(x.n - 1) * ${p} + ${EPSILON}`)} + 1`, `x.rn = ${this.sql.floor(`(x.n - 1) * ${p} + ${EPSILON}`)} + 2`]).join(' or ');
      const picked = await this.sql.rows<{ k: unknown; name: TimeMetric; rn: unknown; n: unknown; v: unknown }>(
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
}
