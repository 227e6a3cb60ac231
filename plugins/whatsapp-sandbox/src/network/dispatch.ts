import type { BinaryNode } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import type { IqHandlers } from './iq.js';
import type { Linking } from './linking.js';
import type { Presence } from './presence.js';
import type { Relay } from './relay.js';
import { child, children, node, parseJid } from './stanza.js';

/** Hands each stanza a logged-in device sends to the part of the network that answers it. */
export class StanzaDispatch {
  constructor(
    private readonly net: NetworkCore,
    private readonly parts: { linking: Linking; iqs: IqHandlers; relay: Relay; presence: Presence },
  ) {}

  onStanza(conn: Conn, n: BinaryNode): void {
    if (n.tag === 'iq' && (n.attrs.type === 'result' || n.attrs.type === 'error')) {
      const waiter = conn.pending.get(n.attrs.id ?? '');
      if (waiter) {
        conn.pending.delete(n.attrs.id!);
        waiter(n);
      }
      return;
    }
    const { linking, iqs, relay, presence } = this.parts;
    // Before login only the pairing exchange is meaningful; anything else is ignored (§3.2).
    if (!conn.device) {
      if (n.tag === 'iq' && n.attrs.xmlns === 'md' && child(n, 'link_code_companion_reg')) linking.onLinkCode(conn, n);
      return;
    }
    switch (n.tag) {
      case 'iq':
        return iqs.onIq(conn, n);
      case 'message':
        return relay.onMessage(conn, n);
      case 'receipt':
        return relay.onReceipt(conn, n);
      case 'presence':
        return presence.onPresence(conn, n);
      case 'chatstate':
        return presence.onChatstate(conn, n);
      case 'call':
        return this.onCall(conn, n);
      case 'ack':
      case 'notification':
        return;
      default:
        this.net.log.debug({ tag: n.tag, jid: conn.jid }, 'ignored stanza');
    }
  }

  /** A device answering a call (reject or accept): acked, and the calling phone learns it. */
  private onCall(conn: Conn, n: BinaryNode): void {
    this.net.send(conn, node('ack', { class: 'call', id: n.attrs.id, from: n.attrs.to }));
    const answer = children(n)[0];
    const callId = answer?.attrs['call-id'];
    const caller = parseJid(answer?.attrs['call-creator'] ?? n.attrs.to)?.user;
    if (!answer || !callId || !caller || (answer.tag !== 'reject' && answer.tag !== 'accept')) return;
    this.net.phone(caller)?.onCallAnswer(callId, answer.tag === 'reject' ? 'rejected' : 'accepted');
  }
}
