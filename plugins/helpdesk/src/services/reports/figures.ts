import type { ReportEventName } from '../../entities.js';
import { TIME_METRICS_SQL } from '../../migrations.js';
import { bucketSql, bucketWidth } from './buckets.js';
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

const EPSILON = 1e-9;

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

/** The quantiles every duration figure reports: the median and the 90th percentile. */
const QUANTILES = [0.5, 0.9];

/**
 * The figures of a period: counts and sums from the rollups and the events at the edges;
 * medians and p90 from the duration histograms (the whole account), the rank indexes (per
 * agent or queue) or a window over the events (labels).
 */
export class ReportFigures {
  constructor(private readonly sql: ReportSql) {}

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
    const buckets = this.bucketDim(f, grouping);
    const bucketed = buckets ? this.bucketQuantiles(accountId, f, grouping, buckets, of) : undefined;
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
    const histogram = this.histogramDim(f, grouping);
    if (grouping === 'label' || f.labelId) await this.windowQuantiles(accountId, f, grouping, of);
    else if (histogram) {
      const total = of('total');
      const jobs = (Object.keys(TIME_METRICS) as TimeMetric[]).flatMap((name) =>
        (['wall', 'business'] as const).filter((kind) => kind === 'wall' || !sameClock(total[TIME_METRICS[name]])).map((kind) => () => this.histogramQuantiles(accountId, f, grouping, histogram, name, kind, of)),
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

  /** Which duration histogram answers these quantiles (all, per agent or per queue), or none for other filter mixes. */
  private histogramDim(f: ReportFilter, grouping: Grouping): { dim: 'all' | 'agent' | 'queue'; id?: string } | null {
    // Measured on a year of 100,000 attendances: the histogram wins for the whole account, where
    // it folds many durations into each second; per agent or queue it hardly folds anything and
    // walking the rank indexes is faster.
    if (grouping !== 'total' || f.instanceId || f.labelId || f.agentId || f.queueId) return null;
    return { dim: 'all' };
  }

  /** Which bucket counts answer these quantiles (per agent or per queue, at most filtered to one of them), or none. */
  private bucketDim(f: ReportFilter, grouping: Grouping): { dim: 'agent' | 'queue'; id?: string } | null {
    if (f.instanceId || f.labelId) return null;
    if (grouping === 'agent' && !f.queueId) return { dim: 'agent', id: f.agentId };
    if (grouping === 'queue' && !f.agentId) return { dim: 'queue', id: f.queueId };
    if (grouping !== 'total' || !f.agentId === !f.queueId) return null;
    return f.agentId ? { dim: 'agent', id: f.agentId } : { dim: 'queue', id: f.queueId };
  }

  /**
   * Median and p90 per agent or queue: the bucket counts of the whole UTC months in the period
   * plus the events of the rest say which bucket holds each rank wanted and how far into it;
   * then only those buckets' events are walked in value order (one statement per clock on
   * PostgreSQL, a short indexed walk each on SQLite).
   */
  private async bucketQuantiles(accountId: string, f: ReportFilter, grouping: Grouping, b: { dim: 'agent' | 'queue'; id?: string }, of: (k: unknown) => Figures) {
    const column = b.dim === 'agent' ? 'agent_id' : 'queue_id';
    const { months } = this.sql.segments(f);
    const raw: [Date, Date][] = months ? ([[f.from, months[0]], [months[1], f.to]] as [Date, Date][]).filter(([x, y]) => x < y) : [[f.from, f.to]];
    type Counted = { k: string; name: TimeMetric; kind: 'wall' | 'business'; b: unknown; n: unknown };
    const queries: Promise<Counted[]>[] = [];
    if (months) {
      queries.push(
        this.sql.rows<Counted>(
          `select r.dim_id as k, r.name as name, r.kind as kind, r.bucket as b, sum(r.n) as n from helpdesk_report_buckets r
           where r.account_id = ? and r.dim = ? and r.month >= ? and r.month < ?${b.id ? ' and r.dim_id = ?' : ''} group by r.dim_id, r.name, r.kind, r.bucket`,
          [accountId, b.dim, this.sql.t(months[0]), this.sql.t(months[1]), ...(b.id ? [b.id] : [])],
        ),
      );
    }
    for (const [kind, value] of raw.length ? ([['wall', 'e.value'], ['business', 'e.business_value']] as const) : []) {
      const w = this.sql.where(accountId, f, Object.keys(TIME_METRICS), raw);
      const bucket = bucketSql(this.sql.floor(value), (x) => this.sql.floor(x));
      queries.push(this.sql.rows<Counted>(`select coalesce(e.${column}, '') as k, e.name as name, '${kind}' as kind, ${bucket} as b, count(*) as n from helpdesk_report_events e where ${w.sql} group by coalesce(e.${column}, ''), e.name, ${bucket}`, w.params));
    }
    // The months' counts and the edges' are separate statements, which PostgreSQL answers side by side.
    type Group = { k: string; name: TimeMetric; kind: 'wall' | 'business'; buckets: Map<number, number>; values: Map<number, number> };
    const groups = new Map<string, Group>();
    for (const r of (await Promise.all(queries)).flat()) {
      const id = `${r.k}\u0000${r.name}\u0000${r.kind}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { k: r.k, name: r.name, kind: r.kind, buckets: new Map(), values: new Map() }));
      g.buckets.set(Number(r.b), (g.buckets.get(Number(r.b)) ?? 0) + Number(r.n));
    }
    // Which ranks each group needs, and the walks that read them.
    const walks: Walk[] = [];
    const totals = new Map<Group, number>();
    for (const g of groups.values()) {
      const buckets = [...g.buckets].sort(([x], [y]) => x - y);
      const total = buckets.reduce((sum, [, n]) => sum + n, 0);
      totals.set(g, total);
      const ranks = [...new Set(QUANTILES.flatMap((p) => [0, 1].map((plus) => Math.floor((total - 1) * p + EPSILON) + 1 + plus)))].filter((r) => r <= total);
      let before = 0;
      for (const [start, n] of buckets) {
        // Neighbouring ranks share a walk; the median's and the p90's each get their own even in one bucket.
        for (const r of ranks.filter((x) => x > before && x <= before + n)) {
          const last = walks.at(-1);
          if (last?.group === g && last.before === before && last.offset + last.limit === r - before - 1) last.limit++;
          else walks.push({ group: g, before, from: start, to: start + bucketWidth(start), offset: r - before - 1, limit: 1 });
        }
        before += n;
      }
    }
    await this.walk(accountId, f, column, walks);
    for (const g of groups.values()) {
      const total = totals.get(g)!;
      const st = of(grouping === 'total' ? 'total' : g.k === '' ? null : g.k)[TIME_METRICS[g.name]];
      const target = g.kind === 'wall' ? st : st.business;
      target.median = quantile(total, g.values, 0.5);
      target.p90 = quantile(total, g.values, 0.9);
    }
  }

  /** Reads each walk's values (its bucket's events of the period in value order, from its offset) into its group. */
  private async walk(accountId: string, f: ReportFilter, dim: 'agent_id' | 'queue_id', walks: Walk[]) {
    const period = [this.sql.t(f.from), this.sql.t(f.to)];
    const statements: (() => Promise<void>)[] = [];
    for (const kind of ['wall', 'business'] as const) {
      const column = kind === 'wall' ? 'value' : 'business_value';
      for (const isNull of [false, true]) {
        const these = walks.filter((w) => w.group.kind === kind && (w.group.k === '') === isNull);
        if (these.length) statements.push(() => this.walkSome(accountId, period, dim, kind, column, isNull, these));
      }
    }
    // PostgreSQL answers the clocks side by side on its pool; SQLite has one connection anyway.
    await inBatches(statements, this.sql.pg ? 4 : 1);
  }

  /** The walks of one clock and one kind of group key (an id, or none: the events without agent or queue). */
  private async walkSome(accountId: string, period: unknown[], dim: 'agent_id' | 'queue_id', kind: 'wall' | 'business', column: 'value' | 'business_value', isNull: boolean, these: Walk[]) {
    const keep = (w: Walk, values: unknown[]) =>
      values
        .map(Number)
        .sort((x, y) => x - y)
        .forEach((v, i) => w.group.values.set(w.before + w.offset + 1 + i, Math.floor(v)));
    const key = isNull ? `e.${dim} is null` : `e.${dim} = ${this.sql.pg ? 't.gk' : '?'}`;
    if (!this.sql.pg) {
      const index = `helpdesk_report_rank_${dim.replace('_id', '')}_${kind}`;
      for (const w of these) {
        const picked = await this.sql.rows<{ v: unknown }>(
          `select e.${column} as v from helpdesk_report_events e indexed by ${index}
           where e.${TIME_METRICS_SQL} and e.account_id = ? and e.name = ? and ${key} and e.${column} >= ? and e.${column} < ? and e.at >= ? and e.at < ?
           order by e.${column} limit ? offset ?`,
          [accountId, w.group.name, ...(isNull ? [] : [w.group.k]), w.from, w.to, ...period, w.limit, w.offset],
        );
        keep(w, picked.map((r) => r.v));
      }
      return;
    }
    // One statement: a lateral walk per bucket. The metric names are repeated literally so the
    // planner proves the rank index's condition from them.
    const rows = these.map((_, i) => `(${i}, ?::text, ?::text, ?::float8, ?::float8, ?::int, ?::int)`).join(', ');
    const picked = await this.sql.rows<{ i: number; v: unknown }>(
      `select t.i as i, x.v as v from (values ${rows}) t(i, gk, gname, lo, hi, off, lim)
       cross join lateral (select e.${column} as v from helpdesk_report_events e
         where e.${TIME_METRICS_SQL} and e.account_id = ? and e.name = t.gname and ${key} and e.${column} >= t.lo and e.${column} < t.hi and e.at >= ? and e.at < ?
         order by e.${column} offset t.off limit t.lim) x`,
      [...these.flatMap((w) => [w.group.k, w.group.name, w.from, w.to, w.offset, w.limit]), accountId, ...period],
    );
    const byWalk = new Map<number, unknown[]>();
    for (const r of picked) {
      const list = byWalk.get(Number(r.i));
      if (list) list.push(r.v);
      else byWalk.set(Number(r.i), [r.v]);
    }
    these.forEach((w, i) => keep(w, byWalk.get(i) ?? []));
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
    const { months } = this.sql.segments(f);
    const raw: [Date, Date][] = months ? ([[f.from, months[0]], [months[1], f.to]] as [Date, Date][]).filter(([a, b]) => a < b) : [[f.from, f.to]];
    const parts: string[] = [];
    const params: unknown[] = [];
    if (months) {
      parts.push(`select h.dim_id as k, h.seconds as v, h.n as n from helpdesk_report_durations h where h.account_id = ? and h.dim = ? and h.name = ? and h.kind = ? and h.month >= ? and h.month < ?${h.id ? ' and h.dim_id = ?' : ''}`);
      params.push(accountId, h.dim, name, kind, this.sql.t(months[0]), this.sql.t(months[1]), ...(h.id ? [h.id] : []));
    }
    if (raw.length) {
      const column = kind === 'wall' ? 'e.value' : 'e.business_value';
      const key = h.dim === 'agent' ? "coalesce(e.agent_id, '')" : h.dim === 'queue' ? "coalesce(e.queue_id, '')" : "''";
      const w = this.sql.where(accountId, { ...f, agentId: h.dim === 'agent' ? h.id : undefined, queueId: h.dim === 'queue' ? h.id : undefined }, [name], raw);
      parts.push(`select ${key} as k, ${this.sql.floor(column)} as v, 1 as n from helpdesk_report_events e where ${w.sql}`);
      params.push(...w.params);
    }
    const rank = (p: number, plus: number) => `${this.sql.floor(`(x.total - 1) * ${p} + ${EPSILON}`)} + ${plus}`;
    const hits = QUANTILES.flatMap((p) => [1, 2].map((plus) => `(x.cum - x.n < ${rank(p, plus)} and ${rank(p, plus)} <= x.cum)`)).join(' or ');
    const picked = await this.sql.rows<{ k: string; v: unknown; n: unknown; cum: unknown; total: unknown }>(
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

/** One bucket's events to read in value order: `limit` of them from `offset`, the group's ranks past `before`. */
interface Walk {
  group: { k: string; name: string; kind: 'wall' | 'business'; values: Map<number, number> };
  before: number;
  from: number;
  to: number;
  offset: number;
  limit: number;
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
