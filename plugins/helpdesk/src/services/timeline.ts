import { randomUUID } from 'node:crypto';
import { nextSeq, type EntityManager } from '@plugchat/core';
import type { SessionMessage } from '@plugchat/whatsapp-session';
import { AttendanceLabelSchema, AttendanceSchema, ContactSchema, TimelineSchema, type Attendance, type TimelineItem } from '../entities.js';
import type { Work } from './unit.js';
import { attendanceJson, itemJson } from './views.js';

type NewItem = Partial<TimelineItem> & Pick<TimelineItem, 'kind'>;

/** Appends to an attendance's timeline and tells the live stream. */
export async function addItem(w: Work, att: Attendance, fields: NewItem, msg?: SessionMessage, audience?: string[]): Promise<TimelineItem> {
  const item: TimelineItem = {
    id: randomUUID(),
    accountId: att.accountId,
    attendanceId: att.id,
    seq: String(nextSeq()),
    instanceId: null,
    sessionMessageId: null,
    waId: null,
    direction: null,
    authorId: null,
    body: null,
    data: null,
    createdAt: w.now,
    ...fields,
  };
  await w.em.insert(TimelineSchema, item);
  w.change({ attendanceId: att.id, type: 'timeline', queueId: att.queueId, assigneeId: att.assigneeId, audience: audience ?? null, data: itemJson(item, msg) });
  return item;
}

/** A timeline entry changed (decrypted, deleted, a new status): the agents' view refreshes it. */
export function itemUpdated(w: Work, att: Attendance, item: TimelineItem, msg?: SessionMessage) {
  w.change({ attendanceId: att.id, type: 'timeline.updated', queueId: att.queueId, assigneeId: att.assigneeId, data: itemJson(item, msg) });
}

/** A message of the attendance named by its WhatsApp id or its timeline id. */
export function findMessage(em: EntityManager, attendanceId: string, ref: string) {
  return em.findOne(TimelineSchema, { attendanceId, kind: 'message', $or: [{ waId: ref }, { id: ref }] });
}

/** One line of the append-only activity log: who did what, when. */
export function addActivity(w: Work, att: Attendance, type: string, data: Record<string, unknown>, actorId: string | null) {
  return addItem(w, att, { kind: 'activity', authorId: actorId, data: { type, ...data } });
}

/**
 * Changes an attendance only if nobody else changed it since `att` was read (its version),
 * plus any extra guard; null when the guard failed. Records the new state for the live stream.
 */
export async function patchAttendance(w: Work, att: Attendance, patch: Partial<Attendance>, guard: Record<string, unknown> = {}): Promise<Attendance | null> {
  const n = await w.em.nativeUpdate(AttendanceSchema, { id: att.id, version: att.version, ...guard }, { ...patch, version: att.version + 1 });
  if (!n) return null;
  const next: Attendance = { ...att, ...patch, version: att.version + 1 };
  await attendanceChanged(w, next, att);
  return next;
}

export async function attendanceChanged(w: Work, next: Attendance, prev?: Attendance) {
  const contact = (await w.em.findOne(ContactSchema, { id: next.contactId })) ?? undefined;
  const labels = (await w.em.find(AttendanceLabelSchema, { attendanceId: next.id })).map((l) => l.labelId);
  w.change({
    attendanceId: next.id,
    type: 'attendance',
    queueId: next.queueId,
    assigneeId: next.assigneeId,
    prevQueueId: prev && prev.queueId !== next.queueId ? prev.queueId : null,
    prevAssigneeId: prev && prev.assigneeId !== next.assigneeId ? prev.assigneeId : null,
    data: attendanceJson(next, contact, labels),
  });
}

/** Re-reads an attendance inside a unit of work (past the identity map). */
export async function fresh(w: Work, id: string): Promise<Attendance | null> {
  return w.em.findOne(AttendanceSchema, { id }, { refresh: true });
}
