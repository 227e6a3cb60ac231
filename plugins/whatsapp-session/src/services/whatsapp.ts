import { EventEmitter } from 'node:events';
import { ClusterCache, conflict, HttpError, notFound, TOKENS, type Clock, type PluginContext } from '@plugchat/core';
import type { InstanceGate, WhatsAppNetwork } from '../api.js';
import type { InstanceState, Store } from '../store.js';
import type { WAMessage } from '../baileys.js';
import { databaseAuthState } from '../transport/authState.js';
import { InstanceSession, type SessionHooks } from '../transport/session.js';
import type { Outbox } from '../outbox.js';
import type { InstanceLeases, LeaseHolder } from './leases.js';
import type { OutgoingRequest } from './content.js';
import { pollMessage } from './polls.js';
import { phoneOf } from './jids.js';
import { runSocketOp, type SocketOp } from './socketOps.js';
import { SocketActions } from './socketActions.js';
import { Calls } from './calls.js';
import { ChatSettings } from './chatSettings.js';
import { History } from './history.js';
import { Instances, type Instance, type InstancePatch } from './instances.js';
import { Receiving } from './receiving.js';
import { Sending, type SendJob } from './sending.js';
import { OptOuts } from './optOuts.js';
import { SendRamp } from './sendRamp.js';
import { PerKey } from './perKey.js';
import type { Settings } from './settings.js';

export { jidOf, phoneOf } from './jids.js';
export type { Settings } from './settings.js';
export type { SendJob } from './sending.js';
export type { Instance } from './instances.js';

/** What a process asks the owner of an instance to do (cluster mode). */
type OwnerOp = 'connect' | 'disconnect' | 'pause' | 'qr' | 'pairingCode' | SocketOp;
type LiveChange = { type: string; instanceId: string; [k: string]: unknown };

/** How long a group's name is trusted for its messages' chat name (renames show within this). */
const GROUP_NAME_TTL_MS = 5 * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Instances (one WhatsApp number each) and their Baileys sessions: which process runs each
 * socket, connecting, QR and pairing codes, pausing and logging out, and routing what needs the
 * open socket to it. The table (instances.ts), the send queue (sending.ts), what arrives
 * (receiving.ts), the actions on the socket (socketActions.ts) and reading the store (history.ts)
 * are their own services; this one is the face the routes and other plugins use.
 */
