import { z } from '@plugchat/core';

export const id = z.string().min(1).max(64);
export const idParams = z.object({ id });
export const version = z.number().int().min(1).optional().describe('the version you loaded; a newer one answers 409 stale_attendance');
export const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1f8b4c');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');
export const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as America/Sao_Paulo');
export const businessHours = z
  .object({
    timeZone: timeZone.optional(),
    schedule: z.array(z.object({ day: z.number().int().min(0).max(6), open: hhmm, close: hhmm }).strict().refine((s) => s.open < s.close, 'close must be after open')).max(50),
  })
  .strict();
export const mediaKind = z.enum(['image', 'audio', 'video', 'document']);
export const phone = z.string().regex(/^\d{10,15}$/, 'must be the number with country and area code, digits only');
