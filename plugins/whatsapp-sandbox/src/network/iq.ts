import { AppState } from './appState.js';
import { generateKeyPair, type BinaryNode } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import type { Login } from './login.js';
import type { Device } from './state.js';
import { bytes, child, children, deviceJid, node, now, parseJid, SERVER, serverId, userJid } from './stanza.js';

const PRIVACY = ['readreceipts', 'last', 'online', 'profile', 'status', 'groupadd', 'calladd', 'messages'];

/** The IQs a logged-in device sends (§4, §6): pre-keys and bundles, usync, app state, media hosts, logout. */
export class IqHandlers {
  private readonly appState: AppState;

  constructor(
    private readonly net: NetworkCore,
    private readonly login: Login,
  ) {
    this.appState = new AppState(net);
  }

  onIq(conn: Conn, iq: BinaryNode) {
    const device = conn.device!;
    const first = children(iq)[0];
    switch (iq.attrs.xmlns) {
      case 'encrypt':
        if (first?.tag === 'count') return this.net.result(conn, iq, [node('count', { value: Object.keys(device.preKeys).length })]);
        if (first?.tag === 'key') return this.net.result(conn, iq, [node('list', {}, children(first, 'user').map((u) => this.bundle(u.attrs.jid!)))]);
        if (iq.attrs.type === 'set') return this.onPreKeyUpload(conn, iq);
        break;
      case 'passive':
        this.net.result(conn, iq);
        if (first?.tag === 'active' && !conn.ready) this.login.onReady(conn);
        return;
      case 'w:p':
        return this.net.result(conn, iq);
      case 'w':
        if (first?.tag === 'props') return this.net.result(conn, iq, [node('props', { protocol: '2', hash: 'sim' })]);
        break;
      case 'blocklist':
        return this.blocklist(conn, iq);
      case 'w:profile:picture':
        return this.picture(conn, iq);
      case 'privacy':
        if (iq.attrs.type === 'get') return this.net.result(conn, iq, [node('privacy', {}, PRIVACY.map((name) => node('category', { name, value: name === 'readreceipts' ? 'all' : 'all' })))]);
        return this.net.result(conn, iq);
      case 'w:sync:app:state':
        // The client only syncs app state once it holds the key from the bootstrap: it is set up.
        if (!device.bootstrapped) {
          device.bootstrapped = true;
          this.net.save();
          this.net.emit('synced', { jid: device.jid });
        }
        // Patches the account's devices wrote, never snapshots or external patches (§4.2 #7).
        return void this.appState.onSync(conn, iq).catch((err) => {
          this.net.log.warn({ err: (err as Error).message }, 'app-state sync failed');
          this.net.iqError(conn, iq, '500', 'internal-server-error');
        });
      case 'w:m':
        if (first?.tag === 'media_conn') {
          const host = this.net.media?.host || '127.0.0.1:1';
          return this.net.result(conn, iq, [
            node('media_conn', { auth: 'sandbox', ttl: '3600' }, [node('host', { hostname: host, maxContentLengthBytes: '104857600' })]),
          ]);
        }
        break;
      case 'usync':
        return this.net.result(conn, iq, [this.usync(conn, first!)]);
      case 'md':
        if (first?.tag === 'remove-companion-device') return this.logout(conn, iq);
        break;
      case 'status':
        // A linked device sets the account's About (§6.1): what usync's status protocol answers from now on.
        if (iq.attrs.type === 'set' && first?.tag === 'status') {
          const account = this.net.state.accounts[device.phone];
          if (account) {
            account.about = { text: bytes(first)?.toString('utf8') ?? (typeof first.content === 'string' ? first.content : ''), t: now() };
            this.net.save();
          }
        }
        return this.net.result(conn, iq);
      case 'w:g2':
        return this.net.groups.onIq(conn, iq);
      case 'urn:xmpp:whatsapp:dirty':
        return this.net.result(conn, iq);
    }
    this.net.iqError(conn, iq, '501', 'feature-not-implemented');
  }

