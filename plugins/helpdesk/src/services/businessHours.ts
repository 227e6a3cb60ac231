import { DateTime } from 'luxon';
import type { BusinessHours } from '../entities.js';

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The wall-clock date, weekday and minute of the day of `at` in a time zone. */
export function localTime(at: Date, timeZone: string): { date: string; day: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', weekday: 'short' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!);
  return { date: `${parts.year}-${parts.month}-${parts.day}`, day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/**
 * Null while the hours are open at `at`; otherwise a key naming the closed period, the
 * local date and time it next opens ("2026-11-30T09:00"), so every message of one night
 * shares a key and the out-of-hours reply goes out once per period.
 */
export function closedPeriod(hours: BusinessHours, at: Date, defaultTimeZone: string): string | null {
  const tz = hours.timeZone || defaultTimeZone;
  const now = localTime(at, tz);
  const today = hours.schedule.filter((s) => s.day === now.day);
  if (today.some((s) => now.minute >= minutes(s.open) && now.minute < minutes(s.close))) return null;
  const base = Date.UTC(Number(now.date.slice(0, 4)), Number(now.date.slice(5, 7)) - 1, Number(now.date.slice(8, 10)));
  for (let d = 0; d <= 7; d++) {
    const day = (now.day + d) % 7;
    const opens = hours.schedule
      .filter((s) => s.day === day && (d > 0 || minutes(s.open) > now.minute))
      .map((s) => s.open)
      .sort();
    if (opens.length) return `${new Date(base + d * 86_400_000).toISOString().slice(0, 10)}T${opens[0]}`;
  }
  return 'closed';
}

/**
 * Seconds of [from, to) that fall inside the opening hours (in their time zone, DST included).
 * Without hours, or with an empty schedule, every second counts: the business-hours variant of
 * a metric then equals wall-clock time.
 */
export function businessSeconds(hours: BusinessHours | null | undefined, from: Date, to: Date, defaultTimeZone: string): number {
  const total = (to.getTime() - from.getTime()) / 1000;
  if (!hours?.schedule.length || total <= 0) return Math.max(0, total);
  const zone = hours.timeZone || defaultTimeZone;
  const end = DateTime.fromJSDate(to, { zone });
  let seconds = 0;
  for (let day = DateTime.fromJSDate(from, { zone }).startOf('day'); day <= end; day = day.plus({ days: 1 })) {
    for (const s of hours.schedule) {
      if (s.day !== day.weekday % 7) continue;
      const open = at(day, s.open).toMillis();
      const close = at(day, s.close).toMillis();
      const overlap = Math.min(close, to.getTime()) - Math.max(open, from.getTime());
      if (overlap > 0) seconds += overlap / 1000;
    }
  }
  return seconds;
}

/** The instant a local "HH:MM" (or "24:00", the next midnight) happens on a local day. */
function at(day: DateTime, hhmm: string): DateTime {
  const m = minutes(hhmm);
  return m >= 1440 ? day.plus({ days: 1 }).startOf('day') : day.set({ hour: Math.floor(m / 60), minute: m % 60, second: 0, millisecond: 0 });
}
