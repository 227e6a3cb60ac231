import { EventEmitter } from 'node:events';
import { ClusterCache, notFound, TOKENS, type Clock, type PluginContext } from '@plugchat/core';
import type { InstanceGate, WhatsAppNetwork } from '../api.js';
import type { Store } from '../store.js';
import type { Outbox } from '../outbox.js';
import type { InstanceLeases, LeaseHolder } from './leases.js';
import type { OutgoingRequest } from './content.js';
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
import { LocalSockets } from './localSockets.js';
import { sessionReports } from './sessionReports.js';
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

/**
 * Instances (one WhatsApp number each) and their Baileys sessions: which process runs each
 * socket, and routing what needs the open socket (connecting, QR and pairing codes, pausing,
 * logging out, socket actions) to it. The sockets this process runs (localSockets.ts), what they
 * report (sessionReports.ts), the table (instances.ts), the send queue (sending.ts), what arrives
 * (receiving.ts), the actions on the socket (socketActions.ts) and reading the store (history.ts)
 * are their own services; this one is the face the routes and other plugins use.
 */
export class WhatsAppService implements LeaseHolder {
  /** The sockets this process runs. */
  private readonly sockets: LocalSockets;
  /** Live changes per instance (state, QR) for the UI's event stream. */
  readonly live = new EventEmitter().setMaxListeners(0);
  readonly instances: Instances;
  readonly sending: Sending;
  readonly ramp: SendRamp;
  private readonly stored: History;
  /** What needs the open socket, run where it is. */
  readonly actions: SocketActions;

