import { badRequest, conflict, forbidden, HttpError, notFound, unprocessable, type Caller } from '@plugchat/core';
import type { OutgoingRequest } from '@plugchat/whatsapp-session';
import { AttendanceLabelSchema, AttendanceSchema, ContactSchema, LabelSchema, QueueMemberSchema, QueueSchema, QuickReplySchema, TimelineSchema, type Attendance, type Priority } from '../entities.js';
import { assertMayAct, isSupervisor, visibleAttendance } from './access.js';
import type { Helpdesk } from './helpdesk.js';
import { firstName, fillTemplate } from './templates.js';
import { addActivity, addItem, findMessage, fresh, itemUpdated, patchAttendance } from './timeline.js';
import type { Work } from './unit.js';
import { displayName } from './views.js';

export interface SendInput {
  text?: string;
  quickReply?: string;
  media?: { kind: 'image' | 'audio' | 'video' | 'document'; file: string; fileName?: string; caption?: string; voice?: boolean };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contact?: { name: string; phone: string };
  replyTo?: string;
  version?: number;
}

const stale = () => conflict('Someone changed this attendance since you loaded it. Reload it and try again.', 'stale_attendance');
const resolvedError = () => conflict('This attendance is resolved. Reopen it first.', 'attendance_resolved');

/** What agents do to attendances. Every action checks that the caller may see the attendance (else 404) and act on it (else 403). */
export class Actions {
  constructor(private readonly hd: Helpdesk) {}

  private get units() {
    return this.hd.units;
  }

  private async load(caller: Caller, id: string, version?: number): Promise<Attendance> {
    const { att } = await visibleAttendance(this.units.read(caller.accountId), caller, id);
    if (version !== undefined && version !== att.version) throw stale();
    return att;
  }

  /** Runs `fn` on the current attendance inside a unit of work; 409 when it moved past `version`. */
  private async change<T>(caller: Caller, id: string, version: number | undefined, fn: (w: Work, att: Attendance) => Promise<T>): Promise<T> {
    await this.load(caller, id, version);
    return this.units.run(caller.accountId, async (w) => {
      const att = (await fresh(w, id))!;
      if (version !== undefined && version !== att.version) throw stale();
      return fn(w, att);
    });
  }

  private async phoneOf(att: Attendance): Promise<string> {
    return (await this.units.read(att.accountId).findOne(ContactSchema, { id: att.contactId }))!.phone;
  }

  /** Takes a pending attendance: of two agents at once, one wins and the other gets 409. */
  async accept(caller: Caller, id: string): Promise<Attendance> {
    if (!caller.userId) throw forbidden('Only a signed-in agent can accept an attendance.');
    const next = await this.change(caller, id, undefined, async (w, att) => {
      if (att.status === 'resolved') throw resolvedError();
      if (att.assigneeId === caller.userId) return null;
      if (att.assigneeId) throw conflict('Another agent took this attendance already.', 'already_assigned');
      const n = await patchAttendance(w, att, { assigneeId: caller.userId!, status: 'open', assignedAt: att.assignedAt ?? w.now, menuPending: false }, { assigneeId: null });
      if (!n) throw conflict('Another agent took this attendance already.', 'already_assigned');
      await this.hd.assignment.recordAssigned(w, att, n);
      await addActivity(w, n, 'assigned', { to: caller.userId, accepted: true }, caller.userId!);
      return n;
    });
    if (!next) return this.load(caller, id); // already the caller's
    await this.hd.emitAssigned(next, null, caller.userId);
    return next;
  }

