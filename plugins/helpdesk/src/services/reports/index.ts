import { AgentSchema, AttendanceLabelSchema, AttendanceSchema, ContactSchema, type ReportEventName } from '../../entities.js';
import type { Helpdesk } from '../helpdesk.js';
import { displayName } from '../views.js';
import { ReportFigures, type Figures } from './figures.js';
import { ReportSql, type Grouping, type ReportFilter } from './sql.js';
import { ReportTimes, type Granularity } from './time.js';

export { DRILL, emptyFigures, type Figures, type Stat } from './figures.js';
export { quantile } from './metrics.js';
export type { Grouping, ReportFilter } from './sql.js';
export type { Granularity } from './time.js';

/** The helpdesk's reports over its reporting events and their rollups (design notes, "Metrics"). */
export class Reports {
  private readonly sql: ReportSql;
  private readonly figuresOf: ReportFigures;
  private readonly times: ReportTimes;

  constructor(hd: Helpdesk) {
    this.sql = new ReportSql(hd);
    this.figuresOf = new ReportFigures(this.sql);
    this.times = new ReportTimes(this.sql);
  }

  figures(accountId: string, f: ReportFilter, grouping: Grouping): Promise<Map<string | null, Figures>> {
    return this.figuresOf.figures(accountId, f, grouping);
  }

  series(accountId: string, f: ReportFilter, granularity: Granularity, zone: string) {
    return this.times.series(accountId, f, granularity, zone);
  }

  heatmap(accountId: string, f: ReportFilter, zone: string) {
    return this.times.heatmap(accountId, f, zone);
  }

  /**
   * The contacts who sent the most messages in the period (ties: the most recent last message
   * first), with the attendances those messages went to and their last message.
   */
  async topClients(accountId: string, f: ReportFilter, limit = 10) {
    type TopRow = { contact_id: string; n: unknown; last: unknown };
    const order = `order by sum(x.n) desc, max(x.last) desc, x.contact_id limit ${Number(limit)}`;
    let top: TopRow[];
    const { months, days: dayRanges, edges: dayEdges } = this.sql.segments(f);
    // The per-contact rollup is daily: whole months count as their days.
    const days: [Date, Date] | null = months ? [dayRanges.find((r) => r[1].getTime() === months[0].getTime())?.[0] ?? months[0], dayRanges.find((r) => r[0].getTime() === months[1].getTime())?.[1] ?? months[1]] : (dayRanges[0] ?? null);
    const edges = dayEdges;
    if (days && !f.instanceId && !f.queueId && !f.agentId && !f.labelId) {
      // Whole days from the per-contact rollup, the edges from the events.
      const parts = ['select c.contact_id as contact_id, c.n as n, c.last_at as last from helpdesk_report_contact_daily c where c.account_id = ? and c.day >= ? and c.day < ?'];
      const params: unknown[] = [accountId, this.sql.t(days[0]), this.sql.t(days[1])];
      if (edges.length) {
        const w = this.sql.where(accountId, f, ['message_in'], edges);
        parts.push(`select e.contact_id as contact_id, 1 as n, e.at as last from helpdesk_report_events e where ${w.sql}`);
        params.push(...w.params);
      }
      top = await this.sql.rows<TopRow>(`select x.contact_id as contact_id, sum(x.n) as n, max(x.last) as last from (${parts.join(' union all ')}) x group by x.contact_id ${order}`, params);
    } else {
      const w = this.sql.where(accountId, f, ['message_in']);
      top = await this.sql.rows<TopRow>(`select x.contact_id as contact_id, count(*) as n, max(x.last) as last from (select e.contact_id as contact_id, 1 as n, e.at as last from helpdesk_report_events e where ${w.sql}) x group by x.contact_id ${order.replace('sum(x.n)', 'count(*)')}`, w.params);
    }
    if (!top.length) return [];
    const ids = top.map((t) => t.contact_id);
    const a = this.sql.where(accountId, f, ['message_in']);
    const attendances = await this.sql.rows<{ contact_id: string; n: unknown }>(
      `select e.contact_id as contact_id, count(distinct e.attendance_id) as n from helpdesk_report_events e where ${a.sql} and e.contact_id in (${ids.map(() => '?').join(', ')}) group by e.contact_id`,
      [...a.params, ...ids],
    );
    const perContact = new Map(attendances.map((r) => [r.contact_id, Number(r.n)]));
    const contacts = new Map((await this.sql.hd.units.read(accountId).find(ContactSchema, { id: { $in: ids } })).map((c) => [c.id, c]));
    return top.map((t, i) => {
      const c = contacts.get(t.contact_id);
      return {
        rank: i + 1,
        contactId: t.contact_id,
        name: c ? displayName(c) : '',
        phone: c?.phone ?? '',
        messages: Number(t.n),
        attendances: perContact.get(t.contact_id) ?? 0,
        lastMessageAt: new Date(this.sql.ms(t.last)).toISOString(),
      };
    });
  }

  /** The events behind a figure, newest first, with their attendance: the drill-down. */
  async events(accountId: string, f: ReportFilter, name: ReportEventName, opts: { offset: number; limit: number }) {
    const w = this.sql.where(accountId, f, [name]);
    const rows = await this.sql.rows<{ at: unknown; value: unknown; business_value: unknown; attendance_id: string; agent_id: string | null; queue_id: string | null; from_agent_id: string | null; number: unknown; contact_id: string; status: string }>(
      `select e.at, e.value, e.business_value, e.attendance_id, e.agent_id, e.queue_id, e.from_agent_id, a.number, a.contact_id, a.status
       from helpdesk_report_events e join helpdesk_attendances a on a.id = e.attendance_id
       where ${w.sql} order by e.at desc, e.id desc limit ${Number(opts.limit) + 1} offset ${Number(opts.offset)}`,
      w.params,
    );
    const more = rows.length > opts.limit;
    const page = rows.slice(0, opts.limit);
    const contacts = new Map((await this.sql.hd.units.read(accountId).find(ContactSchema, { id: { $in: [...new Set(page.map((r) => r.contact_id))] } })).map((c) => [c.id, c]));
    return {
      items: page.map((r) => ({
        attendanceId: r.attendance_id,
        number: Number(r.number),
        status: r.status,
        contactName: contacts.get(r.contact_id) ? displayName(contacts.get(r.contact_id)!) : '',
        phone: contacts.get(r.contact_id)?.phone ?? '',
        at: new Date(this.sql.ms(r.at)).toISOString(),
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
    const em = this.sql.hd.units.read(accountId);
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
    const users = (await this.sql.hd.ctx.users.list(accountId)).filter((u) => !u.disabled);
    const agents = new Map((await em.find(AgentSchema, {})).map((a) => [a.userId, a]));
    const counts = await this.sql.hd.assignment.openCounts({ em }, users.map((u) => u.id));
    const now = this.sql.hd.clock.now();
    const people = users.map((u) => ({
      userId: u.id,
      name: u.name,
      status: this.sql.hd.assignment.effectiveStatus(agents.get(u.id), now),
      open: counts.get(u.id) ?? 0,
      capacity: this.sql.hd.assignment.capacityOf(agents.get(u.id)),
    }));
    return { open, pending, snoozed, unassigned, unattended, agentsOnline: people.filter((p) => p.status === 'online').length, agents: people };
  }
}
