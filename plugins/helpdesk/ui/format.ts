import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** +55 21 98888-7777 from 5521988887777; the digits as they are when the number does not parse. */
export function formatPhone(digits: string | null | undefined): string {
  if (!digits) return '';
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  return parsed?.isValid() ? parsed.formatInternational() : `+${digits}`;
}

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