  /** The account's blocked numbers (get), or one blocked or unblocked (set, `<item action jid/>`). */
  private blocklist(conn: Conn, iq: BinaryNode) {
    const account = this.net.state.accounts[conn.device!.phone]!;
    if (iq.attrs.type === 'set') {
      const item = child(iq, 'item');
      const who = parseJid(item?.attrs.jid)?.user;
      if (!who || (item!.attrs.action !== 'block' && item!.attrs.action !== 'unblock')) return this.net.iqError(conn, iq, '400', 'bad-request');
      const set = new Set(account.blocked ?? []);
      if (item!.attrs.action === 'block') set.add(who);
      else set.delete(who);
      account.blocked = [...set];
      this.net.save();
      return this.net.result(conn, iq);
    }
    return this.net.result(conn, iq, [node('list', {}, (account.blocked ?? []).map((p) => node('item', { jid: userJid(p) })))]);
  }

  /** A number's (or group's) profile picture URL, 404 when it has none; or (set) a new one, or none. */
  private picture(conn: Conn, iq: BinaryNode) {
    const target = parseJid(iq.attrs.target);
    if (iq.attrs.type === 'set') return this.setPicture(conn, iq, target);
    const picture = target ? (target.server === 'g.us' ? this.net.groups.get(target.user)?.picture : this.net.state.accounts[target.user]?.picture) : undefined;
    if (!picture) return this.net.iqError(conn, iq, '404', 'item-not-found');
    this.net.result(conn, iq, [node('picture', { id: picture.id, url: picture.url, direct_path: picture.directPath, type: child(iq, 'picture')?.attrs.type ?? 'image' })]);
  }

  /** The device's own account's picture (no target), or a group's: its admins', or anyone's unless the group is locked. */
  private setPicture(conn: Conn, iq: BinaryNode, target: ReturnType<typeof parseJid>) {
    const actor = conn.device!.phone;
    let holder: { picture?: { id: string; url: string; directPath: string } };
    if (target?.server === 'g.us') {
      const g = this.net.groups.get(target.user);
      if (!g) return this.net.iqError(conn, iq, '404', 'item-not-found');
      if (!g.participants.some((p) => p.phone === actor)) return this.net.iqError(conn, iq, '403', 'forbidden');
      if (g.locked && !this.net.groups.isAdmin(g, actor)) return this.net.iqError(conn, iq, '401', 'not-authorized');
      holder = g;
    } else if (!target || target.user === actor) holder = this.net.state.accounts[actor]!;
    else return this.net.iqError(conn, iq, '403', 'forbidden');
    const jpeg = bytes(child(iq, 'picture'));
    if (!jpeg) delete holder.picture;
    else {
      if (!this.net.media) return this.net.iqError(conn, iq, '503', 'service-unavailable');
      const { url, directPath } = this.net.media.put(jpeg);
      holder.picture = { id: String(now()), url, directPath };
    }
    this.net.save();
    this.net.result(conn, iq, [node('picture', { id: holder.picture?.id ?? '0' })]);
  }

  private onPreKeyUpload(conn: Conn, iq: BinaryNode) {
    const device = conn.device!;
    const registration = bytes(child(iq, 'registration'));
    const identity = bytes(child(iq, 'identity'));
    const skey = child(iq, 'skey');
    if (registration?.length === 4) device.registrationId = registration;
    if (identity?.length === 32) device.identityKey = identity;
    if (skey) {
      const id = bytes(child(skey, 'id'));
      const value = bytes(child(skey, 'value'));
      const signature = bytes(child(skey, 'signature'));
      if (id && value && signature) device.signedPreKey = { id, value, signature };
    }
    for (const k of children(child(iq, 'list'), 'key')) {
      const id = bytes(child(k, 'id'));
      const value = bytes(child(k, 'value'));
      if (id?.length === 3 && value) device.preKeys[id.readUIntBE(0, 3)] = value;
    }
    this.net.save();
    this.net.result(conn, iq);
  }

