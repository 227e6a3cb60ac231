import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupCommit, notFound, tooManyRequests, unprocessable, type JobHandle, type PluginContext } from '@plugchat/core';
import { nextSeq, WAITING, type MessageRow, type Store } from '../store.js';
import { insertQueued, QUEUED_INSERT_MAX_ROWS } from './queuedInsert.js';
import type { InstanceSession } from '../transport/session.js';
import type { Outbox } from '../outbox.js';
import type { OutgoingRequest } from './content.js';
import type { Instance } from './instances.js';
import { jidOf } from './jids.js';
import { newMessageId } from './messageIds.js';
import { toMessage, type Message } from './messages.js';
import type { InstanceLeases } from './leases.js';
import type { Settings } from './settings.js';
import type { OptOuts } from './optOuts.js';
import type { SendRamp } from './sendRamp.js';
import { MessageStatuses } from './messageStatus.js';
import { sendOne, type Outcome } from './sendOne.js';
import { Claims, type Claimed, type Due } from './claims.js';

export type SendJob = { instanceId: string; messageId: string };

/** What the sender needs of the rest of the service. */
export interface SendingDeps {
  /** This process's session of an instance, if it runs it. */
  session(instanceId: string): InstanceSession | undefined;
  find(instanceId: string): Promise<Instance | undefined>;
  /** Other plugins' say on sending (billing's veto). */
  gate(instance: Instance, action: 'send'): Promise<void>;
  leases?: InstanceLeases;
  optOuts: OptOuts;
  ramp: SendRamp;
  log(): PluginContext['logger'];
}

/** At most one cluster wake-up per instance this often (plus one trailing), whatever the send rate. */
const WAKE_GAP_MS = 20;
/** How long a queue length read from the database stands (counting the sends made here since). */
const QUEUE_COUNT_MS = 1_000;

/**
 * The durable send queue. Its truth is the messages table: a pg-boss job only wakes the
 * instance's sender, which sends its oldest queued message first, so order holds and nothing is
 * lost when a job or process dies. Statuses move forward only, each announced once.
 */
