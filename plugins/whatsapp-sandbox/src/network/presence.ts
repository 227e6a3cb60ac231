import type { BinaryNode } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import { children, node, now, parseJid, userJid } from './stanza.js';

/** Presence and chat states (§6.8): who is online (a device marked available, or a virtual phone), subscriptions, typing. */
export class Presence {
  /** Virtual phones that are online. */
  private readonly phoneOnline = new Set<string>();
  /** Who subscribed to whose presence: user JID -> device JIDs. */
  private readonly subscriptions = new Map<string, Set<string>>();

  constructor(private readonly net: NetworkCore) {}

  /** A virtual phone going on- or offline; subscribers hear of a change. */
  setPhoneOnline(phone: string, online: boolean) {
    const was = this.accountOnline(phone);
    if (online) this.phoneOnline.add(phone);
    else {
      this.phoneOnline.delete(phone);
      const a = this.net.state.accounts[phone];
      if (a) a.lastSeen = now();
    }
    if (was !== this.accountOnline(phone)) this.pushPresence(phone);
  }

  /** A phone online since before a restart, without telling anyone. */
  restoreOnline(phone: string) {
    this.phoneOnline.add(phone);
  }

  accountOnline(phone: string): boolean {
    for (const d of this.net.companions(phone)) if (this.net.live.get(d.jid)?.available) return true;
    return this.phoneOnline.has(phone);
  }

  private presenceNode(phone: string): BinaryNode {
    const account = this.net.state.accounts[phone];
    return this.accountOnline(phone)
      ? node('presence', { from: userJid(phone) })
      : node('presence', { from: userJid(phone), type: 'unavailable', last: account?.lastSeen ?? 'deny' });
  }

  pushPresence(phone: string) {
    for (const sub of this.subscriptions.get(userJid(phone)) ?? []) {
      const c = this.net.live.get(sub);
      if (c?.ready) this.net.send(c, this.presenceNode(phone));
    }
  }

  onPresence(conn: Conn, p: BinaryNode) {
    const device = conn.device!;
    const account = this.net.state.accounts[device.phone];
    if (p.attrs.name && account && !account.name) {
      account.name = p.attrs.name;
      this.net.save();
    }
    if (p.attrs.type === 'subscribe' && p.attrs.to) {
      const target = parseJid(p.attrs.to);
      if (!target) return;
      const key = userJid(target.user);
      let set = this.subscriptions.get(key);
      if (!set) this.subscriptions.set(key, (set = new Set()));
      set.add(device.jid);
      if (conn.ready) this.net.send(conn, this.presenceNode(target.user));
      return;
    }
    if (p.attrs.type === 'available' || p.attrs.type === 'unavailable') {
      const wasOnline = this.accountOnline(device.phone);
      conn.available = p.attrs.type === 'available';
      if (!conn.available && account) account.lastSeen = now();
      if (wasOnline !== this.accountOnline(device.phone)) this.pushPresence(device.phone);
    }
  }

  onChatstate(conn: Conn, cs: BinaryNode) {
    const device = conn.device!;
    const target = parseJid(cs.attrs.to);
    if (!target) return;
    for (const d of this.net.companions(target.user)) {
      const c = this.net.live.get(d.jid);
      if (c?.ready) this.net.send(c, node('chatstate', { from: userJid(device.phone) }, children(cs)));
    }
    this.net.emit('chatstate', { from: device.jid, to: cs.attrs.to, state: children(cs)[0]?.tag });
  }
}
