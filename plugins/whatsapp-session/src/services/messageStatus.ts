import { stableUuid } from '@plugchat/core';
import type { Outbox } from '../outbox.js';
import { PREVIOUS, type MessageRow, type MessageStatus, type Store } from '../store.js';
import type { Instance } from './instances.js';
import { phoneOf } from './jids.js';
import { toMessage, type Message } from './messages.js';

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

  /** What WhatsApp says of our messages (Baileys' statuses by WhatsApp id). */
  async onStatus(instance: Instance, updates: { id: string; status: number }[]) {
    for (const u of updates) {
      const status = STATUS_FROM_BAILEYS[u.status];
      if (!status) continue;
      // A message being sent here: the server's ack is the sender's to record, a receipt waits for it.
      const sending = this.inSend.get(u.id);
      if (sending && status === 'SENT') continue;
      await sending;
      const row = await this.store.messages().where({ instance_id: instance.id, wa_id: u.id, direction: 'out' }).first();
      // Already there or past it (the server's ack of a send the sender recorded): nothing to write.
      if (row && PREVIOUS[status].includes(row.status as MessageStatus)) await this.record(instance, toMessage(row), status, undefined, {}, row.status as MessageStatus);
    }
  }

  /**
   * Moves a message to `status` only from a status it advances from, in one conditional
   * update: however many paths observe the same transition (the send loop, the server's
   * ack, a receipt replayed after a reconnect), it happens and is announced once, with an
   * event id derived from (message, status).
   */
  async record(instance: Instance, msg: Pick<Message, 'id' | 'waId' | 'chat'>, status: MessageStatus, error?: string, extra: Partial<MessageRow> = {}, current?: MessageStatus) {
    // A receipt can overtake the send's own acknowledgement (after a crash, say): the message was
    // sent all the same, so SENT (and its DeliveryCallback) is recorded first (unless it is known to be).
    if ((status === 'RECEIVED' || status === 'READ' || status === 'PLAYED') && (!current || PREVIOUS.SENT.includes(current))) await this.record(instance, msg, 'SENT');
    const from = PREVIOUS[status];
    const values = { status, error: error ?? null, updated_at: new Date(), ...(status === 'SENT' ? { sent_at: new Date() } : {}), ...extra };
    const event = { instanceId: instance.id, accountId: instance.accountId, zaapId: msg.id, messageId: msg.waId, phone: phoneOf(msg.chat), status, ...(error ? { error } : {}) };
    const eventId = stableUuid(`${msg.id}:${status}`);
    if (!this.outbox.needed('whatsapp-session.message.status')) {
      const n = await this.store.messages().where({ id: msg.id }).whereIn('status', from).update(values);
      if (n) await this.outbox.add('whatsapp-session.message.status', event, undefined, eventId);
      return;
    }
    // The status and its event commit together, so a crash cannot lose the webhook that follows.
    const changed = await this.store.knex.transaction(async (trx) => {
      const n = await trx('whatsapp_session_messages').where({ id: msg.id }).whereIn('status', from).update(values);
      if (n) await this.outbox.add('whatsapp-session.message.status', event, trx, eventId);
      return n > 0;
    });
    if (changed) await this.outbox.dispatch();
  }
}
