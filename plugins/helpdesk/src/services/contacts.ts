import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@plugchat/core';
import { ContactSchema, type Contact } from '../entities.js';
import type { Units } from './unit.js';

/** Contacts keyed by (account, phone digits): the database refuses a second row for one number. */
export class Contacts {
  constructor(private readonly units: Units) {}

  async upsert(accountId: string, phone: string, pushName?: string): Promise<Contact> {
    const em = this.units.read(accountId);
    let contact = await em.findOne(ContactSchema, { phone });
    if (!contact) {
      const now = this.units.clock.now();
      const row: Contact = { id: randomUUID(), accountId, phone, name: null, pushName: pushName ?? null, avatarUrl: null, attributes: {}, blocked: false, createdAt: now, updatedAt: now };
      try {
        await em.insert(ContactSchema, row);
        return row;
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        contact = (await this.units.read(accountId).findOne(ContactSchema, { phone }))!;
      }
    }
    if (pushName && pushName !== contact.pushName) {
      await em.nativeUpdate(ContactSchema, { id: contact.id }, { pushName, updatedAt: this.units.clock.now() });
      contact.pushName = pushName;
    }
    return contact;
  }
}
