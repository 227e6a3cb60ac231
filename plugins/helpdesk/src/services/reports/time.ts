import { badRequest } from '@plugchat/core';
import { DateTime } from 'luxon';
import { QUARTER_HOUR, type ReportFilter, type ReportSql } from './sql.js';

export type Granularity = 'hour' | 'day' | 'week';

const MAX_BUCKETS = 2_000;

/** Reports over time: counts per local hour, day or week, and the busiest hours of the week. */
export class ReportTimes {
  constructor(private readonly sql: ReportSql) {}

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
    const w = this.sql.where(accountId, f, names);
    const bucket = this.sql.pg ? `floor(extract(epoch from e.at) / 900)::bigint` : `(e.at / ${QUARTER_HOUR})`;
    const rows = await this.sql.rows<{ b: unknown; name: string; n: unknown; s: unknown }>(
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
    const w = this.sql.where(accountId, f, ['message_in', 'created']);
    const bucket = this.sql.pg ? `floor(extract(epoch from e.at) / 900)::bigint` : `(e.at / ${QUARTER_HOUR})`;
    const rows = await this.sql.rows<{ b: unknown; name: string; n: unknown }>(
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
