import { createHash } from 'node:crypto';

/** A UUID-shaped id derived from a string: the same logical thing gets the same id after a replay or restart. */
export function stableUuid(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
