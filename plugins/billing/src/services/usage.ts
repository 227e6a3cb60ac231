import { DateTime } from 'luxon';

/** A month in the billing time zone: [start, end) as instants, and its number of days. */
export function monthOf(period: string, zone: string) {
  const start = DateTime.fromISO(`${period}-01`, { zone }).startOf('month');
  if (!start.isValid) throw new Error(`bad period ${period}`);
  return { start: start.toJSDate(), end: start.plus({ months: 1 }).toJSDate(), days: start.daysInMonth! };
}

/** The month before the one `at` falls in, as "YYYY-MM". */
export function previousPeriod(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).startOf('month').minus({ months: 1 }).toFormat('yyyy-MM');
}

/** The end of the month `at` falls in (the first instant of the next month). */
export function endOfMonth(at: Date, zone: string): Date {
  return DateTime.fromJSDate(at, { zone }).startOf('month').plus({ months: 1 }).toJSDate();
}

/**
 * The days of the month on which an instance was subscribed at some moment: each span [start, end)
 * covers the local dates from its start's to the date of its last instant, clipped to the month.
 */
export function daysUsed(spans: { startAt: Date; endAt: Date | null }[], period: string, zone: string): number {
  const month = monthOf(period, zone);
  const days = new Set<number>();
  for (const s of spans) {
    const from = Math.max(new Date(s.startAt).getTime(), month.start.getTime());
    const to = Math.min(s.endAt ? new Date(s.endAt).getTime() : Infinity, month.end.getTime());
    if (to <= from) continue;
    const first = DateTime.fromMillis(from, { zone }).day;
    const last = DateTime.fromMillis(to - 1, { zone }).day;
    for (let d = first; d <= last; d++) days.add(d);
  }
  return days.size;
}

/**
 * The amount of a line: the whole price for a whole month; by day, price × days ÷ days in the
 * month rounded half up to the cent (integer arithmetic, no floating point); "month": any use
 * costs the whole month.
 */
export function lineAmount(priceCents: number, days: number, daysInMonth: number, proration: 'daily' | 'month'): number {
  if (days <= 0) return 0;
  if (proration === 'month' || days >= daysInMonth) return priceCents;
  return Math.floor((2 * priceCents * days + daysInMonth) / (2 * daysInMonth));
}