  /** Moves an attendance to another queue and/or agent, optionally telling the customer. */
  async transfer(caller: Caller, id: string, input: { queueId?: string | null; assigneeId?: string | null; message?: string; version?: number }): Promise<Attendance> {
    await this.load(caller, id, input.version);
    const em = this.units.read(caller.accountId);
    if (input.queueId && !(await em.findOne(QueueSchema, { id: input.queueId }))) throw badRequest('Unknown queue.', [{ path: 'body.queueId', message: 'no such queue in this account' }]);
    const users = await this.hd.ctx.users.list(caller.accountId);
    if (input.assigneeId && !users.some((u) => u.id === input.assigneeId && !u.disabled)) throw badRequest('Unknown agent.', [{ path: 'body.assigneeId', message: 'no such active user in this account' }]);
    const active = await this.hd.activeUsers(caller.accountId);
    const { prev, next } = await this.change(caller, id, input.version, async (w, att) => {
      if (att.status === 'resolved') throw resolvedError();
      assertMayAct(caller, att);
      const queueId = input.queueId !== undefined ? input.queueId : att.queueId;
      const assigneeId = input.assigneeId !== undefined ? input.assigneeId : input.queueId !== undefined && input.queueId !== att.queueId ? null : att.assigneeId;
      if (assigneeId && queueId && !isSupervisor(caller) && assigneeId !== caller.userId) {
        // An agent may hand over only to someone who serves the target queue.
        if (!(await w.em.findOne(QueueMemberSchema, { queueId, userId: assigneeId }))) throw forbidden('That agent is not a member of the queue.');
      }
      let n = await patchAttendance(w, att, {
        queueId,
        assigneeId,
        menuPending: false,
        status: att.status === 'snoozed' ? 'snoozed' : assigneeId ? 'open' : 'pending',
        ...(assigneeId && !att.assignedAt ? { assignedAt: w.now } : {}),
      });
      if (!n) throw stale();
      await this.hd.reporting.record(w, n, 'transfer', { agentId: assigneeId, fromAgentId: att.assigneeId, fromQueueId: att.queueId });
      await this.hd.assignment.recordAssigned(w, att, n);
      await addActivity(w, n, 'transferred', { fromQueueId: att.queueId, toQueueId: queueId, fromAssigneeId: att.assigneeId, toAssigneeId: assigneeId }, caller.userId ?? null);
      if (!assigneeId) n = (await this.hd.assignment.assignNext(w, n, active)) ?? n;
      return { prev: att, next: n };
    });
    await this.hd.ctx.events.emit('helpdesk.attendance.transferred', { ...(await this.hd.ref(next)), fromQueueId: prev.queueId, fromAssigneeId: prev.assigneeId, byUserId: caller.userId ?? null });
    if (next.assigneeId && next.assigneeId !== prev.assigneeId) await this.hd.emitAssigned(next, prev.assigneeId, caller.userId ?? null);
    if (input.message) await this.hd.sendAutomatic(next, await this.phoneOf(next), input.message, 'transfer');
    if (prev.assigneeId && prev.assigneeId !== next.assigneeId) await this.hd.rebalance(caller.accountId);
    return next;
  }

  async resolve(caller: Caller, id: string, version?: number): Promise<Attendance> {
    const next = await this.change(caller, id, version, async (w, att) => {
      if (att.status === 'resolved') throw resolvedError();
      assertMayAct(caller, att);
      const n = await patchAttendance(w, att, { status: 'resolved', resolvedAt: w.now, openKey: null, snoozedUntil: null, menuPending: false, waitingSince: null });
      if (!n) throw stale();
      await this.hd.reporting.record(w, n, 'resolution', { since: att.createdAt, agentId: n.assigneeId });
      await addActivity(w, n, 'resolved', {}, caller.userId ?? null);
      return n;
    });
    await this.hd.ctx.events.emit('helpdesk.attendance.resolved', { ...(await this.hd.ref(next)), byUserId: caller.userId ?? null, resolvedAt: new Date(next.resolvedAt!).toISOString() });
    if (next.assigneeId) await this.hd.rebalance(caller.accountId);
    return next;
  }

