import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, str, optStr, col } from './columns.js';

/** The reports' event log. */

/** What a reporting event records (design notes, "Metrics"); time metrics carry seconds. */
export type ReportEventName =
  | 'created'
  | 'reopened'
  | 'message_in'
  | 'message_out'
  | 'assigned'
  | 'assignment_wait'
  | 'first_response'
  | 'reply_time'
  | 'resolution'
  | 'transfer';

/** Append-only: written in the transaction of the change it records, aggregated by the reports. */
export interface ReportEvent {
  id?: number;
  accountId: string;
  name: ReportEventName;
  at: Date;
  /** Seconds (time metrics), else 0. */
  value: number;
  /** The same within the queue's business hours; equals `value` when the queue has none. */
  businessValue: number;
  attendanceId: string;
  contactId: string;
  instanceId: string;
  queueId: string | null;
  /** The agent the event names: who replied, who holds it, who received a transfer. */
  agentId: string | null;
  fromQueueId: string | null;
  fromAgentId: string | null;
}
export const ReportEventSchema = new EntitySchema<ReportEvent>({
  name: 'HelpdeskReportEvent',
  tableName: 'helpdesk_report_events',
  ...tenantScoped,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    accountId: { ...str, ...col('account_id') },
    name: str,
    at: { ...date },
    value: { type: 'double' },
    businessValue: { type: 'double', ...col('business_value') },
    attendanceId: { ...str, ...col('attendance_id') },
    contactId: { ...str, ...col('contact_id') },
    instanceId: { ...str, ...col('instance_id') },
    queueId: { ...optStr, ...col('queue_id') },
    agentId: { ...optStr, ...col('agent_id') },
    fromQueueId: { ...optStr, ...col('from_queue_id') },
    fromAgentId: { ...optStr, ...col('from_agent_id') },
  },
});
