import { EntitySchema, tenantScoped } from '@plugchat/core';

/** The helpdesk's domain model: MikroORM entity schemas over the tables of migrations.ts. */

export type AttendanceStatus = 'pending' | 'open' | 'snoozed' | 'resolved';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type PresenceStatus = 'online' | 'away' | 'offline';
export type TimelineKind = 'message' | 'note' | 'activity';

const date = { type: 'Date' } as const;
const optDate = { type: 'Date', nullable: true } as const;
const str = { type: 'string' } as const;
const optStr = { type: 'string', nullable: true } as const;
const col = (fieldName: string) => ({ fieldName });

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

/** Opening hours in a time zone: day 0 is Sunday; times are "HH:MM", close after open. */
export interface BusinessHours {
  timeZone?: string;
  schedule: { day: number; open: string; close: string }[];
}

export interface Queue {
  id: string;
  accountId: string;
  name: string;
  color: string;
  greeting: string | null;
  assignment: 'manual' | 'round_robin';
  businessHours: BusinessHours | null;
  outOfHoursMessage: string | null;
  createdAt: Date;
}
export const QueueSchema = new EntitySchema<Queue>({
  name: 'HelpdeskQueue',
  tableName: 'helpdesk_queues',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    name: str,
    color: str,
    greeting: optStr,
    assignment: str,
    businessHours: { type: 'json', nullable: true, ...col('business_hours') },
    outOfHoursMessage: { ...optStr, ...col('out_of_hours_message') },
    createdAt: { ...date, ...col('created_at') },
  },
});

export interface QueueMember {
  queueId: string;
  userId: string;
  accountId: string;
}
export const QueueMemberSchema = new EntitySchema<QueueMember>({
  name: 'HelpdeskQueueMember',
  tableName: 'helpdesk_queue_members',
  ...tenantScoped,
  properties: {
    queueId: { ...str, primary: true, ...col('queue_id') },
    userId: { ...str, primary: true, ...col('user_id') },
    accountId: { ...str, ...col('account_id') },
  },
});

export interface MenuOption {
  key: string;
  queueId: string;
}
export interface Routing {
  instanceId: string;
  accountId: string;
  /** False: the number serves the API only and opens no attendances. */
  enabled: boolean;
  defaultQueueId: string | null;
  menu: { text: string; options: MenuOption[] } | null;
}
export const RoutingSchema = new EntitySchema<Routing>({
  name: 'HelpdeskRouting',
  tableName: 'helpdesk_routing',
  ...tenantScoped,
  properties: {
    instanceId: { ...str, primary: true, ...col('instance_id') },
    accountId: { ...str, ...col('account_id') },
    enabled: { type: 'boolean' },
    defaultQueueId: { ...optStr, ...col('default_queue_id') },
    menu: { type: 'json', nullable: true },
  },
});

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

export interface Label {
  id: string;
  accountId: string;
  name: string;
  color: string;
}
export const LabelSchema = new EntitySchema<Label>({
  name: 'HelpdeskLabel',
  tableName: 'helpdesk_labels',
  ...tenantScoped,
  properties: { id: { ...str, primary: true }, accountId: { ...str, ...col('account_id') }, name: str, color: str },
});

export interface AttendanceLabel {
  attendanceId: string;
  labelId: string;
  accountId: string;
}
export const AttendanceLabelSchema = new EntitySchema<AttendanceLabel>({
  name: 'HelpdeskAttendanceLabel',
  tableName: 'helpdesk_attendance_labels',
  ...tenantScoped,
  properties: {
    attendanceId: { ...str, primary: true, ...col('attendance_id') },
    labelId: { ...str, primary: true, ...col('label_id') },
    accountId: { ...str, ...col('account_id') },
  },
});

export interface ContactLabel {
  contactId: string;
  labelId: string;
  accountId: string;
}
export const ContactLabelSchema = new EntitySchema<ContactLabel>({
  name: 'HelpdeskContactLabel',
  tableName: 'helpdesk_contact_labels',
  ...tenantScoped,
  properties: {
    contactId: { ...str, primary: true, ...col('contact_id') },
    labelId: { ...str, primary: true, ...col('label_id') },
    accountId: { ...str, ...col('account_id') },
  },
});

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

/** Per-account preferences of the helpdesk. */
export interface Preferences {
  accountId: string;
  /** Day boundaries of the reports and the default of business hours. */
  timeZone: string;
}
export const PreferencesSchema = new EntitySchema<Preferences>({
  name: 'HelpdeskPreferences',
  tableName: 'helpdesk_preferences',
  ...tenantScoped,
  properties: { accountId: { ...str, primary: true, ...col('account_id') }, timeZone: { ...str, ...col('time_zone') } },
});

export const helpdeskEntities = [
  ReportEventSchema,
  PreferencesSchema,
  ContactSchema,
  QueueSchema,
  QueueMemberSchema,
  RoutingSchema,
  AgentSchema,
  AttendanceSchema,
  TimelineSchema,
  LabelSchema,
  AttendanceLabelSchema,
  ContactLabelSchema,
  QuickReplySchema,
  ChangeSchema,
];
