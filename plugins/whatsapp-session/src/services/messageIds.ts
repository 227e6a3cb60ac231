import { pooledRandomBytes } from '@plugchat/core';

/**
 * A new WhatsApp message id, shaped as WhatsApp Web's and Baileys' are: "3EB0" and 18 upper-case
 * hex digits, 72 random bits (Baileys hashes the time, the user and 16 random bytes down to the
 * same 72 bits; nothing reads them back). The bytes come from core's pool: one system call for
 * hundreds of ids, not one (and a hash) each.
 */
export function newMessageId(): string {
  return `3EB0${pooledRandomBytes(9).toString('hex').toUpperCase()}`;
}
