import { GroupCommit, stableUuid, type Knex } from '@plugchat/core';
import type { Outbox } from '../outbox.js';
import { PREVIOUS, type MessageStatus, type Store } from '../store.js';
import type { Instance } from './instances.js';
import { phoneOf } from './jids.js';
import { toMessage, type Message } from './messages.js';

/** How many recent sends a process keeps in mind (a few seconds of sending at full speed; about 200 bytes each). */
const RECENT = 10_000;
/** The order a batch's changes are written in: a message's later status after its earlier one. */
const WRITE_ORDER: MessageStatus[] = ['FAILED', 'SENT', 'RECEIVED', 'READ', 'PLAYED'];

/** Baileys' WebMessageInfo.Status values, as our statuses. */
const STATUS_FROM_BAILEYS: Record<number, MessageStatus | undefined> = { 0: 'FAILED', 2: 'SENT', 3: 'RECEIVED', 4: 'READ', 5: 'PLAYED' };

/**
 * The statuses of the messages an instance sends: what the sender records (SENT, FAILED) and what
 * WhatsApp acknowledges (the server's ack, the phone's receipts), each transition recorded and
 * announced once, in order.
 */
export class MessageStatuses {
  /** WhatsApp ids of the messages being sent now, settled once their outcome is recorded. */
  private readonly inSend = new Map<string, Promise<void>>();
  /**
   * The messages this process sent last (by instance and WhatsApp id), with the status it last
   * recorded: their echo and their receipts need no read of the row. Oldest forgotten first.
   */
  private readonly recent = new Map<string, { msg: Pick<Message, 'id' | 'waId' | 'chat'>; status: MessageStatus }>();

  /** Changes arriving together (a run of sends, a burst of receipts) are written in one statement per status, in one commit. */
  private readonly writes = new GroupCommit<Change>((changes) => this.write(changes), 200);

  constructor(
    private readonly store: Store,
    private readonly outbox: Outbox,
  ) {}

  /** The sender starts sending a message: receipts for it wait until the returned function is called (its outcome recorded). */
  sending(waId: string): () => void {
    let settled!: () => void;
    this.inSend.set(waId, new Promise<void>((r) => (settled = r)));
    return () => {
      this.inSend.delete(waId);
      settled();
    };
  }

  /** Whether this process is sending or just sent the message (so it is stored): Baileys echoes our own sends back. */
  sentHere(instanceId: string, waId: string): boolean {
    return this.inSend.has(waId) || this.recent.has(`${instanceId} ${waId}`);
  }

  private remember(instanceId: string, msg: Pick<Message, 'id' | 'waId' | 'chat'>, status: MessageStatus) {
    const key = `${instanceId} ${msg.waId}`;
    this.recent.delete(key);
    this.recent.set(key, { msg: { id: msg.id, waId: msg.waId, chat: msg.chat }, status });
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
  }

  /** What WhatsApp says of our messages (Baileys' statuses by WhatsApp id). */
  async onStatus(instance: Instance, updates: { id: string; status: number }[]) {
    for (const u of updates) {
      const status = STATUS_FROM_BAILEYS[u.status];
      if (!status) continue;
      // A message being sent here: the server's ack is the sender's to record, a receipt waits for it.
      const sending = this.inSend.get(u.id);
      if (sending && status === 'SENT') continue;
      await sending;
      const known = this.recent.get(`${instance.id} ${u.id}`);
      const row = known ? undefined : await this.store.messages().where({ instance_id: instance.id, wa_id: u.id, direction: 'out' }).first();
      const current = known?.status ?? (row?.status as MessageStatus | undefined);
      // Already there or past it (the server's ack of a send the sender recorded): nothing to write.
      if (current && PREVIOUS[status].includes(current)) await this.record(instance, known?.msg ?? toMessage(row!), status, undefined, {}, current);
    }
  }

