import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, str, optStr, col } from './columns.js';

/** The live stream's log of changes. */

/** One row per change an agent's screen must show, in commit order per account: the live stream's log. */
export interface Change {
  seq: number;
  accountId: string;
  attendanceId: string;
  type: string;
  queueId: string | null;
  assigneeId: string | null;
  prevQueueId: string | null;
  prevAssigneeId: string | null;
  /** Users who must see it whatever their queues (mentions). */
  audience: string[] | null;
  data: Record<string, unknown>;
  at: Date;
}
export const ChangeSchema = new EntitySchema<Change>({
  name: 'HelpdeskChange',
  tableName: 'helpdesk_changes',
  ...tenantScoped,
  properties: {
    seq: { type: 'integer', primary: true, autoincrement: true },
    accountId: { ...str, ...col('account_id') },
    attendanceId: { ...str, ...col('attendance_id') },
    type: str,
    queueId: { ...optStr, ...col('queue_id') },
    assigneeId: { ...optStr, ...col('assignee_id') },
    prevQueueId: { ...optStr, ...col('prev_queue_id') },
    prevAssigneeId: { ...optStr, ...col('prev_assignee_id') },
    audience: { type: 'json', nullable: true },
    data: { type: 'json' },
    at: { ...date },
  },
});
