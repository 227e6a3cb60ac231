import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeBinaryNode, encodeBinaryNode, generateKeyPair, proto, signedKeyPair, type BinaryNode } from './baileys.js';
import { MediaServer, type MediaServerOptions } from './media.js';
import { NoiseError, NoiseResponder } from './noise.js';
import { companionFinish, primaryHello, signedDeviceIdentity } from './pairing.js';
import { newPhoneState, VirtualPhone, type PhoneHost } from './phones.js';
import { StateFile, type Account, type Device, type NetworkState } from './state.js';
import { bytes, child, children, deviceJid, messageId, node, now, parseJid, render, SERVER, serverId, userJid } from './stanza.js';

export interface NetworkLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silent: NetworkLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface NetworkOptions {
  host?: string;
  port?: number;
  /** JSON file the state is kept in; none keeps it in memory only. */
  stateFile?: string;
  logger?: NetworkLogger;
  /** The HTTPS media server; false to run without one. */
  media?: MediaServerOptions | false;
  /** Emit the primary phone's "sender" receipt (the only source of SERVER_ACK). Default true. */
  phoneSenderReceipts?: boolean;
  /** Receipts are forwarded from the user JID rather than the device JID. Default true. */
  normalizeReceiptFrom?: boolean;
  /** Queued stanzas carry offline='1' (Baileys then upserts them as "append"). Default true. */
  offlineAttr?: boolean;
  /** Serve one-time prekeys in bundles. Default true. */
  oneTimePreKeys?: boolean;
  /** Delay before the first stanza after the handshake (Baileys finishes its keys asynchronously). */
  firstFrameDelayMs?: number;
  /** Keep at most this many trace entries. */
  traceLimit?: number;
}

export interface TraceEntry {
  at: number;
  dir: 'in' | 'out';
  conn: number;
  jid?: string;
  xml: string;
}

interface Registration {
  registrationId: Buffer;
  identityKey: Buffer;
  signedPreKey: { id: Buffer; value: Buffer; signature: Buffer };
  platform?: string;
}

/** One WebSocket connection: handshake state, then the device it logged in as. */
class Conn {
  stage: 'hello' | 'finish' | 'open' | 'closed' = 'hello';
  clientStatic?: Buffer;
  registration?: Registration;
  refs: string[] = [];
  device?: Device;
  /** The passive/active IQ arrived: pushes are safe from now on. */
  ready = false;
  available = false;
  partitionedUntil = 0;
  chain: Promise<void> = Promise.resolve();
  readonly pending = new Map<string, (n: BinaryNode) => void>();
  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly noise: NoiseResponder,
  ) {}
  get jid() {
    return this.device?.jid;
  }
}

export interface ScanOptions {
  name?: string;
  business?: boolean;
  platform?: 'smba' | 'android' | 'iphone' | 'smbi';
}

const PRIVACY = ['readreceipts', 'last', 'online', 'profile', 'status', 'groupadd', 'calladd', 'messages'];
const DROPPED_OWN_RECEIPTS = new Set(['sender', 'hist_sync', 'peer_msg', 'server-error']);

/**
 * A WhatsApp network on loopback that the unmodified Baileys 6.17 client pairs
 * with, logs in to and exchanges end-to-end encrypted messages through.
 * The design notes (whatsapp-simulator.md) explain every stanza; section numbers
 * below refer to them.
 */
export class SandboxNetwork extends EventEmitter {
  private wss?: WebSocketServer;
  private state: NetworkState;
  private readonly store: StateFile;
  private readonly log: NetworkLogger;
  private readonly conns = new Set<Conn>();
  private readonly live = new Map<string, Conn>();
  /** Logins and replacements per device, for tests and the bench (not kept across restarts). */
  private readonly loginCounts = new Map<string, { logins: number; replaced: number }>();
  private readonly pendingRefs = new Map<string, Conn>();
  /** Devices waiting for the pairing code they show to be typed on the phone, by phone number. */
  private readonly linkCodes = new Map<string, { conn: Conn; wrapped: Buffer; ref: Buffer; finish?: (reg: BinaryNode) => void }>();
  private readonly subscriptions = new Map<string, Set<string>>();
  private readonly msgIndex = new Map<string, string>();
  private readonly ackErrors = new Map<string, string>();
  private readonly loginFailures = new Map<string, string>();
  private readonly staticKey = generateKeyPair();
  private readonly traceLog: TraceEntry[] = [];
  readonly undeliverable: { id: string; to: string; reason: string }[] = [];
  private nextConnId = 1;
  private opts: Required<Omit<NetworkOptions, 'stateFile' | 'logger' | 'media'>>;
  readonly media?: MediaServer;
  url = '';

