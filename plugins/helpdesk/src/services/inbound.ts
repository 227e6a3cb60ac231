import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@plugchat/core';
import type { ReceivedMessageEvent } from '@plugchat/whatsapp-session';
import { AttendanceSchema, TimelineSchema, type Attendance, type Contact, type Routing } from '../entities.js';
import { closedPeriod } from './businessHours.js';
import type { InboundClaim } from '../api.js';
import type { Helpdesk } from './helpdesk.js';
import { addActivity, addItem, attendanceChanged, itemUpdated, patchAttendance } from './timeline.js';
import type { Work } from './unit.js';
import { preview } from './views.js';

/** The attendance changed between reading and writing: try the unit again. */
class Retry extends Error {}

const openKeyOf = (instanceId: string, contactId: string) => `${instanceId}:${contactId}`;

export function menuText(menu: NonNullable<Routing['menu']>, names: Map<string, string>): string {
  return [menu.text, ...menu.options.map((o) => `${o.key} - ${names.get(o.queueId) ?? o.key}`)].join('\n');
}

/** The option a reply picks: its key ("2") or its queue's name ("suporte"). */
export function pickOption(menu: NonNullable<Routing['menu']>, names: Map<string, string>, text: string | undefined): string | undefined {
  const t = (text ?? '').trim().toLowerCase().replace(/[.)!]+$/, '');
  if (!t) return undefined;
  return menu.options.find((o) => o.key.toLowerCase() === t || names.get(o.queueId)?.toLowerCase() === t)?.queueId;
}

interface Attached {
  att: Attendance;
  created: boolean;
  reopened: boolean;
  enteredQueue: boolean;
  invalidChoice: boolean;
  assigned: boolean;
  itemId: string;
}

/**
 * Customer messages into attendances. The contact's not-resolved attendance on that number
 * takes the message; without one a new attendance opens (or, within the reopen window, the
 * last one reopens). A unique key on open attendances, not a read-then-insert, keeps it to one
 * however many messages arrive at once; a replayed event finds its message there already.
 */
export class Inbound {
  constructor(
    private readonly hd: Helpdesk,
    private readonly claims: () => InboundClaim[] = () => [],
  ) {}

