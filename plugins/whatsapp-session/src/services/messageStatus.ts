import { GroupCommit, stableUuid, type Knex } from '@plugchat/core';
import type { Outbox } from '../outbox.js';
import { advances, PREVIOUS, type MessageStatus, type Store } from '../store.js';
import type { Instance } from './instances.js';
import { phoneOf } from './jids.js';
import { toMessage, type Message } from './messages.js';

/** How many recent sends a process keeps in mind (a few seconds of sending at full speed; about 200 bytes each). */
const RECENT = 10_000;
/**
 * How long a status change waits for others before it is written: long enough for the phone's
 * receipt of a message just sent to join the send's SENT (one write for both) and for a run of
 * sends to share a write; short beside the webhook that follows. Three alternated end-to-end runs
 * each: 2 ms took a sixth of the statements off and sent 148 → 177 messages a second.
 */
const GATHER_MS = 2;
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
   * The receipts that arrived for a message still being sent (the phone often answers before the
   * send's outcome is written), in order: the sender's SENT is then written as the furthest of them
   * in the same statement, one write instead of two or more, and each is announced.
   */
  private readonly early = new Map<string, MessageStatus[]>();
  /**
   * The messages this process sent last (by instance and WhatsApp id), with the status it last
   * recorded: their echo and their receipts need no read of the row. Oldest forgotten first.
   */
  private readonly recent = new Map<string, { msg: Pick<Message, 'id' | 'waId' | 'chat'>; status: MessageStatus }>();

  /** Changes arriving together (a run of sends, a burst of receipts) are written in one statement per status, in one commit. */
  private readonly writes = new GroupCommit<Change>((changes) => this.write(changes), 200, GATHER_MS);

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
      this.early.delete(waId);
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
      if (sending && status !== 'FAILED') {
        const before = this.early.get(u.id) ?? [];
        if (!before.length || advances(before.at(-1)!, status)) this.early.set(u.id, [...before, status]);
      }
      // Once the outcome is recorded (with this receipt, when it came in time), what is left is written.
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
    for (const c of changes) {
      const then = c.status === 'SENT' ? this.early.get(c.msg.waId) : undefined;
      if (then) {
        this.early.delete(c.msg.waId);
        c.then = then;
      }
    }
    const apply = async (db: Knex) => {
      const happened: Change[] = [];
      // A SENT with the receipt that overtook it is one write to the receipt's status (from where SENT
      // goes), grouped by that status; the rest one per status.
      const groups: { status: MessageStatus; to: MessageStatus; group: Map<string, Change> }[] = [];
      for (const status of WRITE_ORDER) {
        const these = changes.filter((c) => c.status === status);
        for (const to of status === 'SENT' ? ([undefined, 'RECEIVED', 'READ', 'PLAYED'] as const) : [undefined]) {
          // One change per message and status (the same one twice changes nothing more).
          const group = new Map(these.filter((c) => c.then?.at(-1) === to).map((c) => [c.msg.id, c]));
          if (group.size) groups.push({ status, to: to ?? status, group });
        }
      }
      for (const { status, to, group } of groups) {
        const values: Record<string, unknown> = {
          status: to,
          updated_at: at,
          error: perRow(db, 'error', [...group.values()].filter((c) => c.error).map((c) => [c.msg.id, c.error!]), false),
          ...(status === 'SENT' ? { sent_at: at } : {}),
        };
        const raws = [...group.values()].filter((c) => c.raw !== undefined).map((c) => [c.msg.id, c.raw ?? null] as [string, string | null]);
        if (raws.length) values.raw = perRow(db, 'raw', raws, true);
        const rows: { id: string }[] = await db('whatsapp_session_messages').whereIn('id', [...group.keys()]).whereIn('status', PREVIOUS[status]).update(values, ['id']);
        const changed = new Set(rows.map((r) => r.id));
        for (const c of group.values()) if (changed.has(c.msg.id)) happened.push(c, ...(c.then ?? []).map((then) => ({ ...c, status: then, error: undefined, raw: undefined, then: undefined })));
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
type Change = { instance: Instance; msg: Pick<Message, 'id' | 'waId' | 'chat'>; status: MessageStatus; error?: string; raw?: string | null; then?: MessageStatus[] };

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
