import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeBinaryNode, encodeBinaryNode, generateKeyPair, proto, type BinaryNode } from './baileys.js';
import { assertPhone, Conn, SandboxError, silent, type NetworkLogger, type ScanOptions, type TraceEntry } from './conn.js';
import { newAccount } from './accounts.js';
import type { NetworkCore, NetworkSwitches } from './core.js';
import { DeviceLists } from './deviceLists.js';
import { StanzaDispatch } from './dispatch.js';
import { Groups } from './groups.js';
import { IqHandlers } from './iq.js';
import { Linking } from './linking.js';
import { Login } from './login.js';
import { MediaServer, type MediaServerOptions } from './media.js';
import { NoiseError, NoiseResponder } from './noise.js';
import type { VirtualPhone } from './phones.js';
import { Presence } from './presence.js';
import { Relay } from './relay.js';
import { StateFile, type Account, type Device, type NetworkState } from './state.js';
import { node, now, SERVER } from './stanza.js';
import { TraceLog } from './trace.js';
import { VirtualPhones } from './virtualPhones.js';

export { SandboxError } from './conn.js';
export type { NetworkLogger, ScanOptions, TraceEntry } from './conn.js';

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

/**
 * A WhatsApp network on loopback that the unmodified Baileys 6.17 client pairs
 * with, logs in to and exchanges end-to-end encrypted messages through.
 * The design notes (whatsapp-simulator.md) explain every stanza; section numbers
 * below refer to them. This file holds the connections (noise transport), the
 * faults tests inject, the virtual phones and inspection; stanza dispatch
 * (dispatch.ts), linking (linking.ts), login (login.ts), IQs (iq.ts), the message
 * relay (relay.ts), presence (presence.ts) and device lists (deviceLists.ts) are
 * parts it hands itself to as their NetworkCore.
 */
