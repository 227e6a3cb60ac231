import { createHash, randomBytes, randomFillSync } from 'node:crypto';

/** A UUID-shaped id derived from a string: the same logical thing gets the same id after a replay or restart. */
export function stableUuid(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Random bytes drawn a block at a time; each byte is handed out once. */
const pool = Buffer.alloc(4096);
let offset = pool.length;

/**
 * `n` random bytes from a block refilled from the system's generator when spent. Each call of
 * crypto's own randomBytes builds a job object that every async hook sees (the request context's
 * among them): on a path that draws a few bytes per message (an IV per sealed key, a message id)
 * that cost a per cent of the thread each, where one call per 4 KB costs nothing to speak of.
 */
export function pooledRandomBytes(n: number): Buffer {
  if (n > 256) return randomBytes(n);
  if (offset + n > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  // A copy, so the caller's bytes never change when the block is refilled.
  const out = Buffer.from(pool.subarray(offset, offset + n));
  offset += n;
  return out;
}