  /** §6.2: a bundle for one address; a one-time prekey is never served twice. */
  bundle(jid: string): BinaryNode {
    const parsed = parseJid(jid);
    const user = node('user', { jid });
    if (!parsed) return user;
    const id3 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
    const reg4 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    if (parsed.device === 0) {
      const account = this.net.getOrCreateAccount(parsed.user);
      const content: BinaryNode[] = [
        node('registration', {}, reg4(account.registrationId)),
        node('type', {}, Buffer.from([5])),
        node('identity', {}, account.accountKey.public),
        node('skey', {}, [
          node('id', {}, id3(account.signedPreKey.keyId)),
          node('value', {}, account.signedPreKey.keyPair.public),
          node('signature', {}, account.signedPreKey.signature),
        ]),
      ];
      if (this.net.opts.oneTimePreKeys) {
        // The phone mints a fresh prekey per request and keeps its private half for decryption (§11).
        const keyId = account.nextPreKeyId++;
        const kp = generateKeyPair();
        account.preKeys[keyId] = kp;
        content.push(node('key', {}, [node('id', {}, id3(keyId)), node('value', {}, kp.public)]));
        this.net.save();
      }
      return node('user', { jid }, content);
    }
    const device = this.net.state.devices[deviceJid(parsed.user, parsed.device)];
    if (!device) {
      // Never answer an error for a requested address: it would fail the whole send (§6.2).
      this.net.log.warn({ jid }, 'bundle requested for an unknown device');
      return user;
    }
    const content: BinaryNode[] = [
      node('registration', {}, device.registrationId),
      node('type', {}, Buffer.from([5])),
      node('identity', {}, device.identityKey),
      node('skey', {}, [node('id', {}, device.signedPreKey.id), node('value', {}, device.signedPreKey.value), node('signature', {}, device.signedPreKey.signature)]),
    ];
    if (this.net.opts.oneTimePreKeys) {
      const ids = Object.keys(device.preKeys).map(Number).sort((a, b) => a - b);
      const keyId = ids[0];
      if (keyId !== undefined) {
        const value = device.preKeys[keyId]!;
        delete device.preKeys[keyId];
        content.push(node('key', {}, [node('id', {}, id3(keyId)), node('value', {}, value)]));
      }
      if (ids.length - 1 < 5) this.requestPreKeyRefill(device);
      this.net.save();
    }
    return node('user', { jid }, content);
  }

  /** Asks an idle, ready device to upload more prekeys (§6.2); pushed later so it never overlaps a send. */
  private requestPreKeyRefill(device: Device) {
    setTimeout(() => {
      const c = this.net.live.get(device.jid);
      if (c?.ready) this.net.send(c, node('notification', { from: SERVER, type: 'encrypt', id: serverId(), t: now() }, [node('count', { value: Object.keys(device.preKeys).length })]));
    }, 1_000).unref();
  }

  /** §6.1: device lists, contacts (onWhatsApp) and status. */
  private usync(conn: Conn, usyncNode: BinaryNode): BinaryNode {
    const query = child(usyncNode, 'query');
    const protocols = children(query).map((c) => c.tag);
    const users = children(child(usyncNode, 'list'), 'user');
    const device = conn.device!;
    const out: BinaryNode[] = [];
    for (const u of users) {
      let jid = u.attrs.jid;
      const contact = child(u, 'contact');
      let known = false;
      if (!jid && contact) {
        const digits = String(typeof contact.content === 'string' ? contact.content : bytes(contact)?.toString() ?? '').replace(/\D/g, '');
        jid = userJid(digits);
      }
      const parsed = parseJid(jid);
      if (!jid || !parsed) continue;
      const account = this.net.state.accounts[parsed.user];
      known = !!account;
      const content: BinaryNode[] = [];
      for (const p of protocols) {
        if (p === 'devices') {
          this.net.deviceListRead(parsed.user, device.jid);
          const list = [node('device', { id: '0' })];
          for (const d of this.net.companions(parsed.user)) list.push(node('device', { id: d.deviceId, 'key-index': d.keyIndex }));
          content.push(node('devices', {}, [node('device-list', {}, list)]));
        } else if (p === 'contact') {
          content.push(node('contact', { type: known ? 'in' : 'out' }, contact ? bytes(contact) ?? '' : undefined));
        } else if (p === 'status') {
          const about = account?.about;
          content.push(node('status', { t: about?.t ?? now() }, known ? (about ? about.text : 'Hey there! I am using WhatsApp.') : undefined));
        } else if (p === 'disappearing_mode') {
          content.push(node('disappearing_mode', { duration: '0', t: now() }));
        }
      }
      out.push(node('user', { jid: userJid(parsed.user) }, content));
    }
    return node('usync', usyncNode.attrs, [node('result', {}, protocols.map((p) => node(p))), node('list', {}, out)]);
  }

  private logout(conn: Conn, iq: BinaryNode) {
    const device = conn.device!;
    this.net.result(conn, iq);
    this.net.removeDevice(device.jid);
    this.net.close(conn, 20);
  }
}
