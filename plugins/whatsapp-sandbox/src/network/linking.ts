import { randomBytes } from 'node:crypto';
import type { BinaryNode, proto } from './baileys.js';
import { assertPhone, SandboxError, type Conn, type ScanOptions } from './conn.js';
import type { NetworkCore } from './core.js';
import { companionFinish, primaryHello, signedDeviceIdentity } from './pairing.js';
import { checkHistorySpec, HistorySync } from './historySync.js';
import type { Device } from './state.js';
import { bytes, child, deviceJid, node, now, parseJid, SERVER, serverId } from './stanza.js';

/**
 * Linking a new device to a number (§2, §3): the QR references a fresh connection shows, the
 * primary phone scanning one, link-code pairing (the code typed on the phone), and the signed
 * pair-success that makes the device exist.
 */
export class Linking {
  private readonly pendingRefs = new Map<string, Conn>();
  /** Devices waiting for the pairing code they show to be typed on the phone, by phone number. */
  private readonly linkCodes = new Map<string, { conn: Conn; wrapped: Buffer; ref: Buffer; finish?: (reg: BinaryNode) => void }>();

  private readonly history: HistorySync;

  constructor(private readonly net: NetworkCore) {
    this.history = new HistorySync(net);
  }

  /** A closed connection's QR references stop working. */
  forget(conn: Conn) {
    for (const ref of conn.refs) this.pendingRefs.delete(ref);
  }

  register(conn: Conn, client: ReturnType<typeof proto.ClientPayload.decode>) {
    const p = client.devicePairingData;
    if (!p?.eRegid || !p.eIdent || !p.eSkeyId || !p.eSkeyVal || !p.eSkeySig) {
      this.net.send(conn, node('failure', { reason: '400', location: 'sim' }));
      return this.net.close(conn, 20);
    }
    conn.registration = {
      registrationId: Buffer.from(p.eRegid),
      identityKey: Buffer.from(p.eIdent),
      signedPreKey: { id: Buffer.from(p.eSkeyId), value: Buffer.from(p.eSkeyVal), signature: Buffer.from(p.eSkeySig) },
    };
    conn.refs = Array.from({ length: 6 }, () => `2@${randomBytes(24).toString('base64')}`);
    for (const ref of conn.refs) this.pendingRefs.set(ref, conn);
    this.net.send(
      conn,
      node('iq', { from: SERVER, type: 'set', id: serverId(), xmlns: 'md' }, [
        node('pair-device', {}, conn.refs.map((r) => node('ref', {}, Buffer.from(r)))),
      ]),
    );
    this.net.emit('qr-requested', { conn: conn.id });
  }

  /**
   * Plays the primary phone scanning the QR the product shows: links a new
   * companion device to `phone`'s account. Resolves with the device JID once the
   * client has signed the pairing (it then restarts with 515 and logs in).
   */
  async scan(qr: string, phone: string, opts: ScanOptions = {}): Promise<string> {
    assertPhone(phone);
    if (opts.history) checkHistorySpec(opts.history);
    const [ref, noiseB64, identityB64, advB64] = qr.split(',');
    if (!ref || !noiseB64 || !identityB64 || !advB64) throw new SandboxError('invalid_qr', 'The QR text must have 4 comma-separated parts.');
    const conn = this.pendingRefs.get(ref);
    if (!conn || conn.stage !== 'open' || !conn.registration || !conn.clientStatic) throw new SandboxError('qr_expired', 'This QR code is unknown or expired; show the current one.');
    if (conn.clientStatic.toString('base64') !== noiseB64 || conn.registration.identityKey.toString('base64') !== identityB64) {
      throw new SandboxError('invalid_qr', 'The QR code does not match the connection that showed it.');
    }
    return this.linkDevice(conn, phone, Buffer.from(advB64, 'base64'), opts);
  }

