import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, optDate, str, col } from './columns.js';

/** Agents: a user's presence and capacity in the helpdesk. */

export type PresenceStatus = 'online' | 'away' | 'offline';

export interface Agent {
  userId: string;
  accountId: string;
  status: PresenceStatus;
  capacity: number | null;
  /** Orders round robin: the member assigned longest ago goes next. */
  lastAssignedSeq: string | null;
  disconnectedAt: Date | null;
  updatedAt: Date;
}
export const AgentSchema = new EntitySchema<Agent>({
  name: 'HelpdeskAgent',
  tableName: 'helpdesk_agents',
  ...tenantScoped,
  properties: {
    userId: { ...str, primary: true, ...col('user_id') },
    accountId: { ...str, ...col('account_id') },
    status: str,
    capacity: { type: 'integer', nullable: true },
    lastAssignedSeq: { type: 'bigint', nullable: true, ...col('last_assigned_seq') },
    disconnectedAt: { ...optDate, ...col('disconnected_at') },
    updatedAt: { ...date, ...col('updated_at') },
  },
});
