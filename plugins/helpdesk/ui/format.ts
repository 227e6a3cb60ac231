export { formatPhone } from '../../../ui/src/format';

export function initials(name: string): string {
  const parts = name.replace(/^\+/, '').trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  if (/^\d/.test(parts[0]!)) return '#';
  return (parts[0]![0]! + (parts[1]?.[0] ?? '')).toUpperCase();
}

export function timeOf(iso: string | null, locale: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(locale, { day: '2-digit', month: '2-digit' });
}

export const dayOf = (iso: string | null, locale: string) => (iso ? new Date(iso).toLocaleDateString(locale, { weekday: 'long', day: 'numeric', month: 'long' }) : '');

/** "45 s", "12 min", "3 h 20 min", "2 d 4 h": a duration in seconds, for people; a dash for none. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h < 24) return m ? `${h} h ${m} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}
