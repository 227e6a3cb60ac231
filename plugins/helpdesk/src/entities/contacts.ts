import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, str, optStr, col } from './columns.js';

/** Contacts: one per phone number of an account, shared by all its numbers. */

export interface Contact {
  id: string;
  accountId: string;
  phone: string;
  /** Edited by an agent; wins over the push name. */
  name: string | null;
  pushName: string | null;
  avatarUrl: string | null;
  attributes: Record<string, string>;
  blocked: boolean;
  createdAt: Date;
  updatedAt: Date;
}
export const ContactSchema = new EntitySchema<Contact>({
  name: 'HelpdeskContact',
  tableName: 'helpdesk_contacts',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    phone: str,
    name: optStr,
    pushName: { ...optStr, ...col('push_name') },
    avatarUrl: { ...optStr, ...col('avatar_url') },
    attributes: { type: 'json' },
    blocked: { type: 'boolean' },
    createdAt: { ...date, ...col('created_at') },
    updatedAt: { ...date, ...col('updated_at') },
  },
});
