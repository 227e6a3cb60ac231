import type { PluginContext } from '@plugchat/core';
import { PreferencesSchema, QueueSchema, ReportEventSchema, type Attendance, type ReportEvent, type ReportEventName } from '../entities.js';
import type { Settings } from '../settings.js';
import { businessSeconds } from './businessHours.js';
import { bucketOf } from './reports/buckets.js';
import type { Work } from './unit.js';

/** The events that carry a duration. */
const DURATIONS = new Set<ReportEventName>(['assignment_wait', 'first_response', 'reply_time', 'resolution']);

export interface Recorded {
  /** Where the measured time started (time metrics); the event's own time is the unit's. */
  since?: Date | string | null;
  agentId?: string | null;
  fromAgentId?: string | null;
  fromQueueId?: string | null;
}

/**
 * Writes a reporting event in the unit of work of the change it records, so a crash or a
 * retried unit never counts it twice or loses it. Time metrics also get their business-hours
 * value, measured against the hours of the attendance's queue at that moment.
 */
export class Reporting {
  constructor(private readonly ctx: PluginContext<Settings>) {}

  async record(w: Work, att: Attendance, name: ReportEventName, r: Recorded = {}): Promise<void> {
    let value = 0;
    let businessValue = 0;
    if (r.since) {
      const since = new Date(r.since);
      value = Math.max(0, (w.now.getTime() - since.getTime()) / 1000);
      // Read through the unit's own manager: on SQLite another connection would wait for this one.
      const queue = att.queueId ? await w.em.findOne(QueueSchema, { id: att.queueId }) : null;
      const hours = queue?.businessHours;
      const zone = hours?.schedule.length && !hours.timeZone ? ((await w.em.findOne(PreferencesSchema, { accountId: att.accountId }))?.timeZone ?? this.ctx.settings.get('helpdesk.timeZone')) : 'UTC';
      businessValue = businessSeconds(hours, since, w.now, zone);
    }
    const event: ReportEvent = {
      accountId: att.accountId,
      name,
      at: w.now,
      value,
      businessValue,
      attendanceId: att.id,
      contactId: att.contactId,
      instanceId: att.instanceId,
      queueId: att.queueId,
      agentId: r.agentId ?? null,
      fromQueueId: r.fromQueueId ?? null,
      fromAgentId: r.fromAgentId ?? null,
    };
    await w.em.insert(ReportEventSchema, event);
    await this.rollUp(w, event);
  }

  /** Adds the event to the daily rollups, in the same transaction (so they never disagree with the events). */
  private async rollUp(w: Work, e: ReportEvent): Promise<void> {
    const pg = this.ctx.db.kind === 'postgresql';
    const day = new Date(Date.UTC(e.at.getUTCFullYear(), e.at.getUTCMonth(), e.at.getUTCDate()));
    const t = (d: Date) => (pg ? d : d.getTime());
    const run = (sql: string, params: unknown[]) => w.em.getConnection().execute(sql, params, 'run', w.em.getTransactionContext());
    const month = new Date(Date.UTC(e.at.getUTCFullYear(), e.at.getUTCMonth(), 1));
    for (const [table, column, start] of [
      ['helpdesk_report_daily', 'day', day],
      ['helpdesk_report_monthly', 'month', month],
    ] as const) {
      await run(
        `insert into ${table} (account_id, ${column}, name, instance_id, queue_id, agent_id, n, s, sb) values (?, ?, ?, ?, ?, ?, 1, ?, ?)
         on conflict (account_id, ${column}, name, instance_id, queue_id, agent_id)
         do update set n = ${table}.n + 1, s = ${table}.s + excluded.s, sb = ${table}.sb + excluded.sb`,
        [e.accountId, t(start), e.name, e.instanceId, e.queueId ?? '', e.agentId ?? '', e.value, e.businessValue],
      );
    }
    if (DURATIONS.has(e.name)) {
      for (const [kind, value] of [
        ['wall', e.value],
        ['business', e.businessValue],
      ] as const) {
        await run(
          `insert into helpdesk_report_durations (account_id, dim, name, kind, month, dim_id, seconds, n) values (?, 'all', ?, ?, ?, '', ?, 1)
           on conflict (account_id, dim, name, kind, month, dim_id, seconds) do update set n = helpdesk_report_durations.n + 1`,
          [e.accountId, e.name, kind, t(month), Math.floor(value)],
        );
        for (const [dim, id] of [
          ['agent', e.agentId ?? ''],
          ['queue', e.queueId ?? ''],
        ] as const) {
          await run(
            `insert into helpdesk_report_buckets (account_id, dim, dim_id, name, kind, month, bucket, n) values (?, ?, ?, ?, ?, ?, ?, 1)
             on conflict (account_id, dim, name, kind, month, dim_id, bucket) do update set n = helpdesk_report_buckets.n + 1`,
            [e.accountId, dim, id, e.name, kind, t(month), bucketOf(value)],
          );
        }
      }
    }
    if (e.name !== 'message_in') return;
    await run(
      `insert into helpdesk_report_contact_daily (account_id, day, contact_id, n, last_at) values (?, ?, ?, 1, ?)
       on conflict (account_id, day, contact_id)
       do update set n = helpdesk_report_contact_daily.n + 1, last_at = ${pg ? 'greatest' : 'max'}(helpdesk_report_contact_daily.last_at, excluded.last_at)`,
      [e.accountId, t(day), e.contactId, t(e.at)],
    );
  }
}
