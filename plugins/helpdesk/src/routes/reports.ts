import { badRequest, createRouter, z, type Caller, type RouteContext } from '@plugchat/core';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import type { ReportContribution } from '../api.js';
import { LabelSchema, type ReportEventName } from '../entities.js';
import type { Helpdesk } from '../services/helpdesk.js';
import { DRILL, emptyFigures, type Figures, type Grouping, type ReportFilter, type Reports, type Stat } from '../services/reports/index.js';
import { timeZone } from './schemas.js';

const MAX_DAYS = 400;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const instant = z.union([z.string().datetime({ offset: true }), z.string().regex(DAY)], { error: 'must be a date (2026-11-01) or an ISO 8601 date-time (2026-11-01T00:00:00-03:00)' });
const filters = {
  from: instant.optional().describe('start of the period, inclusive (a date: its midnight in the time zone); default: 6 days before today'),
  to: instant.optional().describe('end of the period, exclusive (a date: that whole day is included); default: now'),
  timeZone: timeZone.optional().describe("day boundaries; default: the account's time zone"),
  instanceId: z.string().max(64).optional(),
  queueId: z.string().max(64).optional(),
  agentId: z.string().max(64).optional().describe('keeps the events that name this agent'),
  labelId: z.string().max(64).optional(),
  format: z.enum(['json', 'csv']).default('json').describe('csv: the table as a CSV download'),
};
const periodQuery = z.object(filters).strict();
const seriesQuery = z.object({ ...filters, granularity: z.enum(['hour', 'day', 'week']).default('day') }).strict();
const eventsQuery = z
  .object({
    ...filters,
    metric: z.enum(Object.keys(DRILL) as [string, ...string[]]).describe('the figure to drill into'),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
type PeriodQuery = z.infer<typeof periodQuery>;

const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
const statColumns = (prefix: string, s: Stat) => ({
  [`${prefix}Count`]: s.count,
  [`${prefix}Avg`]: round(s.avg),
  [`${prefix}Median`]: round(s.median),
  [`${prefix}P90`]: round(s.p90),
  [`${prefix}BusinessAvg`]: round(s.business.avg),
  [`${prefix}BusinessMedian`]: round(s.business.median),
  [`${prefix}BusinessP90`]: round(s.business.p90),
});
/** A figures row flattened for CSV: one column per number, durations in seconds. */
const flat = (f: Figures) => ({
  created: f.created,
  reopened: f.reopened,
  resolved: f.resolved,
  messagesIn: f.messagesIn,
  messagesOut: f.messagesOut,
  assigned: f.assigned,
  transfersIn: f.transfersIn,
  transfersOut: f.transfersOut,
  ...statColumns('firstResponse', f.firstResponse),
  ...statColumns('replyTime', f.replyTime),
  ...statColumns('resolution', f.resolution),
  ...statColumns('assignmentWait', f.assignmentWait),
});

/** Reports for supervisors and admins: figures of a period, series, heatmap, top clients, drill-down, live overview; CSV for every table. */
export function reportsRouter(hd: Helpdesk, reports: Reports, contributions: () => ReportContribution[]) {
  const spec = <T extends object>(summary: string, extra: T) => ({ summary, role: 'supervisor' as const, tags: ['helpdesk reports'], ...extra });

  /** The period and filters, checked: the period's order and length, and that what they name is the account's. */
  const resolve = async (caller: Caller, q: PeriodQuery): Promise<ReportFilter & { zone: string }> => {
    const zone = q.timeZone ?? (await hd.timeZone(caller.accountId));
    const day = (d: string) => DateTime.fromISO(d, { zone }).startOf('day');
    const to = !q.to ? hd.clock.now() : DAY.test(q.to) ? day(q.to).plus({ days: 1 }).toJSDate() : new Date(q.to);
    const from = !q.from ? DateTime.fromJSDate(to, { zone }).startOf('day').minus({ days: 6 }).toJSDate() : DAY.test(q.from) ? day(q.from).toJSDate() : new Date(q.from);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw badRequest('That date does not exist.', [{ path: Number.isNaN(from.getTime()) ? 'query.from' : 'query.to', message: 'is not a real date' }], 'bad_period');
    if (from.getTime() >= to.getTime()) throw badRequest('The period must end after it starts.', [{ path: 'query.to', message: 'is not after from' }], 'bad_period');
    if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000) throw badRequest(`A report covers at most ${MAX_DAYS} days.`, [{ path: 'query.from', message: `more than ${MAX_DAYS} days before to` }], 'bad_period');
    return { from, to, zone, instanceId: q.instanceId, queueId: q.queueId, agentId: q.agentId, labelId: q.labelId };
  };

  const csv = (c: RouteContext, name: string, rows: Record<string, unknown>[], columns?: string[]) => {
    c.koa.type = 'text/csv; charset=utf-8';
    c.koa.attachment(`${name}.csv`);
    // A BOM so that spreadsheet programs read the accents of names right.
    c.koa.body = '\uFEFF' + stringify(rows, { header: true, columns: columns ?? (rows[0] ? Object.keys(rows[0]) : ['empty']), cast: { date: (d) => d.toISOString(), boolean: (b) => (b ? 'true' : 'false') } });
    return undefined;
  };
  const period = (f: ReportFilter & { zone: string }) => ({ from: f.from.toISOString(), to: f.to.toISOString(), timeZone: f.zone });

  const names = async (accountId: string, grouping: Grouping): Promise<Map<string, string>> => {
    if (grouping === 'agent') return new Map((await hd.ctx.users.list(accountId)).map((u) => [u.id, u.name]));
    if (grouping === 'queue') return new Map([...(await hd.setup(accountId)).queues.values()].map((q) => [q.id, q.name]));
    if (grouping === 'label') return new Map((await hd.units.read(accountId).find(LabelSchema, {})).map((l) => [l.id, l.name]));
    return new Map();
  };

  const table = (grouping: Exclude<Grouping, 'total'>, idField: string, file: string) => async (c: RouteContext<unknown, PeriodQuery>) => {
    const f = await resolve(c.auth, c.query);
    const [figures, label] = await Promise.all([reports.figures(c.auth.accountId, f, grouping), names(c.auth.accountId, grouping)]);
    // Every agent has a row, also one with nothing in the period.
    if (grouping === 'agent' && !f.agentId) for (const id of label.keys()) if (!figures.has(id)) figures.set(id, emptyFigures());
    const rows = [...figures.entries()]
      .map(([id, fig]) => ({ id, name: id === null ? null : (label.get(id) ?? id), figures: fig }))
      .sort((a, b) => b.figures.resolved - a.figures.resolved || b.figures.messagesOut - a.figures.messagesOut || String(a.name).localeCompare(String(b.name)));
    if (c.query.format === 'csv') return csv(c, file, rows.map((r) => ({ [idField]: r.id ?? '', name: r.name ?? '', ...flat(r.figures) })));
    return { period: period(f), rows: rows.map((r) => ({ [idField]: r.id, name: r.name, ...r.figures })) };
  };

  return createRouter('/api/helpdesk/reports')
    .get('/summary', spec('Every figure of a period: attendances, messages, first response, reply time, resolution and assignment wait (avg, median, p90, business hours)', { query: periodQuery }), async (c) => {
      const f = await resolve(c.auth, c.query);
      const figures = (await reports.figures(c.auth.accountId, f, 'total')).get('total')!;
      const contributed = await Promise.all(
        contributions().map(async (k) => {
          try {
            return { id: k.id, title: k.title, figures: await k.figures({ accountId: c.auth.accountId, from: f.from, to: f.to, timeZone: f.zone, instanceId: f.instanceId, queueId: f.queueId, agentId: f.agentId, labelId: f.labelId }) };
          } catch (err) {
            hd.ctx.logger.error({ err, contribution: k.id }, 'report figures failed');
            return { id: k.id, title: k.title, figures: [], error: 'These figures could not be computed; see the server log.' };
          }
        }),
      );
      if (c.query.format === 'csv') return csv(c, 'summary', [flat(figures)]);
      return { period: period(f), figures, contributed };
    })
    .get('/agents', spec('Figures per agent, from the events that name the agent', { query: periodQuery }), table('agent', 'agentId', 'agents'))
    .get('/queues', spec('Figures per queue (the queue at the time of each event)', { query: periodQuery }), table('queue', 'queueId', 'queues'))
    .get('/labels', spec("Figures per label (the attendance's labels now)", { query: periodQuery }), table('label', 'labelId', 'labels'))
    .get('/series', spec('Counts and averages per hour, day or week of the period in the time zone', { query: seriesQuery }), async (c) => {
      const f = await resolve(c.auth, c.query);
      const points = await reports.series(c.auth.accountId, f, c.query.granularity, f.zone);
      if (c.query.format === 'csv') return csv(c, `series-${c.query.granularity}`, points.map((p) => ({ ...p, firstResponseAvg: round(p.firstResponseAvg), resolutionAvg: round(p.resolutionAvg) })));
      return { period: period(f), granularity: c.query.granularity, points };
    })
    .get('/heatmap', spec('Customer messages and new attendances per weekday (0 = Sunday) and hour in the time zone', { query: periodQuery }), async (c) => {
      const f = await resolve(c.auth, c.query);
      const cells = await reports.heatmap(c.auth.accountId, f, f.zone);
      if (c.query.format === 'csv') return csv(c, 'busiest-hours', cells.flatMap((row, day) => row.map((cell, hour) => ({ weekday: day, hour, ...cell }))));
      return { period: period(f), cells };
    })
    .get('/top-clients', spec('The 10 contacts who sent the most messages in the period (ties: the latest last message first)', { query: periodQuery }), async (c) => {
      const f = await resolve(c.auth, c.query);
      const rows = await reports.topClients(c.auth.accountId, f);
      if (c.query.format === 'csv') return csv(c, 'top-clients', rows, ['rank', 'contactId', 'name', 'phone', 'messages', 'attendances', 'lastMessageAt']);
      return { period: period(f), rows };
    })
    .get('/events', spec('The events behind a figure, with their attendances (drill-down), newest first', { query: eventsQuery }), async (c) => {
      const f = await resolve(c.auth, c.query);
      const name = DRILL[c.query.metric] as ReportEventName;
      const page = await reports.events(c.auth.accountId, f, name, { offset: c.query.offset, limit: c.query.limit });
      if (c.query.format === 'csv') return csv(c, `${c.query.metric}`, page.items, ['number', 'attendanceId', 'status', 'contactName', 'phone', 'at', 'seconds', 'businessSeconds', 'agentId', 'fromAgentId', 'queueId']);
      return { period: period(f), metric: c.query.metric, ...page };
    })
    .get('/live', spec('Now: open, pending, snoozed, unassigned and unattended attendances, and who is online', { query: z.object({ instanceId: filters.instanceId, queueId: filters.queueId, agentId: filters.agentId, labelId: filters.labelId }).strict() }), async (c) =>
      reports.live(c.auth.accountId, c.query),
    );
}
