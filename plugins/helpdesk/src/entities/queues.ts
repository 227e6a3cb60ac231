import { EntitySchema, tenantScoped } from '@plugchat/core';
import { date, str, optStr, col } from './columns.js';

/** Queues, their agents and opening hours, and how each number routes new conversations to them. */

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
