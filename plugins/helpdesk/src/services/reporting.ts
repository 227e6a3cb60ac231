import type { PluginContext } from '@plugchat/core';
import { PreferencesSchema, QueueSchema, ReportEventSchema, type Attendance, type ReportEvent, type ReportEventName } from '../entities.js';
import type { Settings } from '../settings.js';
import { businessSeconds } from './businessHours.js';
import type { Work } from './unit.js';

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
  }
}
