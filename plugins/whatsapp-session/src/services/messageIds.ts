import { randomFillSync } from 'node:crypto';

/** Random bytes drawn a block at a time: one system call for 455 ids, not one (and a hash) each. */
const pool = Buffer.alloc(4096);
let offset = pool.length;

/**
 * A new WhatsApp message id, shaped as WhatsApp Web's and Baileys' are: "3EB0" and 18 upper-case
 * hex digits, 72 random bits (Baileys hashes the time, the user and 16 random bytes down to the
 * same 72 bits; nothing reads them back).
 */
export function newMessageId(): string {
  if (offset + 9 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = `3EB0${pool.toString('hex', offset, offset + 9).toUpperCase()}`;
  offset += 9;
  return id;
}