  constructor(options: NetworkOptions = {}) {
    super();
    this.log = options.logger ?? silent;
    this.store = new StateFile(options.stateFile);
    this.state = this.store.load();
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      phoneSenderReceipts: options.phoneSenderReceipts ?? true,
      normalizeReceiptFrom: options.normalizeReceiptFrom ?? true,
      offlineAttr: options.offlineAttr ?? true,
      oneTimePreKeys: options.oneTimePreKeys ?? true,
      firstFrameDelayMs: options.firstFrameDelayMs ?? 50,
      traceLimit: options.traceLimit ?? 2000,
    };
    if (options.media !== false) this.media = new MediaServer({ host: this.opts.host, ...options.media });
  }

  async start(): Promise<string> {
    const wss = new WebSocketServer({ host: this.opts.host, port: this.opts.port, maxPayload: 64 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('error', (err) => this.log.error({ err }, 'sandbox network server error'));
    wss.on('connection', (ws) => this.accept(ws));
    this.wss = wss;
    await this.media?.start();
    const addr = wss.address() as AddressInfo;
    this.url = `ws://${this.opts.host}:${addr.port}/ws/chat`;
    this.log.info({ url: this.url }, 'sandbox network listening');
    return this.url;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.live.clear();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await this.media?.stop();
    this.store.saveNow(this.state);
  }

  // ---------------------------------------------------------------- connections

  private accept(ws: WebSocket) {
    const conn = new Conn(this.nextConnId++, ws, new NoiseResponder(this.staticKey));
    this.conns.add(conn);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (Date.now() < conn.partitionedUntil) return;
      if (!isBinary) return this.fail(conn, new NoiseError('text WebSocket message'));
      conn.chain = conn.chain.then(() => this.onData(conn, data)).catch((err) => this.fail(conn, err));
    });
    ws.on('close', () => this.onClose(conn));
    ws.on('error', (err) => this.log.debug({ err, conn: conn.id }, 'socket error'));
  }

  /** Anything a connection sends that we cannot handle closes that connection only. */
  private fail(conn: Conn, err: unknown) {
    if (conn.stage === 'closed') return;
    this.log.warn({ conn: conn.id, jid: conn.jid, err: (err as Error).message }, 'closing connection after a protocol error');
    if (conn.stage === 'open') this.send(conn, node('stream:error', { code: '400' }, [node('bad-request')]));
    this.close(conn, 20);
  }

  private close(conn: Conn, delayMs = 0) {
    const doClose = () => {
      if (conn.ws.readyState === conn.ws.OPEN) conn.ws.close();
      this.onClose(conn);
    };
    if (delayMs) setTimeout(doClose, delayMs).unref();
    else doClose();
  }

  private onClose(conn: Conn) {
    if (conn.stage === 'closed') return;
    conn.stage = 'closed';
    this.conns.delete(conn);
    for (const ref of conn.refs) this.pendingRefs.delete(ref);
    if (conn.device && this.live.get(conn.device.jid) === conn) {
      this.live.delete(conn.device.jid);
      const account = this.state.accounts[conn.device.phone];
      if (account && conn.available && !this.accountOnline(account.phone)) {
        account.lastSeen = now();
        this.pushPresence(account.phone);
      }
    }
  }

  private async onData(conn: Conn, data: Buffer) {
    for (const frame of conn.noise.feed(data)) {
      if (conn.stage === 'hello') {
        conn.ws.send(conn.noise.onClientHello(frame));
        conn.stage = 'finish';
      } else if (conn.stage === 'finish') {
        const { clientStatic, payload } = conn.noise.onClientFinish(frame);
        conn.clientStatic = clientStatic;
        conn.stage = 'open';
        let client: ReturnType<typeof proto.ClientPayload.decode>;
        try {
          client = proto.ClientPayload.decode(payload);
        } catch {
          throw new NoiseError('malformed ClientPayload');
        }
        // Baileys derives its transport keys asynchronously after sending clientFinish (§1.5): only
        // once its write has completed. On loopback a busy event loop can let our answer overtake
        // that (seen once in CI with 10 ms: "unable to authenticate data" in Baileys); a real
        // network's round trip is longer than this anyway.
        await new Promise((r) => setTimeout(r, this.opts.firstFrameDelayMs));
        if (client.username !== null && client.username !== undefined && String(client.username) !== '0') this.login(conn, client);
        else this.register(conn, client);
      } else if (conn.stage === 'open') {
        let stanza: BinaryNode;
        try {
          stanza = await decodeBinaryNode(frame);
        } catch {
          throw new NoiseError('undecodable stanza');
        }
        this.record('in', conn, stanza);
        this.onStanza(conn, stanza);
      }
    }
  }

  private send(conn: Conn, n: BinaryNode) {
    if (conn.stage !== 'open' || conn.ws.readyState !== conn.ws.OPEN || Date.now() < conn.partitionedUntil) return false;
    this.record('out', conn, n);
    conn.ws.send(conn.noise.frame(encodeBinaryNode(n)));
    return true;
  }

  private record(dir: 'in' | 'out', conn: Conn, n: BinaryNode) {
    this.traceLog.push({ at: Date.now(), dir, conn: conn.id, jid: conn.jid, xml: render(n) });
    if (this.traceLog.length > this.opts.traceLimit) this.traceLog.splice(0, this.traceLog.length - this.opts.traceLimit);
  }

  private save() {
    this.store.scheduleSave(this.state);
  }

  /** Sends a server IQ and resolves with the client's reply. */
  private query(conn: Conn, iq: BinaryNode, timeoutMs = 30_000): Promise<BinaryNode> {
    const id = iq.attrs.id!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.pending.delete(id);
        reject(new Error(`no reply to ${iq.tag} ${id}`));
      }, timeoutMs);
      timer.unref();
      conn.pending.set(id, (n) => {
        clearTimeout(timer);
        resolve(n);
      });
      this.send(conn, iq);
    });
  }

  // ---------------------------------------------------------------- registration and pairing (§2, §3)

  private register(conn: Conn, client: ReturnType<typeof proto.ClientPayload.decode>) {
    const p = client.devicePairingData;
    if (!p?.eRegid || !p.eIdent || !p.eSkeyId || !p.eSkeyVal || !p.eSkeySig) {
      this.send(conn, node('failure', { reason: '400', location: 'sim' }));
      return this.close(conn, 20);
    }
    conn.registration = {
      registrationId: Buffer.from(p.eRegid),
      identityKey: Buffer.from(p.eIdent),
      signedPreKey: { id: Buffer.from(p.eSkeyId), value: Buffer.from(p.eSkeyVal), signature: Buffer.from(p.eSkeySig) },
    };
    conn.refs = Array.from({ length: 6 }, () => `2@${randomBytes(24).toString('base64')}`);
    for (const ref of conn.refs) this.pendingRefs.set(ref, conn);
    this.send(
      conn,
      node('iq', { from: SERVER, type: 'set', id: serverId(), xmlns: 'md' }, [
        node('pair-device', {}, conn.refs.map((r) => node('ref', {}, Buffer.from(r)))),
      ]),
    );
    this.emit('qr-requested', { conn: conn.id });
  }

  private getOrCreateAccount(phone: string, opts: { name?: string; business?: boolean } = {}): Account {
    let account = this.state.accounts[phone];
    if (!account) {
      const accountKey = generateKeyPair();
      const spk = signedKeyPair(accountKey, 1);
      account = {
        phone,
        name: opts.name,
        business: !!opts.business,
        accountKey,
        registrationId: randomInt(1, 16380),
        signedPreKey: { keyId: 1, keyPair: { public: Buffer.from(spk.keyPair.public), private: Buffer.from(spk.keyPair.private) }, signature: Buffer.from(spk.signature) },
        preKeys: {},
        nextPreKeyId: 1,
        nextDeviceId: 2,
        nextKeyIndex: 1,
        appStateKey: { keyId: randomBytes(6), keyData: randomBytes(32) },
      };
      this.state.accounts[phone] = account;
      this.save();
    } else {
      if (opts.name) account.name = opts.name;
      if (opts.business !== undefined) account.business = opts.business;
    }
    return account;
  }

  /** Makes a number exist on the network (onWhatsApp answers "in") without linking a device. */
  registerNumber(phone: string, opts: { name?: string } = {}): void {
    assertPhone(phone);
    this.getOrCreateAccount(phone, opts);
  }

  /**
   * Plays the primary phone scanning the QR the product shows: links a new
   * companion device to `phone`'s account. Resolves with the device JID once the
   * client has signed the pairing (it then restarts with 515 and logs in).
   */
  async scan(qr: string, phone: string, opts: ScanOptions = {}): Promise<string> {
    assertPhone(phone);
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
    const pending = this.linkCodes.get(phone);
    if (!pending || pending.conn.stage !== 'open' || !pending.conn.registration) throw new SandboxError('no_pairing_code', `No device is waiting for a pairing code for ${phone}; ask the instance for a code first.`);
    const typed = code.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
    const account = this.getOrCreateAccount(phone, opts);
    const hello = await primaryHello(pending.wrapped, typed);
    const finished = new Promise<BinaryNode>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SandboxError('pairing_failed', 'The device did not finish the pairing.')), 15_000);
      pending.finish = (n) => {
        clearTimeout(timer);
        resolve(n);
      };
    });
    this.send(
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
      this.close(pending.conn, 20);
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
  private onLinkCode(conn: Conn, iq: BinaryNode) {
    const reg = child(iq, 'link_code_companion_reg')!;
    const phone = parseJid(reg.attrs.jid ?? '')?.user;
    if (reg.attrs.stage === 'companion_hello') {
      const wrapped = bytes(child(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub'));
      if (!phone || !wrapped || wrapped.length !== 80 || !conn.registration) return this.iqError(conn, iq, '400', 'bad-request');
      const ref = Buffer.from(randomBytes(16).toString('base64url'));
      this.linkCodes.set(phone, { conn, wrapped: Buffer.from(wrapped), ref });
      this.emit('pairing-code-requested', { phone });
      return this.result(conn, iq, [node('link_code_companion_reg', {}, [node('link_code_pairing_ref', {}, ref)])]);
    }
    if (reg.attrs.stage === 'companion_finish') {
      const pending = [...this.linkCodes.values()].find((p) => p.conn === conn);
      this.result(conn, iq);
      pending?.finish?.(reg);
      return;
    }
    this.iqError(conn, iq, '400', 'bad-request');
  }

  /** Links a new companion device to `phone`'s account on `conn`, signing its identity with the ADV secret both sides share. */
  private async linkDevice(conn: Conn, phone: string, advSecret: Buffer, opts: ScanOptions): Promise<string> {
    if (!conn.registration || !conn.clientStatic) throw new SandboxError('qr_expired', 'This device is no longer waiting to be linked.');
    for (const r of conn.refs) this.pendingRefs.delete(r);
    const registration = conn.registration;
    const clientStatic = conn.clientStatic;
    const account = this.getOrCreateAccount(phone, opts);
    const deviceId = account.nextDeviceId++;
    const keyIndex = account.nextKeyIndex++;
    const jid = deviceJid(phone, deviceId);

    const deviceIdentity = signedDeviceIdentity(account, registration.identityKey, keyIndex, advSecret);

    const content: BinaryNode[] = [node('device-identity', {}, deviceIdentity)];
    if (opts.platform) content.push(node('platform', { name: opts.platform }));
    content.push(node('device', { jid }));
    if (opts.name) content.push(node('biz', { name: opts.name }));
    const reply = await this.query(conn, node('iq', { from: SERVER, type: 'set', id: serverId(), xmlns: 'md', t: now() }, [node('pair-success', {}, content)]));
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
    this.state.devices[jid] = device;
    this.save();
    this.send(conn, node('stream:error', { code: '515' }));
    this.close(conn, 50);
    this.emit('paired', { jid, phone });
    return jid;
  }

  // ---------------------------------------------------------------- login (§2, §4)

  private login(conn: Conn, client: ReturnType<typeof proto.ClientPayload.decode>) {
    const phone = String(client.username);
    const jid = deviceJid(phone, client.device ?? 0);
    const device = this.state.devices[jid];
    const forced = this.loginFailures.get(jid);
    if (forced) this.loginFailures.delete(jid);
    if (forced || !device || !conn.clientStatic || !device.noiseKey.equals(conn.clientStatic)) {
      this.send(conn, node('failure', { reason: forced ?? '401', location: 'sim' }));
      return this.close(conn, 20);
    }
    const old = this.live.get(jid);
    const counts = this.loginCounts.get(jid) ?? { logins: 0, replaced: 0 };
    this.loginCounts.set(jid, counts);
    counts.logins++;
    if (old && old !== conn) {
      counts.replaced++;
      this.send(old, node('stream:error', {}, [node('conflict', { type: 'replaced' })]));
      this.live.delete(jid);
      this.close(old, 20);
    }
    conn.device = device;
    this.live.set(jid, conn);
    this.send(conn, node('success', { t: now(), props: '1', abprops: '1', location: 'sim', creation: now() }));
  }

  /** After passive/active (§4.3): bootstrap a fresh device, flush its queue, then <ib><offline>. */
  private onReady(conn: Conn) {
    const device = conn.device!;
    conn.ready = true;
    const account = this.state.accounts[device.phone]!;
    // Repeated on every login until the client has processed it: a client stopped
    // before handling it would otherwise buffer its events forever (§4.5).
    if (!device.bootstrapped) this.bootstrap(conn, account);
    const queued = device.queue.splice(0);
    for (const n of queued) {
      if (this.opts.offlineAttr) n.attrs.offline = '1';
      this.send(conn, n);
    }
    if (queued.length) this.save();
    this.send(conn, node('ib', { from: SERVER }, [node('offline', { count: queued.length })]));
    this.emit('ready', { jid: device.jid });
  }

  /** §4.4: the app-state key share and a history notification from the account's own phone. */
  private bootstrap(conn: Conn, account: Account) {
    const from = userJid(account.phone);
    const keyShare = proto.Message.encode({
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_SHARE,
        appStateSyncKeyShare: {
          keys: [
            {
              keyId: { keyId: account.appStateKey.keyId },
              keyData: { keyData: account.appStateKey.keyData, fingerprint: { rawId: 1, currentIndex: 0, deviceIndexes: [0] }, timestamp: Date.now() },
            },
          ],
        },
      },
    }).finish();
    const history = proto.Message.encode({
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: { syncType: proto.HistorySync.HistorySyncType.NON_BLOCKING_DATA, chunkOrder: 0, progress: 100 },
      },
    }).finish();
    for (const payload of [keyShare, history]) {
      this.send(conn, node('message', { from, id: messageId(), t: now(), type: 'text', notify: account.name }, [node('plaintext', {}, Buffer.from(payload))]));
    }
  }

  // ---------------------------------------------------------------- stanzas

  private onStanza(conn: Conn, n: BinaryNode) {
    if (n.tag === 'iq' && (n.attrs.type === 'result' || n.attrs.type === 'error')) {
      const waiter = conn.pending.get(n.attrs.id ?? '');
      if (waiter) {
        conn.pending.delete(n.attrs.id!);
        waiter(n);
      }
      return;
    }
    // Before login only the pairing exchange is meaningful; anything else is ignored (§3.2).
    if (!conn.device) {
      if (n.tag === 'iq' && n.attrs.xmlns === 'md' && child(n, 'link_code_companion_reg')) this.onLinkCode(conn, n);
      return;
    }
    switch (n.tag) {
      case 'iq':
        return this.onIq(conn, n);
      case 'message':
        return this.onMessage(conn, n);
      case 'receipt':
        return this.onReceipt(conn, n);
      case 'presence':
        return this.onPresence(conn, n);
      case 'chatstate':
        return this.onChatstate(conn, n);
      case 'ack':
      case 'notification':
        return;
      default:
        this.log.debug({ tag: n.tag, jid: conn.jid }, 'ignored stanza');
    }
  }

  private result(conn: Conn, req: BinaryNode, content?: BinaryNode[]) {
    this.send(conn, node('iq', { from: SERVER, type: 'result', id: req.attrs.id }, content));
  }

  private iqError(conn: Conn, req: BinaryNode, code: string, text: string) {
    this.send(conn, node('iq', { from: SERVER, type: 'error', id: req.attrs.id }, [node('error', { code, text })]));
  }

  private onIq(conn: Conn, iq: BinaryNode) {
    const device = conn.device!;
    const first = children(iq)[0];
    switch (iq.attrs.xmlns) {
      case 'encrypt':
        if (first?.tag === 'count') return this.result(conn, iq, [node('count', { value: Object.keys(device.preKeys).length })]);
        if (first?.tag === 'key') return this.result(conn, iq, [node('list', {}, children(first, 'user').map((u) => this.bundle(u.attrs.jid!)))]);
        if (iq.attrs.type === 'set') return this.onPreKeyUpload(conn, iq);
        break;
      case 'passive':
        this.result(conn, iq);
        if (first?.tag === 'active' && !conn.ready) this.onReady(conn);
        return;
      case 'w:p':
        return this.result(conn, iq);
      case 'w':
        if (first?.tag === 'props') return this.result(conn, iq, [node('props', { protocol: '2', hash: 'sim' })]);
        break;
      case 'blocklist':
        return this.result(conn, iq, [node('list')]);
      case 'privacy':
        if (iq.attrs.type === 'get') return this.result(conn, iq, [node('privacy', {}, PRIVACY.map((name) => node('category', { name, value: name === 'readreceipts' ? 'all' : 'all' })))]);
        return this.result(conn, iq);
      case 'w:sync:app:state':
        // The client only syncs app state once it holds the key from the bootstrap: it is set up.
        if (!device.bootstrapped) {
          device.bootstrapped = true;
          this.save();
          this.emit('synced', { jid: device.jid });
        }
        // Echo every collection at its version, never with snapshots or external patches (§4.2 #7).
        return this.result(conn, iq, [
          node('sync', {}, children(first, 'collection').map((c) => node('collection', { name: c.attrs.name, version: c.attrs.version ?? '0' }))),
        ]);
      case 'w:m':
        if (first?.tag === 'media_conn') {
          const host = this.media?.host || '127.0.0.1:1';
          return this.result(conn, iq, [
            node('media_conn', { auth: 'sandbox', ttl: '3600' }, [node('host', { hostname: host, maxContentLengthBytes: '104857600' })]),
          ]);
        }
        break;
      case 'usync':
        return this.result(conn, iq, [this.usync(first!)]);
      case 'md':
        if (first?.tag === 'remove-companion-device') return this.logout(conn, iq);
        break;
      case 'urn:xmpp:whatsapp:dirty':
      case 'status':
        return this.result(conn, iq);
    }
    this.iqError(conn, iq, '501', 'feature-not-implemented');
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
    this.save();
    this.result(conn, iq);
  }

  /** §6.2: a bundle for one address; a one-time prekey is never served twice. */
  private bundle(jid: string): BinaryNode {
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
      const account = this.getOrCreateAccount(parsed.user);
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
      if (this.opts.oneTimePreKeys) {
        // The phone mints a fresh prekey per request and keeps its private half for decryption (§11).
        const keyId = account.nextPreKeyId++;
        const kp = generateKeyPair();
        account.preKeys[keyId] = kp;
        content.push(node('key', {}, [node('id', {}, id3(keyId)), node('value', {}, kp.public)]));
        this.save();
      }
      return node('user', { jid }, content);
    }
    const device = this.state.devices[deviceJid(parsed.user, parsed.device)];
    if (!device) {
      // Never answer an error for a requested address: it would fail the whole send (§6.2).
      this.log.warn({ jid }, 'bundle requested for an unknown device');
      return user;
    }
    const content: BinaryNode[] = [
      node('registration', {}, device.registrationId),
      node('type', {}, Buffer.from([5])),
      node('identity', {}, device.identityKey),
      node('skey', {}, [node('id', {}, device.signedPreKey.id), node('value', {}, device.signedPreKey.value), node('signature', {}, device.signedPreKey.signature)]),
    ];
    if (this.opts.oneTimePreKeys) {
      const ids = Object.keys(device.preKeys).map(Number).sort((a, b) => a - b);
      const keyId = ids[0];
      if (keyId !== undefined) {
        const value = device.preKeys[keyId]!;
        delete device.preKeys[keyId];
        content.push(node('key', {}, [node('id', {}, id3(keyId)), node('value', {}, value)]));
      }
      if (ids.length - 1 < 5) this.requestPreKeyRefill(device);
      this.save();
    }
    return node('user', { jid }, content);
  }

  /** Asks an idle, ready device to upload more prekeys (§6.2); pushed later so it never overlaps a send. */
  private requestPreKeyRefill(device: Device) {
    setTimeout(() => {
      const c = this.live.get(device.jid);
      if (c?.ready) this.send(c, node('notification', { from: SERVER, type: 'encrypt', id: serverId(), t: now() }, [node('count', { value: Object.keys(device.preKeys).length })]));
    }, 1_000).unref();
  }

  /** §6.1: device lists, contacts (onWhatsApp) and status. */
  private usync(usyncNode: BinaryNode): BinaryNode {
    const query = child(usyncNode, 'query');
    const protocols = children(query).map((c) => c.tag);
    const users = children(child(usyncNode, 'list'), 'user');
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
      const account = this.state.accounts[parsed.user];
      known = !!account;
      const content: BinaryNode[] = [];
      for (const p of protocols) {
        if (p === 'devices') {
          const list = [node('device', { id: '0' })];
          for (const d of this.companions(parsed.user)) list.push(node('device', { id: d.deviceId, 'key-index': d.keyIndex }));
          content.push(node('devices', {}, [node('device-list', {}, list)]));
        } else if (p === 'contact') {
          content.push(node('contact', { type: known ? 'in' : 'out' }, contact ? bytes(contact) ?? '' : undefined));
        } else if (p === 'status') {
          content.push(node('status', { t: now() }, known ? 'Hey there! I am using WhatsApp.' : undefined));
        } else if (p === 'disappearing_mode') {
          content.push(node('disappearing_mode', { duration: '0', t: now() }));
        }
      }
      out.push(node('user', { jid: userJid(parsed.user) }, content));
    }
    return node('usync', usyncNode.attrs, [node('result', {}, protocols.map((p) => node(p))), node('list', {}, out)]);
  }

  private companions(phone: string): Device[] {
    return Object.values(this.state.devices)
      .filter((d) => d.phone === phone)
      .sort((a, b) => a.deviceId - b.deviceId);
  }

  // ---------------------------------------------------------------- messages and receipts (§6)

  private onMessage(conn: Conn, msg: BinaryNode) {
    const sender = conn.device!;
    const id = msg.attrs.id;
    const to = msg.attrs.to;
    if (!id || !to) throw new NoiseError('message without id or to');
    const toJid = parseJid(to);
    const participants = child(msg, 'participants');
    const deviceIdentity = child(msg, 'device-identity');
    const senderAccount = this.state.accounts[sender.phone];
    // Peer messages to the own phone (placeholder resends, history requests) are swallowed (§6.3).
    if (msg.attrs.category === 'peer') return this.ackMessage(conn, msg);
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
          if (this.opts.phoneSenderReceipts && toJid && toJid.user !== sender.phone) {
            this.send(conn, node('receipt', { from: userJid(sender.phone), recipient: userJid(toJid.user), id, type: 'sender', t: now() }));
          }
        } else {
          const phone = this.phone(t.user);
          if (phone) phone.receive(sender.jid, id, target.enc).catch((err) => this.log.warn({ err, phone: t.user, id }, 'virtual phone could not decrypt'));
        }
        continue;
      }
      const targetJid = deviceJid(t.user, t.device);
      const device = this.state.devices[targetJid];
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

  private ackMessage(conn: Conn, msg: BinaryNode) {
    const error = this.ackErrors.get(msg.attrs.id!);
    if (error) this.ackErrors.delete(msg.attrs.id!);
    this.send(conn, node('ack', { class: 'message', id: msg.attrs.id, from: msg.attrs.to, t: now(), error }));
  }

  /** Sends now when the device is ready, otherwise keeps it for the next login (§4.6). */
  private deliver(device: Device, n: BinaryNode) {
    const c = this.live.get(device.jid);
    if (c?.ready && this.send(c, n)) return;
    device.queue.push(n);
    this.save();
  }

  private onReceipt(conn: Conn, r: BinaryNode) {
    const sender = conn.device!;
    const { id, to, type } = r.attrs;
    this.send(conn, node('ack', { class: 'receipt', id, from: to, type }));
    const target = parseJid(to);
    if (!id || !target) return;
    if (target.user === sender.phone && type && DROPPED_OWN_RECEIPTS.has(type)) return;
    if (type === 'read-self') return;
    const from = this.opts.normalizeReceiptFrom ? userJid(sender.phone) : sender.jid;
    const forward = (device: Device) =>
      this.deliver(
        device,
        node('receipt', { from, id, t: r.attrs.t ?? now(), type, participant: r.attrs.participant }, children(r).filter((c) => c.tag === 'list')),
      );
    if (target.device !== 0) {
      const device = this.state.devices[deviceJid(target.user, target.device)];
      if (device) forward(device);
    } else {
      const list = this.companions(target.user);
      for (const d of list) if (d.jid !== sender.jid) forward(d);
      if (!list.length) {
        // A receipt for several messages names the first in its id and the rest in <list><item id/></list>.
        const items = children(r).filter((c) => c.tag === 'list').flatMap((l) => children(l).filter((c) => c.tag === 'item').map((c) => c.attrs.id));
        for (const mid of [id, ...items]) if (mid) this.phone(target.user)?.onReceipt(mid, type);
      }
    }
    this.emit('receipt', { from: sender.jid, to, id, type: type ?? 'delivery' });
  }

  // ---------------------------------------------------------------- presence and chatstate (§6.8)

  private accountOnline(phone: string): boolean {
    for (const d of this.companions(phone)) if (this.live.get(d.jid)?.available) return true;
    return this.phoneOnline.has(phone);
  }

  private readonly phoneOnline = new Set<string>();

  private presenceNode(phone: string): BinaryNode {
    const account = this.state.accounts[phone];
    return this.accountOnline(phone)
      ? node('presence', { from: userJid(phone) })
      : node('presence', { from: userJid(phone), type: 'unavailable', last: account?.lastSeen ?? 'deny' });
  }

  private pushPresence(phone: string) {
    for (const sub of this.subscriptions.get(userJid(phone)) ?? []) {
      const c = this.live.get(sub);
      if (c?.ready) this.send(c, this.presenceNode(phone));
    }
  }

  private onPresence(conn: Conn, p: BinaryNode) {
    const device = conn.device!;
    const account = this.state.accounts[device.phone];
    if (p.attrs.name && account && !account.name) {
      account.name = p.attrs.name;
      this.save();
    }
    if (p.attrs.type === 'subscribe' && p.attrs.to) {
      const target = parseJid(p.attrs.to);
      if (!target) return;
      const key = userJid(target.user);
      let set = this.subscriptions.get(key);
      if (!set) this.subscriptions.set(key, (set = new Set()));
      set.add(device.jid);
      if (conn.ready) this.send(conn, this.presenceNode(target.user));
      return;
    }
    if (p.attrs.type === 'available' || p.attrs.type === 'unavailable') {
      const wasOnline = this.accountOnline(device.phone);
      conn.available = p.attrs.type === 'available';
      if (!conn.available && account) account.lastSeen = now();
      if (wasOnline !== this.accountOnline(device.phone)) this.pushPresence(device.phone);
    }
  }

  private onChatstate(conn: Conn, cs: BinaryNode) {
    const device = conn.device!;
    const target = parseJid(cs.attrs.to);
    if (!target) return;
    for (const d of this.companions(target.user)) {
      const c = this.live.get(d.jid);
      if (c?.ready) this.send(c, node('chatstate', { from: userJid(device.phone) }, children(cs)));
    }
    this.emit('chatstate', { from: device.jid, to: cs.attrs.to, state: children(cs)[0]?.tag });
  }

  // ---------------------------------------------------------------- logout and faults (§8)

  private logout(conn: Conn, iq: BinaryNode) {
    const device = conn.device!;
    this.result(conn, iq);
    this.removeDevice(device.jid);
    this.close(conn, 20);
  }

  private removeDevice(jid: string) {
    const device = this.state.devices[jid];
    if (!device) return;
    delete this.state.devices[jid];
    this.save();
    if (!this.accountOnline(device.phone)) this.pushPresence(device.phone);
    this.emit('unlinked', { jid });
  }

  private liveConn(jid: string): Conn {
    const c = this.live.get(jid);
    if (!c) throw new SandboxError('not_connected', `${jid} is not connected.`);
    return c;
  }

  /** Terminates the device's socket (Baileys sees 428). */
  drop(jid: string): void {
    this.liveConn(jid).ws.terminate();
  }

  /** Stops reading and writing for a while without closing (Baileys sees 408 after its keepalive). */
  partition(jid: string, ms: number): void {
    this.liveConn(jid).partitionedUntil = Date.now() + ms;
  }

  /** Conflict: the session was replaced (Baileys sees 440). */
  replace(jid: string): void {
    const c = this.liveConn(jid);
    this.send(c, node('stream:error', {}, [node('conflict', { type: 'replaced' })]));
    this.live.delete(jid);
    this.close(c, 20);
  }

  /** The phone unlinks the device (Baileys sees 401 and must pair again). */
  unlink(jid: string): void {
    const c = this.live.get(jid);
    if (c) {
      this.send(c, node('stream:error', { code: '401' }, [node('conflict', { type: 'device_removed' })]));
      this.close(c, 20);
    }
    if (!this.state.devices[jid]) throw new SandboxError('unknown_device', `${jid} is not linked.`);
    this.removeDevice(jid);
  }

  /** Asks the device to restart (515). */
  restart(jid: string): void {
    const c = this.liveConn(jid);
    this.send(c, node('stream:error', { code: '515' }));
    this.close(c, 50);
  }

  failNextLogin(jid: string, reason = '401'): void {
    this.loginFailures.set(jid, reason);
  }

  /** The next message with this id is acked with an error (Baileys marks it ERROR). */
  ackError(msgId: string, code = '479'): void {
    this.ackErrors.set(msgId, code);
  }

  // ---------------------------------------------------------------- virtual phones (§11)

  private readonly phoneObjects = new Map<string, VirtualPhone>();

  private phoneHost(): PhoneHost {
    return {
      account: (phone) => this.state.accounts[phone],
      getOrCreateAccount: (phone, o) => this.getOrCreateAccount(phone, o),
      phoneState: (phone) => this.state.phones[phone],
      setPhoneState: (st) => {
        this.state.phones[st.phone] = st;
        this.save();
      },
      companions: (phone) => this.companions(phone),
      deliverTo: (jid, n) => {
        const d = this.state.devices[jid];
        if (d) this.deliver(d, n);
      },
      bundleFor: (jid) => this.bundle(jid),
      setPhoneOnline: (phone, online) => this.internals.setPhoneOnline(phone, online),
      save: () => this.save(),
      media: this.media,
      emit: (event, payload) => this.emit(event, payload),
    };
  }

  /** Creates (or returns) a virtual customer phone with its own number and keys. */
  createPhone(phone: string, opts: { name?: string; owner?: string } = {}): VirtualPhone {
    assertPhone(phone);
    const existing = this.state.phones[phone];
    if (existing && existing.owner !== opts.owner) throw new SandboxError('phone_taken', `${phone} is already a phone of another account.`);
    if (this.companions(phone).length) throw new SandboxError('phone_taken', `${phone} has linked devices; a virtual phone needs a number of its own.`);
    this.getOrCreateAccount(phone, { name: opts.name });
    if (!existing) {
      this.state.phones[phone] = newPhoneState(phone, opts.name, opts.owner);
      this.save();
    }
    const p = this.phone(phone)!;
    if (p.online) this.internals.setPhoneOnline(phone, true);
    this.emit('phone-changed', { phone });
    return p;
  }

  /** A virtual phone created earlier (also after a restart), or undefined. */
  phone(phone: string): VirtualPhone | undefined {
    if (!this.state.phones[phone]) return undefined;
    let p = this.phoneObjects.get(phone);
    if (!p) {
      p = new VirtualPhone(this.phoneHost(), phone);
      this.phoneObjects.set(phone, p);
      if (this.state.phones[phone]!.online) this.phoneOnline.add(phone);
    }
    return p;
  }

  phones(): VirtualPhone[] {
    return Object.keys(this.state.phones).map((p) => this.phone(p)!);
  }

  // ---------------------------------------------------------------- inspection

  /**
   * Every linked device with its connection: `connections` counts the open sockets logged in as
   * it, `logins` the logins since the network started and `replaced` how many of them pushed an
   * open socket out (two clients fighting over one device show as a growing count).
   */
  devices(): { jid: string; phone: string; online: boolean; ready: boolean; queued: number; connections: number; logins: number; replaced: number }[] {
    const open = new Map<string, number>();
    for (const c of this.conns) if (c.device && c.stage !== 'closed') open.set(c.device.jid, (open.get(c.device.jid) ?? 0) + 1);
    return Object.values(this.state.devices).map((d) => ({
      jid: d.jid,
      phone: d.phone,
      online: this.live.has(d.jid),
      ready: !!this.live.get(d.jid)?.ready,
      queued: d.queue.length,
      connections: open.get(d.jid) ?? 0,
      logins: this.loginCounts.get(d.jid)?.logins ?? 0,
      replaced: this.loginCounts.get(d.jid)?.replaced ?? 0,
    }));
  }

  account(phone: string): Account | undefined {
    return this.state.accounts[phone];
  }

  trace(): readonly TraceEntry[] {
    return this.traceLog;
  }

  /** Resolves when the predicate holds for a trace entry (existing or future). */
  waitForTrace(predicate: (e: TraceEntry) => boolean, timeoutMs = 15_000): Promise<TraceEntry> {
    const found = this.traceLog.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const start = this.traceLog.length;
      const timer = setInterval(() => {
        const hit = this.traceLog.slice(Math.max(0, start - 1)).find(predicate);
        if (hit) {
          clearInterval(timer);
          resolve(hit);
        } else if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error('timed out waiting for a trace entry'));
        }
      }, 20);
      const deadline = Date.now() + timeoutMs;
    });
  }

  /** Internal hooks for the virtual phones. */
  get internals() {
    return {
      state: this.state,
      save: () => this.save(),
      deliver: (device: Device, n: BinaryNode) => this.deliver(device, n),
      companions: (phone: string) => this.companions(phone),
      getOrCreateAccount: (phone: string, o?: { name?: string }) => this.getOrCreateAccount(phone, o),
      bundleFor: (jid: string) => this.bundle(jid),
      setPhoneOnline: (phone: string, online: boolean) => {
        const was = this.accountOnline(phone);
        if (online) this.phoneOnline.add(phone);
        else {
          this.phoneOnline.delete(phone);
          const a = this.state.accounts[phone];
          if (a) a.lastSeen = now();
        }
        if (was !== this.accountOnline(phone)) this.pushPresence(phone);
      },
      msgSender: (id: string) => this.msgIndex.get(id),
    };
  }
}

export class SandboxError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

function assertPhone(phone: string) {
  if (!/^\d{8,15}$/.test(phone)) throw new SandboxError('invalid_phone', `"${phone}" is not a phone number: 8 to 15 digits with country code, no +.`);
}