  /**
   * Moves a message to `status` only from a status it advances from, in one conditional
   * update: however many paths observe the same transition (the send loop, the server's
   * ack, a receipt replayed after a reconnect), it happens and is announced once, with an
   * event id derived from (message, status).
   */
  async record(instance: Instance, msg: Pick<Message, 'id' | 'waId' | 'chat'>, status: MessageStatus, error?: string, extra: { raw?: string | null } = {}, current?: MessageStatus) {
    // A receipt can overtake the send's own acknowledgement (after a crash, say): the message was
    // sent all the same, so SENT (and its DeliveryCallback) is recorded first (unless it is known to be).
    if ((status === 'RECEIVED' || status === 'READ' || status === 'PLAYED') && (!current || PREVIOUS.SENT.includes(current))) await this.record(instance, msg, 'SENT');
    await this.writes.add({ instance, msg, status, error, raw: extra.raw });
  }

  /** Writes a batch of changes, each only from a status it advances from, and announces those that happened. */
  private async write(changes: Change[]): Promise<void> {
    const durable = this.outbox.needed('whatsapp-session.message.status');
    const at = new Date();
    const apply = async (db: Knex) => {
      const happened: Change[] = [];
      for (const status of WRITE_ORDER) {
        // One change per message and status (the same one twice changes nothing more).
        const group = new Map(changes.filter((c) => c.status === status).map((c) => [c.msg.id, c]));
        if (!group.size) continue;
        const values: Record<string, unknown> = {
          status,
          updated_at: at,
          error: perRow(db, 'error', [...group.values()].filter((c) => c.error).map((c) => [c.msg.id, c.error!]), false),
          ...(status === 'SENT' ? { sent_at: at } : {}),
        };
        const raws = [...group.values()].filter((c) => c.raw !== undefined).map((c) => [c.msg.id, c.raw ?? null] as [string, string | null]);
        if (raws.length) values.raw = perRow(db, 'raw', raws, true);
        const rows: { id: string }[] = await db('whatsapp_session_messages').whereIn('id', [...group.keys()]).whereIn('status', PREVIOUS[status]).update(values, ['id']);
        const changed = new Set(rows.map((r) => r.id));
        for (const c of group.values()) if (changed.has(c.msg.id)) happened.push(c);
      }
      // The statuses and their events commit together, so a crash cannot lose the webhooks that follow.
      if (durable) await this.outbox.addAll('whatsapp-session.message.status', happened.map(eventOf), db as Knex.Transaction);
      return happened;
    };
    const happened = durable ? await this.store.knex.transaction(apply) : await apply(this.store.knex);
    for (const c of happened) this.remember(c.instance.id, c.msg, c.status);
    if (durable) {
      if (happened.length) await this.outbox.dispatch();
    } else
      for (const { id, payload } of happened.map(eventOf)) await this.outbox.add('whatsapp-session.message.status', payload, undefined, id);
  }
}

/** A status change to record. */
type Change = { instance: Instance; msg: Pick<Message, 'id' | 'waId' | 'chat'>; status: MessageStatus; error?: string; raw?: string | null };

/** The event announcing a change, with an id derived from (message, status) so a replay carries the same. */
function eventOf(c: Change) {
  const { instance, msg, status, error } = c;
  return {
    id: stableUuid(`${msg.id}:${status}`),
    payload: { instanceId: instance.id, accountId: instance.accountId, zaapId: msg.id, messageId: msg.waId, phone: phoneOf(msg.chat), status, ...(error ? { error } : {}) },
  };
}

/** A column's value per message in one update: `case id when … then … end`, else what it held (`keep`) or null. */
function perRow(db: Knex, column: string, values: [string, string | null][], keep: boolean) {
  if (!values.length) return keep ? db.raw('??', [column]) : null;
  return db.raw(`case ?? ${values.map(() => 'when ? then ?').join(' ')} else ${keep ? '??' : 'null'} end`, ['id', ...values.flat(), ...(keep ? [column] : [])]);
}
