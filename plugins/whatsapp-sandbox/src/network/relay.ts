import type { BinaryNode } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import { NoiseError } from './noise.js';
import type { Device } from './state.js';
import { child, children, deviceJid, node, now, parseJid, userJid } from './stanza.js';

const DROPPED_OWN_RECEIPTS = new Set(['sender', 'hist_sync', 'peer_msg', 'server-error']);

/** Messages and receipts (§6): fan-out to the devices and virtual phones addressed, acks, and queues for devices offline. */
export class Relay {
  readonly undeliverable: { id: string; to: string; reason: string }[] = [];
  /** Who sent each message id (the virtual phones' receipts find their way back by it). */
  private readonly msgIndex = new Map<string, string>();
  private readonly ackErrors = new Map<string, string>();

  constructor(private readonly net: NetworkCore) {}

  /** The next message with this id is acked with an error. */
  failAck(msgId: string, code: string) {
    this.ackErrors.set(msgId, code);
  }

  senderOf(msgId: string) {
    return this.msgIndex.get(msgId);
  }

  onMessage(conn: Conn, msg: BinaryNode) {
    const sender = conn.device!;
    const id = msg.attrs.id;
    const to = msg.attrs.to;
    if (!id || !to) throw new NoiseError('message without id or to');
    const toJid = parseJid(to);
    const participants = child(msg, 'participants');
    const deviceIdentity = child(msg, 'device-identity');
    const senderAccount = this.net.state.accounts[sender.phone];
    // Peer messages to the own phone (placeholder resends, history requests) are swallowed (§6.3).
    if (msg.attrs.category === 'peer') return this.ackMessage(conn, msg);
    if (toJid?.server === 'g.us') return this.onGroupMessage(conn, msg);
    const targets: { jid: string; enc: BinaryNode[] }[] = [];
    if (participants) {
      for (const t of children(participants, 'to')) targets.push({ jid: t.attrs.jid!, enc: children(t, 'enc') });
    } else {
      targets.push({ jid: to, enc: children(msg, 'enc') });
    }
    this.msgIndex.set(id, sender.jid);
    for (const target of targets) {
      const t = parseJid(target.jid);
      if (!t) continue;
      if (t.device === 0) {
        if (t.user === sender.phone) {
          if (this.net.opts.phoneSenderReceipts && toJid && toJid.user !== sender.phone) {
            this.net.send(conn, node('receipt', { from: userJid(sender.phone), recipient: userJid(toJid.user), id, type: 'sender', t: now() }));
          }
        } else {
          const phone = this.net.phone(t.user);
          if (phone) phone.receive(sender.jid, id, target.enc).catch((err) => this.net.log.warn({ err, phone: t.user, id }, 'virtual phone could not decrypt'));
        }
        continue;
      }
      const targetJid = deviceJid(t.user, t.device);
      const device = this.net.state.devices[targetJid];
      if (!device) {
        this.undeliverable.push({ id, to: targetJid, reason: 'unknown device' });
        continue;
      }
      if (device.jid === sender.jid) continue;
      const attrs: Record<string, string | undefined> = {
        from: sender.jid,
        id,
        t: String(now()),
        type: msg.attrs.type,
        notify: senderAccount?.name,
        edit: msg.attrs.edit,
        category: msg.attrs.category,
      };
      // The sender's own other devices learn who the message was for.
      if (t.user === sender.phone && toJid) attrs.recipient = userJid(toJid.user);
      const content: BinaryNode[] = [...target.enc];
      if (deviceIdentity) content.push(deviceIdentity);
      this.deliver(device, node('message', attrs, content));
    }
    this.ackMessage(conn, msg);
  }

