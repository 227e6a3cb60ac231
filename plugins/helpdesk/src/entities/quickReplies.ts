import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, str, optStr, col } from './columns.js';

/** Quick replies: the account's and each agent's own. */

export interface QuickReply {
  id: string;
  accountId: string;
  /** Null: the whole account's; else one user's own. */
  ownerId: string | null;
  shortcut: string;
  text: string;
  media: { kind: 'image' | 'audio' | 'video' | 'document'; url: string; fileName?: string } | null;
  createdAt: Date;
}
export const QuickReplySchema = new EntitySchema<QuickReply>({
  name: 'HelpdeskQuickReply',
  tableName: 'helpdesk_quick_replies',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    ownerId: { ...optStr, ...col('owner_id') },
    shortcut: str,
    text: str,
    media: { type: 'json', nullable: true },
    createdAt: { ...date, ...col('created_at') },
  },
});
