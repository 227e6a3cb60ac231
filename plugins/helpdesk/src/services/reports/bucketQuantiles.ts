import { TIME_METRICS_SQL } from '../../migrations.js';
import { bucketSql, bucketWidth } from './buckets.js';
import type { Figures } from './figures.js';
import { EPSILON, inBatches, QUANTILES, quantile, TIME_METRICS, type TimeMetric } from './metrics.js';
import type { Grouping, ReportFilter, ReportSql } from './sql.js';

/** One bucket's events to read in value order: `limit` of them from `offset`, the group's ranks past `before`. */
interface Walk {
  group: { k: string; name: string; kind: 'wall' | 'business'; values: Map<number, number> };
  before: number;
  from: number;
  to: number;
  offset: number;
  limit: number;
}

/**
 * Medians and p90 per agent or per queue from the monthly bucket counts (helpdesk_report_buckets,
 * see buckets.ts) and a short walk of the bucket that holds each rank.
 */
export class BucketQuantiles {
  constructor(private readonly sql: ReportSql) {}

  /** Which bucket counts answer these quantiles (per agent or per queue, at most filtered to one of them), or none. */
  dim(f: ReportFilter, grouping: Grouping): { dim: 'agent' | 'queue'; id?: string } | null {
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
  async quantiles(accountId: string, f: ReportFilter, grouping: Grouping, b: { dim: 'agent' | 'queue'; id?: string }, of: (k: unknown) => Figures) {
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
}