  async ingest(e: ReceivedMessageEvent): Promise<void> {
    if (!/^\d{5,20}$/.test(e.phone)) return; // groups, broadcasts and odd ids never open attendances
    const { accountId, instanceId } = e;
    const direction = e.fromMe ? 'out' : 'in';
    const em = this.hd.units.read(accountId);
    const known = await em.findOne(TimelineSchema, { instanceId, waId: e.messageId, direction });
    if (known) {
      if (!e.waitingMessage) await this.refreshItem(accountId, known.id, e.rowId);
      return;
    }
    // Another plugin may take the message first (a survey's rating never opens an attendance).
    if (!e.fromMe) for (const c of this.claims()) if (await c.claim(e)) return;
    const setup = await this.hd.setup(accountId);
    const routing = setup.routing.get(instanceId) ?? null;
    if (routing && !routing.enabled) return;
    const contact = await this.hd.contacts.upsert(accountId, e.phone, e.fromMe ? undefined : e.senderName);
    if (contact.blocked) return;
    const queues = setup.queues;
    const names = new Map([...queues.values()].map((q) => [q.id, q.name]));
    const active = await this.hd.activeUsers(accountId);
    const msg = await this.hd.sessionMessage(accountId, instanceId, e.rowId);
    let result: Attached | null = null;
    for (let attempt = 0; attempt < 5 && !result; attempt++) {
      try {
        result = await this.hd.units.run(accountId, (w) => this.attach(w, e, contact, routing, names, active, msg));
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException) && !(err instanceof Retry)) throw err;
        // Another process opened the attendance or stored this message first: read again.
        if (await this.hd.units.read(accountId).findOne(TimelineSchema, { instanceId, waId: e.messageId, direction })) return;
      }
    }
    if (!result) throw new Error(`could not attach message ${e.messageId} to an attendance`);
    const { att } = result;
    const ref = await this.hd.ref(att);
    if (result.created) await this.hd.ctx.events.emit('helpdesk.attendance.created', ref);
    if (result.reopened) await this.hd.ctx.events.emit('helpdesk.attendance.reopened', { ...ref, byUserId: null });
    if (result.assigned) await this.hd.emitAssigned(att, null, null);
    await this.hd.ctx.events.emit('helpdesk.message.created', {
      ...ref,
      itemId: result.itemId,
      direction,
      waId: e.messageId,
      sessionMessageId: e.rowId,
      type: e.type,
      text: e.text ?? e.caption,
      authorId: null,
    });
    if (e.fromMe) return;
    // What the customer is told automatically: the menu, the queue's greeting, or that it is closed.
    if (att.menuPending && routing?.menu) {
      if (result.created || result.invalidChoice) {
        await this.hd.sendAutomatic(att, e.phone, (result.invalidChoice ? 'Não entendi sua escolha.\n' : '') + menuText(routing.menu, names), 'menu');
      }
      return;
    }
    const queue = att.queueId ? queues.get(att.queueId) : undefined;
    if (queue?.businessHours?.schedule.length) {
      const period = closedPeriod(queue.businessHours, this.hd.clock.now(), await this.hd.timeZone(accountId));
      if (period) {
        // Once per attendance and closed period, however many messages arrive in it.
        const claimed = await this.hd.units.run(accountId, async (w) =>
          w.em.nativeUpdate(AttendanceSchema, { id: att.id, $or: [{ closedPeriodNotified: null }, { closedPeriodNotified: { $ne: period } }] }, { closedPeriodNotified: period }),
        );
        if (claimed && queue.outOfHoursMessage) await this.hd.sendAutomatic(att, e.phone, queue.outOfHoursMessage, 'out_of_hours');
        return;
      }
    }
    if (result.enteredQueue && queue?.greeting) await this.hd.sendAutomatic(att, e.phone, queue.greeting, 'greeting');
  }

  private async attach(
    w: Work,
    e: ReceivedMessageEvent,
    contact: Contact,
    routing: Routing | null,
    names: Map<string, string>,
    active: Set<string>,
    msg: Awaited<ReturnType<Helpdesk['sessionMessage']>>,
  ): Promise<Attached> {
    const openKey = openKeyOf(e.instanceId, contact.id);
    let att = await w.em.findOne(AttendanceSchema, { openKey }, { refresh: true });
    let created = false;
    let reopened = false;
    if (!att) {
      const last = await w.em.findOne(AttendanceSchema, { instanceId: e.instanceId, contactId: contact.id }, { orderBy: { number: 'desc' }, refresh: true });
      const windowMs = this.hd.ctx.settings.get('helpdesk.reopenWindowMinutes') * 60_000;
      if (last && e.fromMe) {
        att = last; // the phone itself wrote to a customer between attendances: shown in the last one
      } else if (last?.resolvedAt && windowMs > 0 && w.now.getTime() - new Date(last.resolvedAt).getTime() <= windowMs) {
        att = await patchAttendance(w, last, { status: last.assigneeId ? 'open' : 'pending', openKey, resolvedAt: null, reopenedAt: w.now, waitingSince: w.now, firstReplyAt: null, snoozedUntil: null }, { status: 'resolved' });
        if (!att) throw new Retry('attendance changed meanwhile');
        await this.hd.reporting.record(w, att, 'reopened', { agentId: att.assigneeId });
        await addActivity(w, att, 'reopened', { by: 'customer' }, null);
        reopened = true;
      } else {
        att = await this.create(w, e, contact, routing, openKey);
        created = true;
      }
    }
    const item = await addItem(
      w,
      att,
      { kind: 'message', instanceId: e.instanceId, sessionMessageId: e.rowId, waId: e.messageId, direction: e.fromMe ? 'out' : 'in', data: { type: e.type, ...(e.fromMe ? { fromPhone: true } : {}) } },
      msg,
    );
    const patch: Partial<Attendance> = e.type === 'reaction' ? {} : { lastMessageAt: w.now, lastPreview: preview(e.type, e.text, e.caption) };
    let enteredQueue = created && !!att.queueId;
    let invalidChoice = false;
    if (!e.fromMe) {
      patch.unread = att.unread + 1;
      patch.waitingSince = att.waitingSince ?? w.now;
      if (att.status === 'snoozed') Object.assign(patch, { status: att.assigneeId ? 'open' : 'pending', snoozedUntil: null });
      if (att.menuPending && routing?.menu && !created) {
        const queueId = pickOption(routing.menu, names, e.text);
        if (queueId) Object.assign(patch, { queueId, menuPending: false }), (enteredQueue = true);
        else invalidChoice = true;
      }
    }
    att = (await patchAttendance(w, att, patch)) ?? att;
    // Received by the agent who holds the attendance now (null while it waits in the queue).
    if (e.type !== 'reaction') await this.hd.reporting.record(w, att, e.fromMe ? 'message_out' : 'message_in', { agentId: e.fromMe ? null : att.assigneeId });
    if (enteredQueue && queueIdChanged(patch)) await addActivity(w, att, 'queue_chosen', { queueId: att.queueId }, null);
    let assigned = false;
    if (enteredQueue) {
      const next = await this.hd.assignment.assignNext(w, att, active);
      if (next) (att = next), (assigned = true);
    }
    return { att, created, reopened, enteredQueue, invalidChoice, assigned, itemId: item.id };
  }

  private async create(w: Work, e: ReceivedMessageEvent, contact: Contact, routing: Routing | null, openKey: string): Promise<Attendance> {
    const last = await w.em.findOne(AttendanceSchema, {}, { orderBy: { number: 'desc' }, fields: ['number'] });
    const menu = !e.fromMe && !!routing?.menu?.options.length;
    const att: Attendance = {
      id: randomUUID(),
      number: (last?.number ?? 0) + 1,
      accountId: e.accountId,
      instanceId: e.instanceId,
      contactId: contact.id,
      queueId: menu ? null : (routing?.defaultQueueId ?? null),
      assigneeId: null,
      status: 'pending',
      priority: 'normal',
      openKey,
      menuPending: menu,
      closedPeriodNotified: null,
      version: 1,
      unread: 0,
      lastPreview: null,
      snoozedUntil: null,
      createdAt: w.now,
      reopenedAt: null,
      assignedAt: null,
      firstReplyAt: null,
      waitingSince: null,
      resolvedAt: null,
      lastMessageAt: w.now,
    };
    await w.em.insert(AttendanceSchema, att);
    await this.hd.reporting.record(w, att, 'created');
    await attendanceChanged(w, att);
    await addActivity(w, att, 'created', { queueId: att.queueId, fromPhone: e.fromMe }, null);
    return att;
  }

  /** A "waiting for this message" entry that was decrypted later: the agents' view refreshes. */
  private async refreshItem(accountId: string, itemId: string, rowId: string) {
    const item = await this.hd.units.read(accountId).findOne(TimelineSchema, { id: itemId });
    if (!item) return;
    const msg = await this.hd.sessionMessage(accountId, item.instanceId!, rowId);
    await this.hd.units.run(accountId, async (w) => {
      const att = await w.em.findOne(AttendanceSchema, { id: item.attendanceId });
      if (!att) return;
      itemUpdated(w, att, item, msg);
    });
  }
}

const queueIdChanged = (patch: Partial<Attendance>) => 'queueId' in patch;