  async reopen(caller: Caller, id: string, version?: number): Promise<Attendance> {
    const next = await this.change(caller, id, version, async (w, att) => {
      if (att.status !== 'resolved') throw conflict('This attendance is not resolved.', 'not_resolved');
      const key = `${att.instanceId}:${att.contactId}`;
      if (await w.em.findOne(AttendanceSchema, { openKey: key })) throw conflict('The contact has another open attendance on this number; continue there.', 'another_open');
      // A reopening starts a new wait for a first response (not one measured from the creation).
      const n = await patchAttendance(w, att, { status: att.assigneeId ? 'open' : 'pending', openKey: key, resolvedAt: null, reopenedAt: w.now, firstReplyAt: null }, { status: 'resolved' });
      if (!n) throw stale();
      await this.hd.reporting.record(w, n, 'reopened', { agentId: n.assigneeId });
      await addActivity(w, n, 'reopened', { by: 'agent' }, caller.userId ?? null);
      return n;
    });
    await this.hd.ctx.events.emit('helpdesk.attendance.reopened', { ...(await this.hd.ref(next)), byUserId: caller.userId ?? null });
    return next;
  }

  async snooze(caller: Caller, id: string, until: Date | null, version?: number): Promise<Attendance> {
    return this.change(caller, id, version, async (w, att) => {
      if (att.status === 'resolved') throw resolvedError();
      assertMayAct(caller, att);
      if (until && until.getTime() <= w.now.getTime()) throw badRequest('The snooze must end in the future.', [{ path: 'body.until', message: 'is not in the future' }]);
      const n = await patchAttendance(w, att, { status: 'snoozed', snoozedUntil: until });
      if (!n) throw stale();
      await addActivity(w, n, 'snoozed', { until: until?.toISOString() ?? null }, caller.userId ?? null);
      return n;
    });
  }

  /** Snoozed attendances whose time has come go back to their agent (or the queue). */
  async wakeSnoozed(accountId: string): Promise<number> {
    const due = await this.units.read(accountId).find(AttendanceSchema, { status: 'snoozed', snoozedUntil: { $lte: this.hd.clock.now() } }, { limit: 500 });
    for (const a of due) {
      await this.units.run(accountId, async (w) => {
        const att = await fresh(w, a.id);
        if (!att || att.status !== 'snoozed') return;
        const n = await patchAttendance(w, att, { status: att.assigneeId ? 'open' : 'pending', snoozedUntil: null });
        if (n) await addActivity(w, n, 'woke', {}, null);
      });
    }
    return due.length;
  }

  async setPriority(caller: Caller, id: string, priority: Priority, version?: number): Promise<Attendance> {
    return this.change(caller, id, version, async (w, att) => {
      assertMayAct(caller, att);
      const n = await patchAttendance(w, att, { priority });
      if (!n) throw stale();
      await addActivity(w, n, 'priority_changed', { from: att.priority, to: priority }, caller.userId ?? null);
      return n;
    });
  }

  async setLabels(caller: Caller, id: string, labelIds: string[]): Promise<Attendance> {
    await this.load(caller, id);
    const em = this.units.read(caller.accountId);
    const known = new Set((await em.find(LabelSchema, { id: { $in: labelIds } })).map((l) => l.id));
    const unknown = labelIds.findIndex((l) => !known.has(l));
    if (unknown >= 0) throw badRequest('Unknown label.', [{ path: `body.labelIds.${unknown}`, message: 'no such label in this account' }]);
    return this.change(caller, id, undefined, async (w, att) => {
      const current = (await w.em.find(AttendanceLabelSchema, { attendanceId: id })).map((l) => l.labelId);
      const added = labelIds.filter((l) => !current.includes(l));
      const removed = current.filter((l) => !labelIds.includes(l));
      if (!added.length && !removed.length) return att;
      if (removed.length) await w.em.nativeDelete(AttendanceLabelSchema, { attendanceId: id, labelId: { $in: removed } });
      for (const labelId of added) await w.em.insert(AttendanceLabelSchema, { attendanceId: id, labelId, accountId: caller.accountId });
      const n = (await patchAttendance(w, att, {}))!;
      for (const labelId of added) await addActivity(w, n, 'label_added', { labelId }, caller.userId ?? null);
      for (const labelId of removed) await addActivity(w, n, 'label_removed', { labelId }, caller.userId ?? null);
      return n;
    });
  }