  /**
   * Plays the primary phone entering the pairing code a device shows (link-code pairing, as
   * WhatsApp does it): the device's ephemeral key comes wrapped with a key derived from the code,
   * the phone answers with its own, and the device's key bundle proves both sides used one code.
   * A wrong code fails with wrong_code and links nothing.
   */
  async enterPairingCode(phone: string, code: string, opts: ScanOptions = {}): Promise<string> {
    assertPhone(phone);
    if (opts.history) checkHistorySpec(opts.history);
    const pending = this.linkCodes.get(phone);
    if (!pending || pending.conn.stage !== 'open' || !pending.conn.registration) throw new SandboxError('no_pairing_code', `No device is waiting for a pairing code for ${phone}; ask the instance for a code first.`);
    const typed = code.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
    const account = this.net.getOrCreateAccount(phone, opts);
    const hello = await primaryHello(pending.wrapped, typed);
    const finished = new Promise<BinaryNode>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SandboxError('pairing_failed', 'The device did not finish the pairing.')), 15_000);
      pending.finish = (n) => {
        clearTimeout(timer);
        resolve(n);
      };
    });
    this.net.send(
      pending.conn,
      node('notification', { from: SERVER, type: 'link_code_companion_reg', id: serverId(), t: now() }, [
        node('link_code_companion_reg', { stage: 'primary_hello' }, [
          node('link_code_pairing_ref', {}, pending.ref),
          node('primary_identity_pub', {}, account.accountKey.public),
          node('link_code_pairing_wrapped_primary_ephemeral_pub', {}, hello.wrappedPrimary),
        ]),
      ]),
    );
    const reg = await finished;
    const bundle = bytes(child(reg, 'link_code_pairing_wrapped_key_bundle'));
    const companionIdentity = bytes(child(reg, 'companion_identity_public'));
    if (!bundle || bundle.length < 44 + 96 || !companionIdentity) throw new SandboxError('pairing_failed', 'The device sent an incomplete key bundle.');
    const opened = await companionFinish(hello, bundle, account, companionIdentity);
    if (!opened) {
      this.linkCodes.delete(phone);
      this.net.close(pending.conn, 20);
      throw new SandboxError('wrong_code', 'That code is not the one the device shows; ask for a new code.');
    }
    if (!opened.names.companion.equals(companionIdentity) || !companionIdentity.equals(pending.conn.registration.identityKey) || !opened.names.primary.equals(account.accountKey.public)) {
      throw new SandboxError('pairing_failed', 'The key bundle does not name this device and this phone.');
    }
    const advSecret = opened.advSecret;
    this.linkCodes.delete(phone);
    return this.linkDevice(pending.conn, phone, advSecret, opts);
  }

  /** A pairing device's link-code stanzas: the code request (companion_hello) and its key bundle (companion_finish). */
  onLinkCode(conn: Conn, iq: BinaryNode) {
    const reg = child(iq, 'link_code_companion_reg')!;
    const phone = parseJid(reg.attrs.jid ?? '')?.user;
    if (reg.attrs.stage === 'companion_hello') {
      const wrapped = bytes(child(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub'));
      if (!phone || !wrapped || wrapped.length !== 80 || !conn.registration) return this.net.iqError(conn, iq, '400', 'bad-request');
      const ref = Buffer.from(randomBytes(16).toString('base64url'));
      this.linkCodes.set(phone, { conn, wrapped: Buffer.from(wrapped), ref });
      this.net.emit('pairing-code-requested', { phone });
      return this.net.result(conn, iq, [node('link_code_companion_reg', {}, [node('link_code_pairing_ref', {}, ref)])]);
    }
    if (reg.attrs.stage === 'companion_finish') {
      const pending = [...this.linkCodes.values()].find((p) => p.conn === conn);
      this.net.result(conn, iq);
      pending?.finish?.(reg);
      return;
    }
    this.net.iqError(conn, iq, '400', 'bad-request');
  }

  /** Links a new companion device to `phone`'s account on `conn`, signing its identity with the ADV secret both sides share. */
  private async linkDevice(conn: Conn, phone: string, advSecret: Buffer, opts: ScanOptions): Promise<string> {
    if (!conn.registration || !conn.clientStatic) throw new SandboxError('qr_expired', 'This device is no longer waiting to be linked.');
    for (const r of conn.refs) this.pendingRefs.delete(r);
    const registration = conn.registration;
    const clientStatic = conn.clientStatic;
    const account = this.net.getOrCreateAccount(phone, opts);
    // Made before the device exists, so its first login finds the blobs on the media host.
    const spec = opts.history;
    if (spec && (account.history?.spec.chats !== spec.chats || account.history.spec.messages !== spec.messages)) await this.history.prepare(account, spec);
    const deviceId = account.nextDeviceId++;
    const keyIndex = account.nextKeyIndex++;
    const jid = deviceJid(phone, deviceId);

    const deviceIdentity = signedDeviceIdentity(account, registration.identityKey, keyIndex, advSecret);

    const content: BinaryNode[] = [node('device-identity', {}, deviceIdentity)];
    if (opts.platform) content.push(node('platform', { name: opts.platform }));
    content.push(node('device', { jid }));
    if (opts.name) content.push(node('biz', { name: opts.name }));
    const reply = await this.net.query(conn, node('iq', { from: SERVER, type: 'set', id: serverId(), xmlns: 'md', t: now() }, [node('pair-success', {}, content)]));
    if (!child(reply, 'pair-device-sign')) throw new SandboxError('pairing_failed', 'The client did not sign the pairing.');
    const reg = registration;
    const device: Device = {
      jid,
      phone,
      deviceId,
      keyIndex,
      noiseKey: clientStatic,
      identityKey: reg.identityKey,
      registrationId: reg.registrationId,
      signedPreKey: reg.signedPreKey,
      preKeys: {},
      bootstrapped: false,
      platform: opts.platform,
      queue: [],
    };
    this.net.state.devices[jid] = device;
    this.net.save();
    this.net.announceDevices('add', device);
    this.net.send(conn, node('stream:error', { code: '515' }));
    this.net.close(conn, 50);
    this.net.emit('paired', { jid, phone });
    return jid;
  }
}
