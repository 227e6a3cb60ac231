import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, optDate, str, optStr, col } from './columns.js';

/** Attendances (a customer's conversation from opening to resolution) and their timelines. */

export type AttendanceStatus = 'pending' | 'open' | 'snoozed' | 'resolved';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type TimelineKind = 'message' | 'note' | 'activity';

export interface Attendance {
  id: string;
  /** A short number per account, for people ("#42"). */
  number: number;
  accountId: string;
  instanceId: string;
  contactId: string;
  queueId: string | null;
  assigneeId: string | null;
  status: AttendanceStatus;
  priority: Priority;
  openKey: string | null;
  menuPending: boolean;
  /** The closed period (its next opening) whose out-of-hours message went out already. */
  closedPeriodNotified: string | null;
  /** Bumped by every change: a client acting on an older version gets 409. */
  version: number;
  unread: number;
  lastPreview: string | null;
  snoozedUntil: Date | null;
  createdAt: Date;
  reopenedAt: Date | null;
  assignedAt: Date | null;
  firstReplyAt: Date | null;
  /** Set by the first customer message after an agent's reply; cleared by the next reply. */
  waitingSince: Date | null;
  resolvedAt: Date | null;
  lastMessageAt: Date;
}
export const AttendanceSchema = new EntitySchema<Attendance>({
  name: 'HelpdeskAttendance',
  tableName: 'helpdesk_attendances',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    number: { type: 'integer' },
    accountId: { ...str, ...col('account_id') },
    instanceId: { ...str, ...col('instance_id') },
    contactId: { ...str, ...col('contact_id') },
    queueId: { ...optStr, ...col('queue_id') },
    assigneeId: { ...optStr, ...col('assignee_id') },
    status: str,
    priority: str,
    openKey: { ...optStr, ...col('open_key') },
    menuPending: { type: 'boolean', ...col('menu_pending') },
    closedPeriodNotified: { ...optStr, ...col('closed_period_notified') },
    version: { type: 'integer' },
    unread: { type: 'integer' },
    lastPreview: { ...optStr, ...col('last_preview') },
    snoozedUntil: { ...optDate, ...col('snoozed_until') },
    createdAt: { ...date, ...col('created_at') },
    reopenedAt: { ...optDate, ...col('reopened_at') },
    assignedAt: { ...optDate, ...col('assigned_at') },
    firstReplyAt: { ...optDate, ...col('first_reply_at') },
    waitingSince: { ...optDate, ...col('waiting_since') },
    resolvedAt: { ...optDate, ...col('resolved_at') },
    lastMessageAt: { ...date, ...col('last_message_at') },
  },
});

export interface TimelineItem {
  id: string;
  accountId: string;
  attendanceId: string;
  /** Orders the timeline (a bigint: a string when read). */
  seq: string;
  kind: TimelineKind;
  instanceId: string | null;
  /** The whatsapp-session message row that holds the content (messages only). */
  sessionMessageId: string | null;
  waId: string | null;
  direction: 'in' | 'out' | null;
  /** The agent who wrote it; null for the customer, the phone itself and automatic messages. */
  authorId: string | null;
  /** A private note's text. */
  body: string | null;
  /** Activity details, mentions, or what sent an automatic message. */
  data: Record<string, unknown> | null;
  createdAt: Date;
}
export const TimelineSchema = new EntitySchema<TimelineItem>({
  name: 'HelpdeskTimelineItem',
  tableName: 'helpdesk_timeline',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    attendanceId: { ...str, ...col('attendance_id') },
    seq: { type: 'bigint' },
    kind: str,
    instanceId: { ...optStr, ...col('instance_id') },
    sessionMessageId: { ...optStr, ...col('session_message_id') },
    waId: { ...optStr, ...col('wa_id') },
    direction: optStr,
    authorId: { ...optStr, ...col('author_id') },
    body: optStr,
    data: { type: 'json', nullable: true },
    createdAt: { ...date, ...col('created_at') },
  },
});