  async note(caller: Caller, id: string, text: string, mentions: string[]) {
    await this.load(caller, id);
    const users = await this.hd.ctx.users.list(caller.accountId);
    const bad = mentions.findIndex((m) => !users.some((u) => u.id === m));
    if (bad >= 0) throw badRequest('Unknown user mentioned.', [{ path: `body.mentions.${bad}`, message: 'no such user in this account' }]);
    return this.change(caller, id, undefined, async (w, att) => addItem(w, att, { kind: 'note', authorId: caller.userId ?? null, body: text, data: { mentions } }, undefined, mentions));
  }

  /** Builds what the agent sends, expanding a quick reply and checking what WhatsApp needs. */
  private async request(caller: Caller, att: Attendance, phone: string, input: SendInput): Promise<{ req: OutgoingRequest; media?: { value: string; field: string } }> {
    const em = this.units.read(caller.accountId);
    let text = input.text;
    let media = input.media;
    if (input.quickReply) {
      const shortcut = input.quickReply.replace(/^\//, '');
      const candidates = await em.find(QuickReplySchema, { shortcut, $or: [{ ownerId: null }, { ownerId: caller.userId ?? '-' }] });
      const qr = candidates.find((q) => q.ownerId) ?? candidates[0];
      if (!qr) throw badRequest(`No quick reply /${shortcut}.`, [{ path: 'body.quickReply', message: 'no such shortcut' }], 'unknown_quick_reply');
      const contact = (await em.findOne(ContactSchema, { id: att.contactId }))!;
      const agent = caller.userId ? await this.hd.ctx.users.get(caller.accountId, caller.userId) : undefined;
      const queue = att.queueId ? await em.findOne(QueueSchema, { id: att.queueId }) : null;
      text = fillTemplate(qr.text, {
        'contact.name': displayName(contact),
        'contact.firstName': firstName(contact.name || contact.pushName) || displayName(contact),
        'contact.phone': phone,
        'agent.name': agent?.name ?? '',
        'agent.firstName': firstName(agent?.name),
        'attendance.number': String(att.number),
        'queue.name': queue?.name ?? '',
      });
      if (qr.media && !media) media = { kind: qr.media.kind, file: qr.media.url, fileName: qr.media.fileName, caption: text };
    }
    let replyTo: OutgoingRequest['replyTo'];
    if (input.replyTo) {
      const target = await findMessage(em, att.id, input.replyTo);
      if (!target) throw badRequest('The quoted message is not in this attendance.', [{ path: 'body.replyTo', message: 'unknown message' }]);
      const quoted = target.sessionMessageId ? await this.hd.sessionMessage(att.accountId, att.instanceId, target.sessionMessageId) : undefined;
      replyTo = { messageId: target.waId!, fromMe: target.direction === 'out', text: (quoted?.content.text as string | undefined) ?? '' };
    }
    if (media) {
      const b64 = /^data:[^,]*;base64,/.exec(media.file);
      if (b64 && ((media.file.length - b64[0].length) * 3) / 4 > this.hd.session.maxMediaBytes() * 1.01) {
        throw new HttpError(413, 'media_too_large', `media.file is larger than ${Math.round(this.hd.session.maxMediaBytes() / 1048576)} MB.`, { field: 'media.file', maxBytes: this.hd.session.maxMediaBytes() });
      }
      const req: OutgoingRequest = { kind: media.kind, caption: media.kind === 'audio' ? undefined : (media.caption ?? text), fileName: media.fileName, ptt: media.kind === 'audio' ? (media.voice ?? true) : undefined, replyTo };
      if (media.kind === 'document' && !media.fileName) req.fileName = 'document';
      return { req, media: { value: media.file, field: 'media.file' } };
    }
    if (input.location) return { req: { kind: 'location', location: input.location, replyTo } };
    if (input.contact) return { req: { kind: 'contact', contact: input.contact, replyTo } };
    if (!text?.trim()) throw badRequest('Write a message, pick a quick reply or attach something.', [{ path: 'body.text', message: 'is empty' }]);
    return { req: { kind: 'text', text, replyTo } };
  }

  /** An agent's message to the customer. A pending attendance that nobody has becomes the sender's. */
  async sendMessage(caller: Caller, id: string, input: SendInput) {
    let att = await this.load(caller, id, input.version);
    if (att.status === 'resolved') throw resolvedError();
    assertMayAct(caller, att);
    const phone = await this.phoneOf(att);
    if (await this.hd.session.isOptedOut(caller.accountId, phone)) {
      throw unprocessable(`${phone} asked not to receive messages (opt-out); the helpdesk will not message them.`, 'opted_out', { phone });
    }
    const { req, media } = await this.request(caller, att, phone, input);
    if (!att.assigneeId && caller.userId) att = await this.accept(caller, id);
    // Answering reads the chat, as on WhatsApp Web: the customer sees blue ticks.
    if (att.unread) att = await this.markRead(caller, id).catch(() => att);
    try {
      const sent = await this.hd.send(att, phone, req, { authorId: caller.userId ?? null, media });
      return sent;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(502, 'send_failed', `The message could not be queued: ${(err as Error).message}`);
    }
  }

  async react(caller: Caller, id: string, target: string, emoji: string) {
    const att = await this.load(caller, id);
    if (att.status === 'resolved') throw resolvedError();
    assertMayAct(caller, att);
    const item = await findMessage(this.units.read(caller.accountId), id, target);
    if (!item) throw badRequest('The message is not in this attendance.', [{ path: 'body.messageId', message: 'unknown message' }]);
    return this.hd.send(att, await this.phoneOf(att), { kind: 'reaction', reaction: { emoji, messageId: item.waId!, fromMe: item.direction === 'out' } }, { authorId: caller.userId ?? null });
  }

  async deleteMessage(caller: Caller, id: string, itemId: string) {
    const att = await this.load(caller, id);
    assertMayAct(caller, att);
    const item = await findMessage(this.units.read(caller.accountId), id, itemId);
    if (!item) throw notFound('Message');
    if (item.direction !== 'out') throw forbidden("Only the company's own messages can be deleted for everyone.");
    await this.hd.session.deleteForEveryone(caller.accountId, att.instanceId, await this.phoneOf(att), item.waId!);
    const msg = item.sessionMessageId ? await this.hd.sessionMessage(att.accountId, att.instanceId, item.sessionMessageId) : undefined;
    await this.units.run(caller.accountId, async (w) => {
      await w.em.nativeUpdate(TimelineSchema, { id: item.id }, { data: { ...(item.data ?? {}), deleted: true, deletedBy: caller.userId ?? null } });
      itemUpdated(w, att, { ...item, data: { ...(item.data ?? {}), deleted: true } }, msg);
      await addActivity(w, att, 'message_deleted', { itemId: item.id }, caller.userId ?? null);
    });
  }

  /** Sends read receipts for the unread customer messages (blue ticks) and clears the counter. */
  async markRead(caller: Caller, id: string) {
    const att = await this.load(caller, id);
    if (!att.unread) return att;
    const unread = await this.units.read(caller.accountId).find(TimelineSchema, { attendanceId: id, kind: 'message', direction: 'in' }, { orderBy: { seq: 'desc' }, limit: Math.min(att.unread, 500) });
    if (unread.length) await this.hd.session.readMessages(caller.accountId, att.instanceId, await this.phoneOf(att), unread.map((i) => i.waId!));
    return this.units.run(caller.accountId, async (w) => {
      const current = (await fresh(w, id))!;
      return (await patchAttendance(w, current, { unread: 0 })) ?? current;
    });
  }

  async typing(caller: Caller, id: string, on: boolean) {
    const att = await this.load(caller, id);
    if (att.status === 'resolved') throw resolvedError();
    await this.hd.session.typing(caller.accountId, att.instanceId, await this.phoneOf(att), on);
  }
}