export class SandboxNetwork extends EventEmitter implements NetworkCore {
  private wss?: WebSocketServer;
  readonly state: NetworkState;
  private readonly store: StateFile;
  readonly log: NetworkLogger;
  private readonly conns = new Set<Conn>();
  readonly live = new Map<string, Conn>();
  private readonly staticKey = generateKeyPair();
  private readonly traceLog: TraceLog;
  private nextConnId = 1;
  readonly opts: NetworkSwitches;
  readonly media?: MediaServer;
  url = '';
  private readonly linking = new Linking(this);
  private readonly logins = new Login(this);
  private readonly iqs = new IqHandlers(this, this.logins);
  private readonly relay = new Relay(this);
  private readonly presence = new Presence(this);
  readonly groups: Groups = new Groups(this);
  private readonly deviceLists = new DeviceLists(this);
  private readonly virtualPhones: VirtualPhones;
  private readonly dispatch = new StanzaDispatch(this, { linking: this.linking, iqs: this.iqs, relay: this.relay, presence: this.presence });

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
    this.traceLog = new TraceLog(this.opts.traceLimit);
    if (options.media !== false) this.media = new MediaServer({ host: this.opts.host, ...options.media });
    this.virtualPhones = new VirtualPhones(this, { presence: this.presence, bundleFor: (jid) => this.iqs.bundle(jid) });
  }

  /** Messages the network could not route (to a device that does not exist). */
  get undeliverable() {
    return this.relay.undeliverable;
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

  close(conn: Conn, delayMs = 0) {
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
    this.linking.forget(conn);
    if (conn.device && this.live.get(conn.device.jid) === conn) {
      this.live.delete(conn.device.jid);
      const account = this.state.accounts[conn.device.phone];
      if (account && conn.available && !this.presence.accountOnline(account.phone)) {
        account.lastSeen = now();
        this.presence.pushPresence(account.phone);
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
        if (client.username !== null && client.username !== undefined && String(client.username) !== '0') this.logins.login(conn, client);
        else this.linking.register(conn, client);
      } else if (conn.stage === 'open') {
        let stanza: BinaryNode;
        try {
          stanza = await decodeBinaryNode(frame);
        } catch {
          throw new NoiseError('undecodable stanza');
        }
        this.traceLog.record('in', conn, stanza);
        this.dispatch.onStanza(conn, stanza);
      }
    }
  }

  send(conn: Conn, n: BinaryNode) {
    if (conn.stage !== 'open' || conn.ws.readyState !== conn.ws.OPEN || Date.now() < conn.partitionedUntil) return false;
    this.traceLog.record('out', conn, n);
    conn.ws.send(conn.noise.frame(encodeBinaryNode(n)));
    return true;
  }

  save() {
    this.store.scheduleSave(this.state);
  }

  /** Sends a server IQ and resolves with the client's reply. */
  query(conn: Conn, iq: BinaryNode, timeoutMs = 30_000): Promise<BinaryNode> {
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

  // ---------------------------------------------------------------- accounts and linking (linking.ts)

  getOrCreateAccount(phone: string, opts: { name?: string; business?: boolean } = {}): Account {
    let account = this.state.accounts[phone];
    if (!account) {
      account = this.state.accounts[phone] = newAccount(phone, opts);
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
  scan(qr: string, phone: string, opts: ScanOptions = {}): Promise<string> {
    return this.linking.scan(qr, phone, opts);
  }

  /** Plays the primary phone entering the pairing code a device shows (link-code pairing). A wrong code links nothing. */
  enterPairingCode(phone: string, code: string, opts: ScanOptions = {}): Promise<string> {
    return this.linking.enterPairingCode(phone, code, opts);
  }

  // ---------------------------------------------------------------- what the parts share (NetworkCore)

  result(conn: Conn, req: BinaryNode, content?: BinaryNode[]) {
    this.send(conn, node('iq', { from: SERVER, type: 'result', id: req.attrs.id }, content));
  }

  iqError(conn: Conn, req: BinaryNode, code: string, text: string) {
    this.send(conn, node('iq', { from: SERVER, type: 'error', id: req.attrs.id }, [node('error', { code, text })]));
  }

  companions(phone: string): Device[] {
    return Object.values(this.state.devices)
      .filter((d) => d.phone === phone)
      .sort((a, b) => a.deviceId - b.deviceId);
  }

  deliver(device: Device, n: BinaryNode): void {
    this.relay.deliver(device, n);
  }

  accountOnline(phone: string): boolean {
    return this.presence.accountOnline(phone);
  }

  pushPresence(phone: string): void {
    this.presence.pushPresence(phone);
  }

  // ---------------------------------------------------------------- logout and faults (§8)

  removeDevice(jid: string) {
    const device = this.state.devices[jid];
    if (!device) return;
    delete this.state.devices[jid];
    this.save();
    if (!this.presence.accountOnline(device.phone)) this.presence.pushPresence(device.phone);
    this.announceDevices('remove', device);
    this.emit('unlinked', { jid });
  }

  deviceListRead(phone: string, by: string) {
    this.deviceLists.read(phone, by);
  }

  announceDevices(change: 'add' | 'remove', device: Device) {
    this.deviceLists.announce(change, device);
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
    this.logins.failNext(jid, reason);
  }

  /** The next message with this id is acked with an error (Baileys marks it ERROR). */
  ackError(msgId: string, code = '479'): void {
    this.relay.failAck(msgId, code);
  }

  // ---------------------------------------------------------------- virtual phones (§11)

  /** Creates (or returns) a virtual customer phone with its own number and keys. */
  createPhone(phone: string, opts: { name?: string; owner?: string } = {}): VirtualPhone {
    return this.virtualPhones.create(phone, opts);
  }

  /** A virtual phone created earlier (also after a restart), or undefined. */
  phone(phone: string): VirtualPhone | undefined {
    return this.virtualPhones.get(phone);
  }

  phones(): VirtualPhone[] {
    return this.virtualPhones.all();
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
      logins: this.logins.counts.get(d.jid)?.logins ?? 0,
      replaced: this.logins.counts.get(d.jid)?.replaced ?? 0,
    }));
  }

  account(phone: string): Account | undefined {
    return this.state.accounts[phone];
  }

  trace(): readonly TraceEntry[] {
    return this.traceLog.all();
  }

  /** Resolves when the predicate holds for a trace entry (existing or future). */
  waitForTrace(predicate: (e: TraceEntry) => boolean, timeoutMs = 15_000): Promise<TraceEntry> {
    return this.traceLog.waitFor(predicate, timeoutMs);
  }

  /** Client sockets open now, linked or still showing a QR code. */
  get openConnections(): number {
    let n = 0;
    for (const c of this.conns) if (c.stage !== 'closed') n++;
    return n;
  }

  /** The prekey bundle a device hands out for `jid` (as an encrypt IQ answers it). */
  bundleFor(jid: string): BinaryNode {
    return this.iqs.bundle(jid);
  }
}
