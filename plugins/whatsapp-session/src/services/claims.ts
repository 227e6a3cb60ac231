import type { PluginContext } from '@plugchat/core';
import { toDate, WAITING, type MessageRow, type Store } from '../store.js';
import type { InstanceSession } from '../transport/session.js';
import type { OutgoingRequest } from './content.js';
import type { Instance } from './instances.js';
import { toMessage, type Message } from './messages.js';
import type { SendingDeps } from './sending.js';
import type { Settings } from './settings.js';

/** Due messages the sender reads at once. */
const READ_AHEAD = 20;

/**
 * Which message an instance's sender sends next: the due ones read ahead (at pacing 0 claimed in
 * the same statement), each claimed before it goes, and the send ramp's holds, looked at again
 * when they may end.
 */
export class Claims {
  /** Instances holding messages over their send ramp's limit: a timer looks again when their day may have turned. */
  private readonly held = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    private readonly deps: Pick<SendingDeps, 'session' | 'leases' | 'ramp'>,
    /** Nudges the instance's sender. */
    private readonly wake: (instanceId: string) => void,
  ) {}

  /** The instance's next due message, claimed for sending; undefined when there is none or the session cannot send now. */
  async next(instance: Instance, due: Due): Promise<Claimed | undefined> {
    for (;;) {
      const session = this.deps.session(instance.id);
      if (!session?.open || !session.sock) return undefined;
      // A lease that may have lapsed may be another process's now: it sends, not us.
      if (this.deps.leases && !this.deps.leases.valid()) return undefined;
      const now = this.deps.ramp.now();
      if (!due.rows.length) {
        // The last claim found fewer than it asked for: all that was due then is in hand, and what
        // is queued since wakes this sender. So it asks again only when woken (by the time the send
        // under way is out, as a client's next message often is), not to find nothing.
        if (due.together && !due.more) {
          await due.sending?.catch(() => undefined);
          if (!due.woken()) return undefined;
        }
        const next = this.store
          .messages()
          .where({ instance_id: instance.id })
          .whereRaw(WAITING)
          .andWhere((q) => q.whereNull('hold_until').orWhere('hold_until', '<=', now))
          .orderBy('seq', 'asc')
          .limit(READ_AHEAD);
        // Being sent here, or sent a moment ago with its outcome still being recorded: not due again.
        if (due.sent.size) next.whereNotIn('id', [...due.sent]);
        if (due.together) {
          // Read and claimed in one statement (what is removed or cleared meanwhile is neither);
          // the rows come back as claimed, in no set order.
          const claimed: MessageRow[] = await this.store
            .messages()
            .whereIn('id', next.select('id'))
            .whereIn('status', ['QUEUED', 'SENDING'])
            .update({ status: 'SENDING', attempts: this.store.knex.raw('?? + 1', ['attempts']), updated_at: new Date() }, '*');
          due.rows = claimed.sort((a, b) => Number(a.seq) - Number(b.seq));
          due.claimed = new Set(claimed.map((r) => r.id));
          due.more = claimed.length === READ_AHEAD;
        } else due.rows = await next;
      }
      const row = due.rows.shift();
      // Nothing due: with a ramp, some may wait for a later day (without one nothing is held: turning it off releases them).
      if (!row) return instance.sendRamp ? void (await this.recheckHeld(instance.id, now)) : undefined;
      const msg = toMessage(row);
      if (due.claimed.delete(row.id)) return { session, msg, req: msg.content as unknown as OutgoingRequest, now };
      // Over the send ramp's limit for today (a contact who never wrote first): held for tomorrow, the rest go on.
      // (A message already being sent when a process died was judged then: it goes again as it is.)
      const ramp = row.status === 'SENDING' ? { go: true as const, day: null } : await this.deps.ramp.verdict(instance, msg.chat);
      if (!ramp.go) {
        await this.store.messages().where({ id: msg.id, status: 'QUEUED' }).update({ hold_until: ramp.until, updated_at: new Date() });
        continue;
      }
      // A retry after a crash resends with the same WhatsApp id, so the customer sees it once.
      const claimed = await this.store
        .messages()
        .where({ id: msg.id })
        .whereIn('status', ['QUEUED', 'SENDING'])
        .update({ status: 'SENDING', attempts: msg.attempts + 1, updated_at: new Date(), ...(ramp.day ? { ramp_day: ramp.day } : {}) });
      // Taken off the queue meanwhile (removed, cleared): not sent.
      if (claimed) return { session, msg, req: msg.content as unknown as OutgoingRequest, now };
    }
  }

  /** The send ramp changed: what it held is judged again by the new one, now. */
  async releaseHeld(instanceId: string): Promise<void> {
    await this.store.messages().where({ instance_id: instanceId, direction: 'out', status: 'QUEUED' }).whereNotNull('hold_until').update({ hold_until: null });
    this.wake(instanceId);
  }

  /** Some messages wait for a later day: the sender looks again then (or after `rampRecheckSeconds`, whichever is sooner). */
  private async recheckHeld(instanceId: string, now: Date): Promise<void> {
    clearTimeout(this.held.get(instanceId));
    this.held.delete(instanceId);
    const next = await this.store.messages().where({ instance_id: instanceId, direction: 'out', status: 'QUEUED' }).andWhere('hold_until', '>', now).min({ at: 'hold_until' }).first();
    const at = toDate(next?.at ?? null);
    if (!at) return;
    const ms = Math.min(at.getTime() - now.getTime(), this.ctx.settings.get('whatsapp-session.rampRecheckSeconds') * 1000);
    const timer = setTimeout(() => {
      this.held.delete(instanceId);
      this.wake(instanceId);
    }, Math.max(50, ms));
    timer.unref();
    this.held.set(instanceId, timer);
  }
}

/**
 * The due messages read ahead, which of them are claimed already (read and claimed together), those
 * in hand (being sent, or sent with the outcome not recorded yet), and whether the last claim may
 * have left some due (it found as many as it asked for); the send under way, and whether the
 * sender was woken since it last asked.
 */
export type Due = { rows: MessageRow[]; claimed: Set<string>; sent: Set<string>; together: boolean; more: boolean; sending?: Promise<unknown>; woken: () => boolean };
/** A message claimed for sending, with the session that sends it. */
export type Claimed = { session: InstanceSession; msg: Message; req: OutgoingRequest; now: Date };
