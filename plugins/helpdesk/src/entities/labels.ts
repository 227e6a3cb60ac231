import { EntitySchema, tenantScoped } from '@plugchat/core';
import { str, col } from './columns.js';

/** Labels, put on attendances and on contacts. */

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