export class WhatsAppService implements LeaseHolder {
  private readonly sessions = new Map<string, InstanceSession>();
  /** Instances whose open socket is recorded as connected, with its phone. */
  private readonly recorded = new Set<string>();
  /** What sockets handed over and is still being written (messages, receipts, votes). */
  private readonly writing = new Set<Promise<unknown>>();
  private readonly qrs = new Map<string, { qr: string; at: number }>();
  /** Set by stopAll: no socket starts any more. */
  private closing = false;
  /** Starts and stops of each instance's socket, one at a time. */
  private readonly lifecycle = new PerKey();
  /** Each instance's state records, written in the order they happened. */
  private readonly states = new PerKey();
  /** Live changes per instance (state, QR) for the UI's event stream. */
  readonly live = new EventEmitter().setMaxListeners(0);
  readonly instances: Instances;
  readonly sending: Sending;
  readonly ramp: SendRamp;
  private readonly receiving: Receiving;
  private readonly calls: Calls;
  private readonly chatSettings: ChatSettings;
  private readonly stored: History;
  /** What needs the open socket, run where it is. */
  readonly actions: SocketActions;

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    private readonly network: () => WhatsAppNetwork | undefined,
    private readonly outbox: Outbox,
    /** Set when several processes share PostgreSQL: who runs which instance. */
    private readonly leases?: InstanceLeases,
    private readonly gates: () => InstanceGate[] = () => [],
  ) {
    this.instances = new Instances(store, ctx);
    this.chatSettings = new ChatSettings(store);
    this.stored = new History(store, this.chatSettings, () => ctx.container.resolve<Clock>(TOKENS.Clock).now().getTime());
    const optOuts = new OptOuts(store, ctx);
    this.ramp = new SendRamp(store, ctx, ctx.container.resolve<Clock>(TOKENS.Clock));
    this.sending = new Sending(store, ctx, outbox, {
      optOuts,
      ramp: this.ramp,
      session: (id) => this.sessions.get(id),
      find: (id) => this.instances.find(id),
      gate: (instance, action) => this.gate(instance, action),
      leases,
      log: () => this.log,
    });
    this.receiving = new Receiving(store, ctx, outbox, {
      optOuts,
      log: () => this.log,
      phoneOfInstance: (id) => this.phoneOfInstance(id),
      mediaAgent: (id) => this.sessions.get(id)?.agent,
      sentHere: (id, waId) => this.sending.statuses.sentHere(id, waId),
      groupName: (id, jid) => this.groupName(id, jid),
    });
    this.groupNames = new ClusterCache(
      ctx.cluster,
      'whatsapp-session.group-names',
      async (key) => {
        const [instanceId, jid] = key.split(' ') as [string, string];
        return this.sessions.get(instanceId)?.sock?.groupMetadata(jid).then((m) => m.subject, () => undefined);
      },
      GROUP_NAME_TTL_MS,
    );
    ctx.subscriptions.push(this.groupNames);
    this.actions = new SocketActions(store, this.chatSettings, {
      onOwner: (instance, op, args) => this.onOwner(instance, op, args, false),
      connected: (instance) => this.connected(instance),
      groupRenamed: (instanceId, jid) => this.groupNames.drop(`${instanceId} ${jid}`),
    });
    this.calls = new Calls(ctx, {
      instances: this.instances,
      socket: (id) => this.sessions.get(id)?.sock,
      enqueue: (instance, phone, req) => this.sending.enqueue(instance, phone, req),
      log: () => this.log,
    });
    // Live changes travel through the cluster, so a stream on any process sees every instance.
    ctx.subscriptions.push(
      ctx.cluster.on('whatsapp-session.live', (p: { accountId: string; change: LiveChange }) => {
        this.live.emit(p.change.instanceId, p.change);
        // The account's stream (agents) carries states; QR codes only reach the instance's own stream (admins).
        if (p.change.type === 'state') this.live.emit(`account:${p.accountId}`, p.change);
      }),
      ctx.cluster.on('whatsapp-session.wake', (p: { instanceId: string }) => {
        if (this.sessions.has(p.instanceId)) void this.sending.drain(p.instanceId).catch((err) => this.log.error({ err, instance: p.instanceId }, 'drain failed'));
      }),
      ctx.cluster.handle('whatsapp-session.op', (p: { op: OwnerOp; instanceId: string; args: unknown[] }) => this.runOp(p.op, p.instanceId, p.args)),
    );
  }

  private publish(instance: Pick<Instance, 'id' | 'accountId'>, change: LiveChange) {
    void this.ctx.cluster.broadcast('whatsapp-session.live', { accountId: instance.accountId, change }).catch((err) => this.log.warn({ err }, 'could not publish a live change'));
  }

  private get log() {
    return this.ctx.logger;
  }

  // ------------------------------------------------------------------ instances (instances.ts)

  create(accountId: string, name: string, opts: { delayMinMs?: number; delayMaxMs?: number } = {}) {
    return this.instances.create(accountId, name, opts);
  }

  list(accountId: string) {
    return this.instances.list(accountId);
  }

  get(accountId: string, id: string) {
    return this.instances.get(accountId, id);
  }

  token(instance: Instance) {
    return this.instances.token(instance);
  }

  authorize(caller: { accountId: string }, id: string, token: string) {
    return this.instances.authorize(caller, id, token);
  }

  update(instance: Instance, patch: InstancePatch) {
    return this.instances.update(instance, patch);
  }

  rotateToken(instance: Instance) {
    return this.instances.rotateToken(instance);
  }

  history(instance: Instance, page: { limit: number; before?: number }) {
    return this.instances.history(instance, page);
  }

  phoneOfInstance(id: string): string | null {
    const me = this.sessions.get(id)?.sock?.user?.id;
    return me ? phoneOf(me) : null;
  }

  async remove(instance: Instance): Promise<void> {
    // The process running it logs the device out first (this one, or its owner in cluster mode).
    const owner = await this.ownerElsewhere(instance, false);
    if (owner) await this.ctx.cluster.request(owner, 'whatsapp-session.op', { op: 'disconnect', instanceId: instance.id, args: [] }).catch((err) => this.log.warn({ err, instance: instance.id }, 'the owner did not log the instance out; deleting it anyway'));
    await this.lifecycle.run(instance.id, async () => {
      const session = this.sessions.get(instance.id);
      this.sessions.delete(instance.id);
      await session?.stop({ logout: true });
    });
    await this.instances.delete(instance);
  }

  private async setState(instance: Instance, state: InstanceState, reason: string, device?: { phone: string; pushName: string | null; platform: string | null }) {
    // In order: a "connecting" record overtaken by "connected" would tell other processes it is down.
    await this.states.run(instance.id, () => this.instances.recordState(instance, state, reason, device));
    // Taken back when the socket closes, not by a later state: a QR's record landing late must not hide a connection.
    if (state === 'connected') this.recorded.add(instance.id);
    this.publish(instance, { type: 'state', instanceId: instance.id, state, reason, connected: this.isConnected(instance.id), phone: instance.phone });
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Whether this process holds the instance's open socket, recorded as connected: a client told
   * "connected" finds the phone in /device at once (the socket opens a moment before its phone is
   * written), as it does from another process, which reads the recorded state.
   */
  isConnected(id: string): boolean {
    return !!this.sessions.get(id)?.open && this.recorded.has(id);
  }

  private localQr(id: string): string | undefined {
    const q = this.qrs.get(id);
    return q && Date.now() - q.at < 60_000 ? q.qr : undefined;
  }

  /** Whether the instance's socket is open, in whichever process runs it. */
  async connected(instance: Instance): Promise<boolean> {
    return (await this.connectedIds([instance])).has(instance.id);
  }

  /**
   * The connected ones of several instances (list just read): here, this process's socket; in
   * another process, the state its owner recorded, while its lease holds.
   */
  async connectedIds(list: Instance[]): Promise<Set<string>> {
    if (!this.leases) return new Set(list.filter((r) => this.isConnected(r.id)).map((r) => r.id));
    const owners = await this.leases.owners(list.map((r) => r.id));
    return new Set(list.filter((r) => (this.sessions.has(r.id) ? this.isConnected(r.id) : r.state === 'connected' && owners.has(r.id))).map((r) => r.id));
  }

  /** The QR code to scan now, from the process that runs the instance. */
  async currentQr(instance: Instance): Promise<string | undefined> {
    return ((await this.onOwner(instance, 'qr', [], false)) as string | null) ?? undefined;
  }

  /**
   * Where the instance's socket lives: undefined for this process, or the id of the process
   * holding its lease. With `claim`, a free instance is taken here.
   */
  private async ownerElsewhere(instance: Instance, claim: boolean): Promise<string | undefined> {
    if (!this.leases || this.sessions.has(instance.id)) return undefined;
    const owner = await this.leases.ownerOf(instance.id);
    if (owner && owner !== this.leases.me) return owner;
    if (!claim) return undefined;
    // Wanted before it is taken: a lease round between the take and the start would otherwise
    // free it as unwanted, and the socket then started here would run without a lease.
    await this.instances.want(instance.id, true);
    if (!(await this.leases.acquire(instance.id))) {
      const now = await this.leases.ownerOf(instance.id);
      if (now && now !== this.leases.me) return now;
    }
    return undefined;
  }

  /** Runs an action on the instance's socket, here or (cluster mode) on its owner, with the same answer. */
  private async onOwner(instance: Instance, op: OwnerOp, args: unknown[], claim: boolean): Promise<unknown> {
    const owner = await this.ownerElsewhere(instance, claim);
    if (owner) return this.ctx.cluster.request(owner, 'whatsapp-session.op', { op, instanceId: instance.id, args }, op === 'pairingCode' || op === 'connect' ? 30_000 : 15_000);
    return this.runOp(op, instance.id, args, instance);
  }

  private async runOp(op: OwnerOp, instanceId: string, args: unknown[], known?: Instance): Promise<unknown> {
    const instance = known ?? (await this.instances.find(instanceId));
    if (!instance) throw notFound('Instance');
    switch (op) {
      case 'connect':
        return this.startLocal(instance);
      case 'disconnect':
        return this.disconnectLocal(instance);
      case 'pause':
        return this.pauseLocal(instance, args[0] as string);
      case 'qr':
        return this.localQr(instance.id) ?? null;
      case 'pairingCode':
        return this.pairingCodeLocal(instance, args[0] as string);
      default:
        return runSocketOp(this.openSocket(instance), op, args);
    }
  }

  /** Starts (or restarts) the instance's session, in the process that runs it; shows a QR when it is not paired yet. */
  async connect(instance: Instance): Promise<void> {
    await this.gate(instance, 'connect');
    await this.onOwner(instance, 'connect', [], true);
  }

  // ------------------------------------------------------------------ this process's sockets (LeaseHolder)

  localIds(): string[] {
    return [...this.sessions.keys()];
  }

  async startLocal(idOrInstance: Instance | string): Promise<void> {
    const id = typeof idOrInstance === 'string' ? idOrInstance : idOrInstance.id;
    await this.lifecycle.run(id, async () => {
      // Shutting down: a start asked for meanwhile would leave a socket open as the database closes.
      if (this.closing) return;
      const instance = typeof idOrInstance === 'string' ? await this.instances.find(idOrInstance) : idOrInstance;
      if (instance) await this.startSession(instance);
    });
  }

  stopLocal(id: string, reason: string): Promise<void> {
    return this.lifecycle.run(id, async () => {
      const session = this.sessions.get(id);
      this.sessions.delete(id);
      this.qrs.delete(id);
      this.recorded.delete(id);
      if (!session) return;
      this.log.info({ instance: id, reason }, 'closing the instance socket here');
      await session.stop();
      // The next owner's records come after this socket's last one.
      await this.states.idle(id);
    });
  }

  sweep(ids: string[]): Promise<void> {
    return this.sending.sweep(ids);
  }

  private async startSession(instance: Instance): Promise<void> {
    await this.sessions.get(instance.id)?.stop();
    // The stopped socket's QR links nothing any more.
    this.qrs.delete(instance.id);
    await this.instances.want(instance.id, true);
    const auth = await databaseAuthState(this.store, this.ctx.secrets, instance.id);
    const net = this.network();
    const wsUrl = net?.wsUrl() || this.ctx.settings.get('whatsapp-session.waWebSocketUrl') || undefined;
    const caFile = this.ctx.settings.get('whatsapp-session.mediaCaFile');
    const mediaCa = net?.mediaCertificate?.() || (caFile ? (await import('node:fs')).readFileSync(caFile, 'utf8') : undefined);
    await this.setState(instance, 'connecting', auth.state.creds.me ? 'logging in' : 'starting a new session');
    const session: InstanceSession = new InstanceSession({
      instanceId: instance.id,
      auth: auth.state,
      wsUrl,
      mediaCa,
      connectTimeoutMs: this.ctx.settings.get('whatsapp-session.connectTimeoutSeconds') * 1000,
      logger: this.log,
      now: () => this.ctx.container.resolve<Clock>(TOKENS.Clock).now().getTime(),
      keysStored: () => auth.flushed(),
      hooks: {
        saveCreds: () => auth.saveCreds(),
        onQr: (qr) => {
          this.qrs.set(instance.id, { qr, at: Date.now() });
          this.publish(instance, { type: 'qr', instanceId: instance.id, qr });
          void this.setState(instance, 'qr', 'waiting for the QR code to be scanned');
          void this.ctx.events.emit('whatsapp-session.instance.qr', { instanceId: instance.id, accountId: instance.accountId, qr });
        },
        onConnecting: (reason) => void this.setState(instance, 'connecting', reason),
        onOpen: (me) => {
          this.qrs.delete(instance.id);
          void (async () => {
            await this.setState(instance, 'connected', 'connected', { phone: me.phone, pushName: me.pushName ?? null, platform: me.platform ?? null });
            await this.outbox.add('whatsapp-session.instance.connected', { instanceId: instance.id, accountId: instance.accountId, phone: me.phone });
            await this.sending.drain(instance.id);
          })().catch((err) => this.log.error({ err, instance: instance.id }, 'after connect'));
        },
        onClose: ({ reason, reconnect, loggedOut }) => {
          this.recorded.delete(instance.id);
          void (async () => {
            if (loggedOut) {
              await auth.clear();
              await this.instances.want(instance.id, false, true);
            }
            const state: InstanceState = reconnect ? 'connecting' : loggedOut ? 'logged_out' : reason.startsWith('QR') ? 'expired' : 'disconnected';
            // Only this session's entry: a new one may have started meanwhile.
            if (!reconnect && this.sessions.get(instance.id) === session) {
              this.sessions.delete(instance.id);
              this.qrs.delete(instance.id);
            }
            await this.setState(instance, state, reconnect ? `${reason}; reconnecting` : reason);
            await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: instance.id, accountId: instance.accountId, state, reason });
          })().catch((err) => this.log.error({ err, instance: instance.id }, 'after disconnect'));
        },
        onMessages: (messages, type) => {
          // Auto-read is for what arrives while it is on: asked as the messages arrive, not once they are stored.
          const autoRead = type === 'notify' ? this.instances.find(instance.id).then((i) => !!i?.autoReadMessage) : Promise.resolve(false);
          // Awaited only once the messages are stored: a failure before then is reported there, not as unhandled.
          autoRead.catch(() => undefined);
          this.track(
            this.receiving
              .onMessages(instance, messages, type)
              .then(async () => ((await autoRead) ? this.autoRead(instance.id, messages) : undefined))
              .catch((err) => this.log.error({ err, instance: instance.id }, 'receiving failed')),
          );
        },
        onStatus: (updates) => this.track(this.sending.statuses.onStatus(instance, updates).catch((err) => this.log.error({ err, instance: instance.id }, 'status update failed'))),
        onPollVote: (vote) => this.track(this.receiving.onPollVote(instance, vote).catch((err) => this.log.error({ err, instance: instance.id }, 'poll vote failed'))),
        getMessage: async (key) => {
          const sent = await this.messageByWaId(instance, key.id);
          return sent ? pollMessage(sent) : undefined;
        },
        onChatsUpdate: (updates) => void this.onChatsUpdate(instance, updates).catch((err) => this.log.error({ err, instance: instance.id }, 'chat update failed')),
        onHistory: (chats) => void this.chatSettings.importHistory(instance, chats).catch((err) => this.log.error({ err, instance: instance.id }, 'storing the history failed')),
        onCall: (call) => void this.calls.onCall(instance, call).catch((err) => this.log.error({ err, instance: instance.id }, 'call handling failed')),
        onPresence: (jid, status, lastSeen) =>
          void this.ctx.events.emit('whatsapp-session.presence', { instanceId: instance.id, accountId: instance.accountId, phone: phoneOf(jid), status: status.toUpperCase(), lastSeen }),
      },
    });
    this.sessions.set(instance.id, session);
    session.start();
  }

  async restart(instance: Instance): Promise<void> {
    await this.connect(instance);
  }

  /** Closes the socket and keeps it closed (not wanted), keeping the pairing: connect() resumes without a QR. */
  async pause(instance: Instance, reason: string): Promise<void> {
    await this.onOwner(instance, 'pause', [reason], false);
  }

  private pauseLocal(instance: Instance, reason: string): Promise<void> {
    return this.lifecycle.run(instance.id, () => this.pauseSession(instance, reason));
  }

  private async pauseSession(instance: Instance, reason: string): Promise<void> {
    const session = this.sessions.get(instance.id);
    this.sessions.delete(instance.id);
    this.qrs.delete(instance.id);
    await session?.stop();
    await this.instances.want(instance.id, false);
    await this.setState(instance, 'disconnected', reason);
    if (session) await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: instance.id, accountId: instance.accountId, state: 'disconnected', reason });
  }

  /** What another plugin says of connecting or sending through this instance (billing's veto, say). */
  async gate(instance: Instance, action: 'connect' | 'send'): Promise<void> {
    for (const g of this.gates()) await g.check(instance.accountId, instance.id, action);
  }

  /** Logs the device out (the phone forgets it) and stops; a new QR is needed to connect again. */
  async disconnect(instance: Instance): Promise<void> {
    await this.onOwner(instance, 'disconnect', [], false);
  }

  private disconnectLocal(instance: Instance): Promise<void> {
    return this.lifecycle.run(instance.id, () => this.logOutSession(instance));
  }

  private async logOutSession(instance: Instance): Promise<void> {
    const session = this.sessions.get(instance.id);
    this.sessions.delete(instance.id);
    await session?.stop({ logout: true });
    await this.store.auth().where({ instance_id: instance.id }).delete();
    await this.instances.want(instance.id, false, true);
    await this.setState(instance, 'disconnected', 'disconnected by a user');
    // A stopped session reports no close of its own; the webhooks' DisconnectedCallback comes from this.
    if (session) await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: instance.id, accountId: instance.accountId, state: 'disconnected', reason: 'disconnected by a user' });
  }

  /** After a restart: reconnect every instance that should be connected, with its saved credentials. */
  /** After a start: reconnect the instances that should be connected (cluster mode: this process's share of them). */
  async resumeAll(): Promise<void> {
    if (this.leases) return this.leases.start(this);
    const list = await this.instances.wanted();
    for (const instance of list) await this.startLocal(instance).catch((err) => this.log.error({ err, instance: instance.id }, 'could not resume'));
  }

  /** Stops every socket here; asked twice (the host stopping, then the plugin's disposal), it stops once. */
  stopAll(): Promise<void> {
    this.stopping ??= this.stopEverything();
    return this.stopping;
  }
  private stopping?: Promise<void>;

  private async stopEverything(): Promise<void> {
    this.closing = true;
    await this.lifecycle.allIdle();
    if (this.leases) await this.leases.handOver();
    else {
      const all = [...this.sessions.values()];
      this.sessions.clear();
      await Promise.all(all.map((s) => s.stop()));
    }
    // A send in flight records its status (and its event) now, while the webhooks still listen:
    // after the plugins deactivate, the event would find no listener and be lost; so does what
    // the sockets handed over last (a receipt as the socket closed), before the database closes.
    // Bounded wait.
    await Promise.all([this.sending.settle(10_000), Promise.race([Promise.allSettled([...this.writing]), new Promise((r) => setTimeout(r, 10_000).unref())])]);
  }

  /** Keeps a socket's write in `writing` until it ends. */
  private track(write: Promise<unknown>): void {
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  // ------------------------------------------------------------------ sending (sending.ts)

  get sendJob() {
    return this.sending.sendJob;
  }

  set sendJob(job) {
    this.sending.sendJob = job;
  }

  isOptedOut(accountId: string, phone: string) {
    return this.sending.isOptedOut(accountId, phone);
  }

  /** Validated request in, queued message out: answers at once with the ids (the WhatsApp id is fixed now). */
  enqueue(instance: Instance, phone: string, req: OutgoingRequest, media?: { data: Buffer; mimetype?: string }, key?: string) {
    return this.sending.enqueue(instance, phone, req, media, key);
  }

  wake(instanceId: string): void {
    this.sending.wake(instanceId);
  }

  queue(instance: Instance) {
    return this.sending.queue(instance);
  }

  removeFromQueue(instance: Instance, zaapId: string) {
    return this.sending.removeFromQueue(instance, zaapId);
  }

  clearQueue(instance: Instance) {
    return this.sending.clearQueue(instance);
  }

  // ------------------------------------------------------------------ immediate actions

  /** With auto-read on (as they arrived), what a contact just sent is marked read once stored (status posts are not: Z-API reads those apart). */
  private async autoRead(instanceId: string, messages: WAMessage[]): Promise<void> {
    const keys = messages.map((m) => m.key).filter((k) => !k.fromMe && k.remoteJid && k.remoteJid !== 'status@broadcast');
    if (!keys.length) return;
    await this.sessions.get(instanceId)?.sock?.readMessages(keys);
  }

  private openSocket(instance: Instance) {
    const s = this.sessions.get(instance.id);
    if (!s?.open || !s.sock) throw conflict('The instance is not connected. Connect it (scan the QR code) and try again.', 'not_connected');
    return s.sock;
  }

  messagesByRowId(instance: Instance, ids: string[]) {
    return this.stored.byIds(instance, ids);
  }

  /** A pairing code to type on the phone (Linked devices → Link with phone number) instead of scanning. */
  async pairingCode(instance: Instance, phone: string): Promise<string> {
    await this.gate(instance, 'connect');
    return (await this.onOwner(instance, 'pairingCode', [phone], true)) as string;
  }

  private async pairingCodeLocal(instance: Instance, phone: string): Promise<string> {
    if (!this.sessions.get(instance.id)) await this.startLocal(instance);
    const session = this.sessions.get(instance.id);
    // None started: this process is stopping.
    if (!session) throw new HttpError(503, 'shutting_down', 'PlugChat is restarting. Ask for the code again in a moment.');
    // WhatsApp takes the request only once the connection waits to be linked (it has offered a QR
    // code); sent earlier, during the handshake, it is lost.
    for (let i = 0; i < 150 && !(session.sock && this.qrs.has(instance.id)); i++) await sleep(100);
    if (!this.qrs.has(instance.id)) throw new HttpError(504, 'pairing_code_failed', 'WhatsApp did not get ready to link a device in time. Try again, or scan the QR code instead.');
    try {
      return await session.sock!.requestPairingCode(phone);
    } catch (err) {
      throw new HttpError(502, 'pairing_code_failed', `WhatsApp did not issue a pairing code: ${(err as Error).message}. Scan the QR code instead.`);
    }
  }

  /** Chat settings set elsewhere (the phone, another device) reach us through app state. */
  private async onChatsUpdate(instance: Instance, updates: Parameters<SessionHooks['onChatsUpdate']>[0]): Promise<void> {
    for (const u of updates) {
      if (!u.id.endsWith('@s.whatsapp.net') && !u.id.endsWith('@g.us')) continue;
      await this.chatSettings.set(instance, u.id, {
        archived: u.archived,
        pinned: u.pinned,
        muteUntil: u.muteEndTime,
        markedUnread: u.unreadCount === -1 ? true : u.unreadCount === 0 ? false : undefined,
      });
    }
  }

  /**
   * Group names for received messages' chat name, asked of WhatsApp at most every few minutes per
   * group, dropped in every process when a rename goes through the API (the socket may be elsewhere).
   */
  private readonly groupNames: ClusterCache<string | undefined>;

  private groupName(instanceId: string, jid: string): Promise<string | undefined> {
    return this.groupNames.get(`${instanceId} ${jid}`);
  }

  // ------------------------------------------------------------------ reading the store (history.ts)

  chatMessages(instance: Instance, phone: string, limit = 50) {
    return this.stored.chatMessages(instance, phone, limit);
  }

  chats(instance: Instance) {
    return this.stored.chats(instance);
  }

  recentMessages(instance: Instance, limit = 30) {
    return this.stored.recent(instance, limit);
  }

  messageByWaId(instance: Instance, waId: string) {
    return this.stored.byWaId(instance, waId);
  }
}