  /**
   * A message to a group: the content once, encrypted with the sender's sender key (skmsg), plus
   * that key for the devices that do not hold it yet, each pairwise encrypted (participants). Every
   * device of every member gets the skmsg with its own key message, from the group, naming the
   * sender as participant; the members' virtual phones decrypt both.
   */
  private onGroupMessage(conn: Conn, msg: BinaryNode) {
    const sender = conn.device!;
    const id = msg.attrs.id!;
    const to = msg.attrs.to!;
    let group;
    try {
      group = this.net.groups.member(to, sender.phone);
    } catch {
      return this.ackMessage(conn, msg, '403');
    }
    if (group.announce && !this.net.groups.isAdmin(group, sender.phone)) return this.ackMessage(conn, msg, '403');
    const skmsg = children(msg, 'enc').filter((e) => e.attrs.type === 'skmsg');
    const keys = new Map(children(child(msg, 'participants'), 'to').map((t) => [t.attrs.jid!, children(t, 'enc')]));
    const deviceIdentity = child(msg, 'device-identity');
    const senderAccount = this.net.state.accounts[sender.phone];
    this.msgIndex.set(id, sender.jid);
    for (const p of group.participants) {
      if (p.phone === sender.phone) {
        if (this.net.opts.phoneSenderReceipts) this.net.send(conn, node('receipt', { from: userJid(sender.phone), recipient: to, id, type: 'sender', t: now() }));
      } else {
        const phone = this.net.phone(p.phone);
        if (phone) phone.receiveGroup(to, sender.jid, id, [...(keys.get(userJid(p.phone)) ?? []), ...skmsg]).catch((err) => this.net.log.warn({ err, phone: p.phone, id }, 'virtual phone could not decrypt a group message'));
      }
      for (const device of this.net.companions(p.phone)) {
        if (device.jid === sender.jid) continue;
        const content = [...(keys.get(device.jid) ?? []), ...skmsg];
        if (deviceIdentity && keys.has(device.jid)) content.push(deviceIdentity);
        const attrs = { from: to, participant: sender.jid, id, t: String(now()), type: msg.attrs.type, notify: senderAccount?.name, edit: msg.attrs.edit };
        this.deliver(device, node('message', attrs, content));
      }
    }
    this.ackMessage(conn, msg);
  }

  private ackMessage(conn: Conn, msg: BinaryNode, refused?: string) {
    const error = this.ackErrors.get(msg.attrs.id!) ?? refused;
    if (this.ackErrors.has(msg.attrs.id!)) this.ackErrors.delete(msg.attrs.id!);
    this.net.send(conn, node('ack', { class: 'message', id: msg.attrs.id, from: msg.attrs.to, t: now(), error }));
  }

  /** Sends now when the device is ready, otherwise keeps it for the next login (§4.6). */
  deliver(device: Device, n: BinaryNode) {
    const c = this.net.live.get(device.jid);
    if (c?.ready && this.net.send(c, n)) return;
    device.queue.push(n);
    this.net.save();
  }

  onReceipt(conn: Conn, r: BinaryNode) {
    const sender = conn.device!;
    const { id, to, type } = r.attrs;
    this.net.send(conn, node('ack', { class: 'receipt', id, from: to, type }));
    const target = parseJid(to);
    if (!id || !target) return;
    if (target.user === sender.phone && type && DROPPED_OWN_RECEIPTS.has(type)) return;
    if (type === 'read-self') return;
    if (target.server === 'g.us') return this.onGroupReceipt(sender, r);
    const from = this.net.opts.normalizeReceiptFrom ? userJid(sender.phone) : sender.jid;
    const forward = (device: Device) =>
      this.deliver(
        device,
        node('receipt', { from, id, t: r.attrs.t ?? now(), type, participant: r.attrs.participant }, children(r).filter((c) => c.tag === 'list')),
      );
    if (target.device !== 0) {
      const device = this.net.state.devices[deviceJid(target.user, target.device)];
      if (device) forward(device);
    } else {
      const list = this.net.companions(target.user);
      for (const d of list) if (d.jid !== sender.jid) forward(d);
      if (!list.length) {
        // A receipt for several messages names the first in its id and the rest in <list><item id/></list>.
        const items = children(r).filter((c) => c.tag === 'list').flatMap((l) => children(l).filter((c) => c.tag === 'item').map((c) => c.attrs.id));
        for (const mid of [id, ...items]) if (mid) this.net.phone(target.user)?.onReceipt(mid, type);
      }
    }
    this.net.emit('receipt', { from: sender.jid, to, id, type: type ?? 'delivery' });
  }

  /** A member's receipt for a group message goes to the author's devices, from the group, naming the member. */
  private onGroupReceipt(sender: Device, r: BinaryNode) {
    const { id, to, type, participant } = r.attrs;
    const author = parseJid(participant);
    if (!id || !to || !author || (type && DROPPED_OWN_RECEIPTS.has(type)) || type === 'read-self') return;
    if (author.user === sender.phone) return;
    const items = children(r).filter((c) => c.tag === 'list');
    const n = node('receipt', { from: to, participant: userJid(sender.phone), id, t: r.attrs.t ?? now(), type }, items);
    for (const d of this.net.companions(author.user)) if (d.jid !== sender.jid) this.deliver(d, n);
    const ids = items.flatMap((l) => children(l).filter((c) => c.tag === 'item').map((c) => c.attrs.id));
    for (const mid of [id, ...ids]) if (mid) this.net.phone(author.user)?.onReceipt(mid, type);
    this.net.emit('receipt', { from: sender.jid, to, id, type: type ?? 'delivery' });
  }
}