export class Sending {
  sendJob?: JobHandle<SendJob>;
  private readonly lastWake = new Map<string, number>();
  private readonly draining = new Map<string, { again: boolean; promise: Promise<void> }>();
  /** Each instance's queue length as last read, plus what was queued here since. */
  private readonly queued = new Map<string, { at: number; n: number }>();
  /** Counts of an instance's queue under way. */
  private readonly counting = new Map<string, Promise<number>>();
  /** Sends arriving together are written in one statement (one commit for many). */
  private readonly inserts: GroupCommit<Partial<MessageRow>>;
  /** Message statuses: what the sender records, and what WhatsApp acknowledges. */
  readonly statuses: MessageStatuses;
  /** Which message goes next, and the send ramp's holds. */
  readonly claims: Claims;

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    outbox: Outbox,
    private readonly deps: SendingDeps,
  ) {
    // All or nothing: a caller told its send failed may retry it, so no part of a failed batch may stay.
    this.inserts = new GroupCommit((rows) => insertQueued(this.store.knex, rows), QUEUED_INSERT_MAX_ROWS);
    this.statuses = new MessageStatuses(store, outbox);
    this.claims = new Claims(store, ctx, deps, (id) => this.wake(id));
  }

  /**
   * The instance's queue length for the full-queue check. Read at most once a second: the limit is a
   * guard against runaway clients, and another process's sends of the last second may pass it.
   */
  private async queueLength(instanceId: string): Promise<number> {
    const hit = this.queued.get(instanceId);
    if (hit && Date.now() - hit.at < QUEUE_COUNT_MS) return hit.n;
    // The sends that find the count stale together share one count: it reads every queued row,
    // and twenty of them at once took a sixth of the embedded database's time under load.
    let counting = this.counting.get(instanceId);
    if (!counting) {
      counting = (async () => {
        const waiting = await this.store.messages().where({ instance_id: instanceId }).whereRaw(WAITING).count({ n: '*' }).first();
        const n = Number(waiting?.n ?? 0);
        this.queued.set(instanceId, { at: Date.now(), n });
        return n;
      })().finally(() => this.counting.delete(instanceId));
      this.counting.set(instanceId, counting);
    }
    return counting;
  }

  /** Waits (at most `ms`) for the sends in flight to record their status. */
  async settle(ms: number): Promise<void> {
    const running = [...this.draining.values()].map((d) => d.promise.catch(() => {}));
    await Promise.race([Promise.all(running), sleep(ms)]);
  }

  /** Sends what the given instances (just taken over) left queued, where this process holds their socket. */
  async sweep(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const rows: { instance_id: string }[] = await this.store.messages().whereIn('instance_id', ids).where({ direction: 'out' }).whereIn('status', ['QUEUED', 'SENDING']).distinct('instance_id');
    for (const r of rows) if (this.deps.session(r.instance_id)?.open) void this.drain(r.instance_id).catch((err) => this.deps.log().error({ err, instance: r.instance_id }, 'drain failed'));
  }

  private queueLimit(instance: Instance) {
    return instance.queueLimit ?? this.ctx.settings.get('whatsapp-session.queueLimit');
  }

  isOptedOut(accountId: string, phone: string): Promise<boolean> {
    return this.deps.optOuts.has(accountId, phone);
  }

  /** Validated request in, queued message out: answers at once with the ids (the WhatsApp id is fixed now). */
  async enqueue(instance: Instance, phone: string, req: OutgoingRequest, media?: { data: Buffer; mimetype?: string }, key?: string): Promise<{ zaapId: string; messageId: string; id: string }> {
    const keyed = async () => {
      const found = key ? await this.store.messages().where({ instance_id: instance.id, client_key: key }).first() : undefined;
      return found ? { zaapId: found.id, messageId: found.wa_id, id: found.wa_id } : undefined;
    };
    const earlier = await keyed();
    if (earlier) return earlier;
    await this.deps.gate(instance, 'send');
    if (await this.isOptedOut(instance.accountId, phone)) {
      throw unprocessable(`${phone} asked not to receive messages (opt-out). Remove it from the opt-out list only with the person's consent.`, 'opted_out', { phone });
    }
    if ((await this.queueLength(instance.id)) >= this.queueLimit(instance)) throw tooManyRequests(60, `The queue of this instance is full (${this.queueLimit(instance)} messages). Wait for it to drain or clear it.`);
    const zaapId = randomUUID().replace(/-/g, '').toUpperCase();
    const waId = newMessageId();
    let mediaPath: string | null = null;
    if (media) {
      const dir = path.join(this.ctx.dataDir, 'outbox', instance.id);
      mkdirSync(dir, { recursive: true });
      mediaPath = path.join(dir, zaapId);
      writeFileSync(mediaPath, media.data);
      if (!req.mimetype && media.mimetype) req.mimetype = media.mimetype;
    }
    const now = new Date();
    const row: Partial<MessageRow> = {
      id: zaapId,
      account_id: instance.accountId,
      instance_id: instance.id,
      wa_id: waId,
      chat: jidOf(phone),
      direction: 'out',
      type: req.kind,
      content: JSON.stringify(req),
      status: 'QUEUED',
      error: null,
      seq: nextSeq(),
      from_me: true,
      waiting: null,
      media_path: mediaPath,
      delay_ms: req.delayMessageMs ?? null,
      attempts: 0,
      created_at: now,
      updated_at: now,
      sent_at: null,
      ...(key ? { client_key: key } : {}),
    };
    try {
      // A keyed send may meet its twin's row: alone, so a conflict fails only it.
      await (key ? this.store.messages().insert(row) : this.inserts.add(row));
    } catch (err) {
      // The same key queued meanwhile (another process, a replayed event): that message stands.
      const raced = await keyed();
      if (raced) return raced;
      throw err;
    }
    const counted = this.queued.get(instance.id);
    if (counted) counted.n++;
    // The row is durable already; the job wakes the instance's sender (in whichever process owns it).
    // One waiting wake-up per instance is enough (the queue is "stately"), so a burst sends one per second.
    // Where this process holds the open session the drain starts here and now (and a session that
    // closes sends what is queued when it opens again): no job is needed.
    const last = this.lastWake.get(instance.id) ?? 0;
    if (!this.deps.session(instance.id)?.open && Date.now() - last > 1000) {
      this.lastWake.set(instance.id, Date.now());
      await this.sendJob?.send({ instanceId: instance.id, messageId: zaapId }, { singletonKey: instance.id }).catch((err) => {
        this.deps.log().warn({ err, instance: instance.id }, 'could not queue the wake-up job; the message waits for the next drain');
      });
    }
    this.wake(instance.id);
    return { zaapId, messageId: waId, id: waId };
  }

  /** Nudges the instance's sender: here when this process holds the session, else on its owner. */
  wake(instanceId: string): void {
    if (this.deps.session(instanceId)?.open) void this.drain(instanceId).catch((err) => this.deps.log().error({ err, instance: instanceId }, 'drain failed'));
    else if (this.deps.leases) this.wakeOwner(instanceId);
  }

  /** Remote wake-ups in flight per instance: `again` when more sends came since the last one went. */
  private readonly remoteWakes = new Map<string, { again: boolean }>();

  /**
   * Wakes the owning process through the cluster: once per WAKE_GAP_MS per instance, and once
   * more at the end of the gap when sends came meanwhile. Its drain reads all that is queued, so
   * a burst of sends costs a few notices, not one each.
   */
  private wakeOwner(instanceId: string): void {
    const pending = this.remoteWakes.get(instanceId);
    if (pending) {
      pending.again = true;
      return;
    }
    const state = { again: false };
    this.remoteWakes.set(instanceId, state);
    void this.ctx.cluster.broadcast('whatsapp-session.wake', { instanceId }).catch((err) => this.deps.log().warn({ err }, 'could not wake the owner; its next lease round sends'));
    setTimeout(() => {
      this.remoteWakes.delete(instanceId);
      if (state.again) this.wakeOwner(instanceId);
    }, WAKE_GAP_MS).unref();
  }

  /** Sends the instance's queued messages in order, one at a time, with its pacing. */
  drain(instanceId: string): Promise<void> {
    const running = this.draining.get(instanceId);
    if (running) {
      // Coalesce: the running sender looks once more before it stops.
      running.again = true;
      return running.promise;
    }
    const state = { again: false, promise: Promise.resolve() };
    state.promise = (async () => {
      do {
        state.again = false;
        await this.drainNow(instanceId, () => {
          // A wake-up taken here is looked at by this round: the loop need not come round for it.
          const woken = state.again;
          state.again = false;
          return woken;
        });
      } while (state.again);
    })().finally(() => this.draining.delete(instanceId));
    this.draining.set(instanceId, state);
    return state.promise;
  }

  private async drainNow(instanceId: string, woken: () => boolean): Promise<void> {
    const instance = await this.deps.find(instanceId);
    if (!instance) return;
    const min = instance.delayMinMs ?? this.ctx.settings.get('whatsapp-session.defaultDelayMinMs');
    const max = instance.delayMaxMs ?? this.ctx.settings.get('whatsapp-session.defaultDelayMaxMs');
    // The next few due messages are read together. With pacing 0 and no ramp they are claimed
    // together too (one write for the whole read-ahead, which goes out within a blink at that pace,
    // so a clear that comes meanwhile no longer stops them, as it never stopped the one being sent);
    // otherwise each is claimed when its turn comes (one removed meanwhile is skipped).
    const due: Due = { rows: [], claimed: new Set(), sent: new Set(), together: min === 0 && max === 0 && !instance.sendRamp, more: true, woken };
    // Outcomes are recorded behind the sends, in send order (statuses' writes are grouped in
    // arrival order), while the next message goes out: the sender waits for no commit of its own.
    const recording = new Set<Promise<void>>();
    const record = (session: InstanceSession, msg: Message, outcome: Outcome, release: () => void) => {
      // Sent only once the Signal session it advanced is stored: a restart must not encrypt with the older one.
      const write = session
        .keysStored()
        .then(() => this.statuses.record(instance, msg, outcome.status, outcome.error, outcome.status === 'SENT' ? { raw: outcome.raw } : {}))
        .catch((err) => this.deps.log().error({ err, instance: instanceId, message: msg.id }, 'could not record a send; it stays queued and goes again with the same id'))
        .finally(() => {
          recording.delete(write);
          release();
        });
      recording.add(write);
    };
    let next: Promise<Claimed | undefined> | undefined = this.claims.next(instance, due);
    try {
      for (;;) {
        const claimed = await next;
        next = undefined;
        if (!claimed) return;
        const { session, msg, req, now } = claimed;
        due.sent.add(msg.id);
        const delay = req.delayMessageMs ?? Math.round(min + Math.random() * Math.max(0, max - min));
        if (delay > 0) await sleep(delay);
        // Until the send's outcome is recorded, receipts for it wait (and the server's ack is the sender's to record).
        const done = this.statuses.sending(msg.waId);
        const release = () => {
          due.sent.delete(msg.id);
          done();
        };
        const sending = sendOne(this.store, instance.id, session, msg, req, now);
        due.sending = sending;
        // The next message is claimed while this one is encrypted and sent (one it finds closed stays claimed and goes after the reconnect).
        next = this.claims.next(instance, due);
        let outcome: Outcome | undefined;
        try {
          outcome = await sending;
        } finally {
          if (outcome) record(session, msg, outcome, release);
          else release();
        }
        if (!outcome) return;
      }
    } finally {
      await Promise.all([...recording, next?.catch(() => undefined)]);
    }
  }

  /** The messages waiting to be sent, oldest first. */
  async queue(instance: Instance): Promise<Message[]> {
    return (await this.store.messages().where({ instance_id: instance.id }).whereRaw(WAITING).orderBy('seq', 'asc')).map(toMessage);
  }

  async removeFromQueue(instance: Instance, zaapId: string): Promise<void> {
    const n = await this.store.messages().where({ instance_id: instance.id, id: zaapId, status: 'QUEUED' }).delete();
    this.queued.delete(instance.id);
    if (!n) throw notFound('Queued message');
  }

  async clearQueue(instance: Instance): Promise<number> {
    const n = await this.store.messages().where({ instance_id: instance.id, status: 'QUEUED', direction: 'out' }).delete();
    // Room in the queue shows at once, not when the length is next read.
    this.queued.delete(instance.id);
    return n;
  }
}
