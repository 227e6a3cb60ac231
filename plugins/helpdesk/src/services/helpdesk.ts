import type { PluginContext } from '@plugchat/core';
import type { OutgoingRequest, SessionMessage, WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import type { AttendanceRef } from '../api.js';
import { ContactSchema, PreferencesSchema, QueueSchema, RoutingSchema, type Attendance, type Queue, type Routing } from '../entities.js';
import type { Settings } from '../settings.js';
import { Assignment } from './assignment.js';
import { ShortCache } from './cache.js';
import { Contacts } from './contacts.js';
import { Reporting } from './reporting.js';
import { addItem, fresh, patchAttendance } from './timeline.js';
import type { Units } from './unit.js';
import { preview } from './views.js';

/** The helpdesk's shared parts: storage, the session API, assignment, and what every flow emits. */
export class Helpdesk {
  readonly assignment: Assignment;
  readonly contacts: Contacts;
  readonly reporting: Reporting;
  private readonly cache = new ShortCache(5_000);

  constructor(
    readonly units: Units,
    readonly ctx: PluginContext<Settings>,
    readonly session: WhatsAppSessionApi,
  ) {
    this.reporting = new Reporting(ctx);
    this.assignment = new Assignment(units, ctx, this.reporting);
    this.contacts = new Contacts(units);
    // A change made through another process drops the entry here too.
    ctx.subscriptions.push(
      ctx.cluster.on('helpdesk.forget', (p: { accountId: string }, from) => {
        if (from !== ctx.cluster.nodeId) this.drop(p.accountId);
      }),
    );
  }

  /** The account's queues and per-number routing, as every incoming message needs them. */
  setup(accountId: string): Promise<{ queues: Map<string, Queue>; routing: Map<string, Routing> }> {
    return this.cache.get(`setup:${accountId}`, async () => {
      const em = this.units.read(accountId);
      const [queues, routing] = await Promise.all([em.find(QueueSchema, {}), em.find(RoutingSchema, {})]);
      return { queues: new Map(queues.map((q) => [q.id, q])), routing: new Map(routing.map((r) => [r.instanceId, r])) };
    });
  }

  /** Users who may take work (not disabled); read before a unit of work, never inside one. */
  activeUsers(accountId: string): Promise<Set<string>> {
    return this.cache.get(`users:${accountId}`, async () => new Set((await this.ctx.users.list(accountId)).filter((u) => !u.disabled).map((u) => u.id)));
  }

  /** The account's time zone: day boundaries of reports, business hours that name none. */
  timeZone(accountId: string): Promise<string> {
    return this.cache.get(`tz:${accountId}`, async () => (await this.units.read(accountId).findOne(PreferencesSchema, { accountId }))?.timeZone ?? this.ctx.settings.get('helpdesk.timeZone'));
  }

  /** After a change to queues, routing, users or preferences: here, and in every other process. */
  forget(accountId: string): void {
    this.drop(accountId);
    if (this.ctx.cluster.mode === 'cluster') void this.ctx.cluster.broadcast('helpdesk.forget', { accountId }).catch(() => {});
  }

  private drop(accountId: string): void {
    this.cache.drop(`setup:${accountId}`);
    this.cache.drop(`users:${accountId}`);
    this.cache.drop(`tz:${accountId}`);
  }

  get clock() {
    return this.units.clock;
  }

  async ref(att: Attendance): Promise<AttendanceRef> {
    const contact = await this.units.read(att.accountId).findOne(ContactSchema, { id: att.contactId });
    return {
      accountId: att.accountId,
      attendanceId: att.id,
      number: att.number,
      instanceId: att.instanceId,
      contactId: att.contactId,
      phone: contact?.phone ?? '',
      queueId: att.queueId,
      assigneeId: att.assigneeId,
    };
  }

  async emitAssigned(att: Attendance, previousAssigneeId: string | null, byUserId: string | null) {
    await this.ctx.events.emit('helpdesk.attendance.assigned', { ...(await this.ref(att)), previousAssigneeId, byUserId });
  }

  /** After capacity frees up: waiting attendances go to whoever has room, with their events. */
  rebalance(accountId: string) {
    return this.assignment.rebalance(accountId, () => this.activeUsers(accountId), (att) => this.emitAssigned(att, null, null));
  }

  async sessionMessage(accountId: string, instanceId: string, id: string): Promise<SessionMessage | undefined> {
    return (await this.session.messages(accountId, instanceId, [id]))[0];
  }

  /**
   * Sends a message into the attendance's chat and records it on the timeline. `authorId` null
   * marks an automatic message (menu, greeting, out-of-hours, transfer note), which is not an
   * agent's reply for the metrics.
   */
  async send(att: Attendance, phone: string, request: OutgoingRequest, opts: { authorId: string | null; automatic?: string; media?: { value: string; field: string } }) {
    const ids = await this.session.send(att.accountId, att.instanceId, phone, request, opts.media);
    const msg = await this.sessionMessage(att.accountId, att.instanceId, ids.zaapId);
    const text = request.text ?? request.caption;
    const result = await this.units.run(att.accountId, async (w) => {
      const current = (await fresh(w, att.id))!;
      const item = await addItem(
        w,
        current,
        { kind: 'message', instanceId: att.instanceId, sessionMessageId: ids.zaapId, waId: ids.messageId, direction: 'out', authorId: opts.authorId, data: { type: request.kind, ...(opts.automatic ? { automatic: opts.automatic } : {}) } },
        msg,
      );
      const human = opts.authorId !== null && request.kind !== 'reaction';
      const patch: Partial<Attendance> = request.kind === 'reaction' ? {} : { lastMessageAt: w.now, lastPreview: preview(request.kind, text) };
      if (request.kind !== 'reaction') await this.reporting.record(w, current, 'message_out', { agentId: opts.authorId });
      if (human) {
        Object.assign(patch, { firstReplyAt: current.firstReplyAt ?? w.now, waitingSince: null });
        // The first human reply of the attendance (or of its reopening); later ones answer a waiting customer.
        if (!current.firstReplyAt) await this.reporting.record(w, current, 'first_response', { since: current.reopenedAt ?? current.createdAt, agentId: opts.authorId });
        else if (current.waitingSince) await this.reporting.record(w, current, 'reply_time', { since: current.waitingSince, agentId: opts.authorId });
      }
      const next = Object.keys(patch).length ? ((await patchAttendance(w, current, patch)) ?? current) : current;
      return { item, att: next };
    });
    await this.ctx.events.emit('helpdesk.message.created', {
      ...(await this.ref(result.att)),
      itemId: result.item.id,
      direction: 'out',
      waId: ids.messageId,
      sessionMessageId: ids.zaapId,
      type: request.kind,
      text,
      authorId: opts.authorId,
    });
    return { ...ids, item: result.item, msg, attendance: result.att };
  }

  /** An automatic message; a failure (opt-out, full queue, disconnected) is logged, not thrown. */
  async sendAutomatic(att: Attendance, phone: string, text: string, kind: string) {
    try {
      await this.send(att, phone, { kind: 'text', text }, { authorId: null, automatic: kind });
    } catch (err) {
      this.ctx.logger.warn({ err, attendance: att.id, kind }, 'automatic message not sent');
    }
  }
}