  constructor(
    store: Store,
    private readonly ctx: PluginContext<Settings>,
    network: () => WhatsAppNetwork | undefined,
    outbox: Outbox,
    /** Set when several processes share PostgreSQL: who runs which instance. */
    private readonly leases?: InstanceLeases,
    private readonly gates: () => InstanceGate[] = () => [],
  ) {
    this.instances = new Instances(store, ctx);
    const chatSettings = new ChatSettings(store);
    this.stored = new History(store, chatSettings, () => ctx.container.resolve<Clock>(TOKENS.Clock).now().getTime());
    const optOuts = new OptOuts(store, ctx);
    this.ramp = new SendRamp(store, ctx, ctx.container.resolve<Clock>(TOKENS.Clock));
    this.sending = new Sending(store, ctx, outbox, {
      optOuts,
      ramp: this.ramp,
      session: (id) => this.sockets.session(id),
      find: (id) => this.instances.find(id),
      gate: (instance, action) => this.gate(instance, action),
      leases,
      log: () => this.log,
    });
    const receiving = new Receiving(store, ctx, outbox, {
      optOuts,
      log: () => this.log,
      phoneOfInstance: (id) => this.sockets.phoneOf(id),
      mediaAgent: (id) => this.sockets.session(id)?.agent,
      sentHere: (id, waId) => this.sending.statuses.sentHere(id, waId),
      groupName: (id, jid) => this.groupName(id, jid),
    });
    this.groupNames = new ClusterCache(
      ctx.cluster,
      'whatsapp-session.group-names',
      async (key) => {
        const [instanceId, jid] = key.split(' ') as [string, string];
        return this.sockets.session(instanceId)?.sock?.groupMetadata(jid).then((m) => m.subject, () => undefined);
      },
      GROUP_NAME_TTL_MS,
    );
    ctx.subscriptions.push(this.groupNames);
    this.actions = new SocketActions(store, chatSettings, {
      onOwner: (instance, op, args) => this.onOwner(instance, op, args, false),
      connected: (instance) => this.connected(instance),
      groupRenamed: (instanceId, jid) => this.groupNames.drop(`${instanceId} ${jid}`),
    });
    const calls = new Calls(ctx, {
      instances: this.instances,
      socket: (id) => this.sockets.session(id)?.sock,
      enqueue: (instance, phone, req) => this.sending.enqueue(instance, phone, req),
      log: () => this.log,
    });
    this.sockets = new LocalSockets(store, ctx, network, outbox, {
      instances: this.instances,
      sending: this.sending,
      publish: (instance, change) => this.publish(instance, change),
      reports: (instance) =>
        sessionReports(instance, {
          ctx,
          instances: this.instances,
          receiving,
          sending: this.sending,
          calls,
          chatSettings,
          socket: (id) => this.sockets.session(id)?.sock,
          messageByWaId: (i, waId) => this.messageByWaId(i, waId),
          track: (write) => this.sockets.track(write),
          log: () => this.log,
        }),
    });
    // Live changes travel through the cluster, so a stream on any process sees every instance.
    ctx.subscriptions.push(
      ctx.cluster.on('whatsapp-session.live', (p: { accountId: string; change: LiveChange }) => {
        this.live.emit(p.change.instanceId, p.change);
        // The account's stream (agents) carries states; QR codes only reach the instance's own stream (admins).
        if (p.change.type === 'state') this.live.emit(`account:${p.accountId}`, p.change);
      }),
      ctx.cluster.on('whatsapp-session.wake', (p: { instanceId: string }) => {
        if (this.sockets.has(p.instanceId)) void this.sending.drain(p.instanceId).catch((err) => this.log.error({ err, instance: p.instanceId }, 'drain failed'));
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
    return this.sockets.phoneOf(id);
  }

  async remove(instance: Instance): Promise<void> {
    // The process running it logs the device out first (this one, or its owner in cluster mode).
    const owner = await this.ownerElsewhere(instance, false);
    if (owner) await this.ctx.cluster.request(owner, 'whatsapp-session.op', { op: 'disconnect', instanceId: instance.id, args: [] }).catch((err) => this.log.warn({ err, instance: instance.id }, 'the owner did not log the instance out; deleting it anyway'));
    await this.sockets.forget(instance.id);
    await this.instances.delete(instance);
  }

  // ------------------------------------------------------------------ where each socket runs

  /** Whether this process holds the instance's open socket, recorded as connected (localSockets.ts). */
  isConnected(id: string): boolean {
    return this.sockets.isConnected(id);
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
    return new Set(list.filter((r) => (this.sockets.has(r.id) ? this.isConnected(r.id) : r.state === 'connected' && owners.has(r.id))).map((r) => r.id));
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
    if (!this.leases || this.sockets.has(instance.id)) return undefined;
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
        return this.sockets.logOut(instance);
      case 'pause':
        return this.sockets.pause(instance, args[0] as string);
      case 'qr':
        return this.sockets.qr(instance.id) ?? null;
      case 'pairingCode':
        return this.sockets.pairingCode(instance, args[0] as string);
      default:
        return runSocketOp(this.sockets.openSocket(instance), op, args);
    }
  }

  /** Starts (or restarts) the instance's session, in the process that runs it; shows a QR when it is not paired yet. */
  async connect(instance: Instance): Promise<void> {
    await this.gate(instance, 'connect');
    await this.onOwner(instance, 'connect', [], true);
  }

  // ------------------------------------------------------------------ this process's sockets (LeaseHolder)

  localIds(): string[] {
    return this.sockets.ids();
  }

  startLocal(idOrInstance: Instance | string): Promise<void> {
    return this.sockets.start(idOrInstance);
  }

  stopLocal(id: string, reason: string): Promise<void> {
    return this.sockets.stop(id, reason);
  }

  sweep(ids: string[]): Promise<void> {
    return this.sending.sweep(ids);
  }

  // ------------------------------------------------------------------ connection

  /** A pairing code to type on the phone (Linked devices → Link with phone number) instead of scanning. */
  async pairingCode(instance: Instance, phone: string): Promise<string> {
    await this.gate(instance, 'connect');
    return (await this.onOwner(instance, 'pairingCode', [phone], true)) as string;
  }

  async restart(instance: Instance): Promise<void> {
    await this.connect(instance);
  }

  /** Closes the socket and keeps it closed (not wanted), keeping the pairing: connect() resumes without a QR. */
  async pause(instance: Instance, reason: string): Promise<void> {
    await this.onOwner(instance, 'pause', [reason], false);
  }

  /** What another plugin says of connecting or sending through this instance (billing's veto, say). */
  async gate(instance: Instance, action: 'connect' | 'send'): Promise<void> {
    for (const g of this.gates()) await g.check(instance.accountId, instance.id, action);
  }

  /** Logs the device out (the phone forgets it) and stops; a new QR is needed to connect again. */
  async disconnect(instance: Instance): Promise<void> {
    await this.onOwner(instance, 'disconnect', [], false);
  }

  /** After a start: reconnect the instances that should be connected (cluster mode: this process's share of them). */
  async resumeAll(): Promise<void> {
    if (this.leases) return this.leases.start(this);
    const list = await this.instances.wanted();
    for (const instance of list) await this.startLocal(instance).catch((err) => this.log.error({ err, instance: instance.id }, 'could not resume'));
  }

  /** Stops every socket here (cluster mode: hands them over); asked twice, it stops once. */
  stopAll(): Promise<void> {
    const leases = this.leases;
    return this.sockets.stopAll(leases && (() => leases.handOver()));
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

  messagesByRowId(instance: Instance, ids: string[]) {
    return this.stored.byIds(instance, ids);
  }

  messageByWaId(instance: Instance, waId: string) {
    return this.stored.byWaId(instance, waId);
  }
}

