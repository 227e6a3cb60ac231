import type { EntityManager } from '@plugchat/core';
import type { SessionMessage } from '@plugchat/whatsapp-session';
import { AttendanceLabelSchema, ContactLabelSchema, ContactSchema, type Attendance, type Contact, type TimelineItem } from '../entities.js';

export const displayName = (c: Pick<Contact, 'name' | 'pushName' | 'phone'>) => c.name || c.pushName || c.phone;
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export function contactJson(c: Contact, labelIds: string[] = [], optedOut?: boolean) {
  return {
    id: c.id,
    phone: c.phone,
    name: displayName(c),
    editedName: c.name,
    pushName: c.pushName,
    avatarUrl: c.avatarUrl,
    attributes: c.attributes ?? {},
    blocked: !!c.blocked,
    ...(optedOut !== undefined ? { optedOut } : {}),
    labels: labelIds,
    createdAt: iso(c.createdAt),
  };
}

export function attendanceJson(a: Attendance, contact: Contact | undefined, labelIds: string[]) {
  return {
    id: a.id,
    number: a.number,
    instanceId: a.instanceId,
    status: a.status,
    priority: a.priority,
    queueId: a.queueId,
    assigneeId: a.assigneeId,
    menuPending: !!a.menuPending,
    contact: contact ? { id: contact.id, phone: contact.phone, name: displayName(contact), avatarUrl: contact.avatarUrl, blocked: !!contact.blocked } : null,
    labels: labelIds,
    unread: a.unread,
    lastPreview: a.lastPreview,
    lastMessageAt: iso(a.lastMessageAt),
    createdAt: iso(a.createdAt),
    reopenedAt: iso(a.reopenedAt),
    assignedAt: iso(a.assignedAt),
    firstReplyAt: iso(a.firstReplyAt),
    waitingSince: iso(a.waitingSince),
    resolvedAt: iso(a.resolvedAt),
    snoozedUntil: iso(a.snoozedUntil),
    version: a.version,
  };
}
export type AttendanceJson = ReturnType<typeof attendanceJson>;

/** Views of several attendances with their contacts and labels, in two queries. */
export async function attendanceViews(em: EntityManager, atts: Attendance[]): Promise<AttendanceJson[]> {
  if (!atts.length) return [];
  const contacts = new Map((await em.find(ContactSchema, { id: { $in: [...new Set(atts.map((a) => a.contactId))] } })).map((c) => [c.id, c]));
  const labels = await em.find(AttendanceLabelSchema, { attendanceId: { $in: atts.map((a) => a.id) } });
  return atts.map((a) => attendanceJson(a, contacts.get(a.contactId), labels.filter((l) => l.attendanceId === a.id).map((l) => l.labelId)));
}

export async function contactLabels(em: EntityManager, contactId: string): Promise<string[]> {
  return (await em.find(ContactLabelSchema, { contactId })).map((l) => l.labelId);
}

/** A timeline entry; a message's content comes from whatsapp-session's row when given. */
export function itemJson(i: TimelineItem, msg?: SessionMessage) {
  const data = i.data ?? {};
  return {
    id: i.id,
    seq: String(i.seq),
    kind: i.kind,
    createdAt: iso(i.createdAt),
    authorId: i.authorId,
    ...(i.kind === 'message'
      ? {
          direction: i.direction,
          waId: i.waId,
          messageId: i.sessionMessageId,
          type: msg?.type ?? (data.type as string | undefined) ?? 'unknown',
          content: msg?.content ?? null,
          status: msg?.status ?? null,
          error: msg?.error ?? null,
          waiting: msg?.waiting ?? false,
          hasMedia: msg?.hasMedia ?? false,
          deleted: !!data.deleted,
          automatic: (data.automatic as string | undefined) ?? null,
          fromPhone: !!data.fromPhone,
        }
      : {}),
    ...(i.kind === 'note' ? { text: i.body, mentions: (data.mentions as string[] | undefined) ?? [] } : {}),
    ...(i.kind === 'activity' ? { activity: data } : {}),
  };
}
export type ItemJson = ReturnType<typeof itemJson>;

/** A short text for the list's last-message preview. */
export function preview(type: string, text?: string, caption?: string): string {
  const t = text ?? caption;
  if (t) return t.length > 120 ? `${t.slice(0, 117)}...` : t;
  return `[${type}]`;
}
