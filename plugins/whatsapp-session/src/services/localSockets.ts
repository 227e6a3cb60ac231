import { conflict, HttpError, TOKENS, type Clock, type PluginContext } from '@plugchat/core';
import type { WhatsAppNetwork } from '../api.js';
import type { InstanceState, Store } from '../store.js';
import { databaseAuthState } from '../transport/authState.js';
import { InstanceSession } from '../transport/session.js';
import type { Outbox } from '../outbox.js';
import type { Instance, Instances } from './instances.js';
import { phoneOf } from './jids.js';
import { PerKey } from './perKey.js';
import type { Sending } from './sending.js';
import type { SessionReports } from './sessionReports.js';
import type { Settings } from './settings.js';

type Device = { phone: string; pushName: string | null; platform: string | null };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LocalSocketDeps {
  instances: Instances;
  sending: Sending;
  /** What an instance's socket reports besides its lifecycle (sessionReports.ts). */
  reports: (instance: Instance) => SessionReports;
  /** A state change or QR code for the UI's live streams, on every process. */
  publish: (instance: Instance, change: { type: string; instanceId: string; [k: string]: unknown }) => void;
}

/**
 * The Baileys sockets this process runs: starting and stopping each one in order, recording its
 * states in order, its QR code and pairing code, pausing and logging out, and the writes its
 * reports left behind at shutdown. Which process runs an instance is whatsapp.ts's concern.
 */
export class LocalSockets {
  private readonly sessions = new Map<string, InstanceSession>();
  /** Instances whose open socket is recorded as connected, with its phone. */
  private readonly recorded = new Set<string>();
  /** What sockets handed over and is still being written (messages, receipts, votes). */
  private readonly writing = new Set<Promise<unknown>>();
  private readonly qrs = new Map<string, { qr: string; at: number }>();
  /** Set by stopAll: no socket starts any more. */
  private closing = false;
  private stopping?: Promise<void>;
  /** Starts and stops of each instance's socket, one at a time. */
  private readonly lifecycle = new PerKey();
  /** Each instance's state records, written in the order they happened. */
  private readonly states = new PerKey();

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    private readonly network: () => WhatsAppNetwork | undefined,
    private readonly outbox: Outbox,
    private readonly deps: LocalSocketDeps,
  ) {}

  private get log() {
    return this.ctx.logger;
  }

  session(id: string): InstanceSession | undefined {
    return this.sessions.get(id);
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  ids(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * Whether this process holds the instance's open socket, recorded as connected: a client told
   * "connected" finds the phone in /device at once (the socket opens a moment before its phone is
   * written), as it does from another process, which reads the recorded state.
   */
  isConnected(id: string): boolean {
    return !!this.sessions.get(id)?.open && this.recorded.has(id);
  }

  phoneOf(id: string): string | null {
    const me = this.sessions.get(id)?.sock?.user?.id;
    return me ? phoneOf(me) : null;
  }

  qr(id: string): string | undefined {
    const q = this.qrs.get(id);
    return q && Date.now() - q.at < 60_000 ? q.qr : undefined;
  }

  /** The open socket, for an action that needs it; a clear error when the instance is not connected. */
  openSocket(instance: Instance) {
    const s = this.sessions.get(instance.id);
    if (!s?.open || !s.sock) throw conflict('The instance is not connected. Connect it (scan the QR code) and try again.', 'not_connected');
    return s.sock;
  }

  /** Keeps a socket's write until it ends: shutdown waits for it. */
  track(write: Promise<unknown>): void {
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
  }

  private async setState(instance: Instance, state: InstanceState, reason: string, device?: Device) {
    // In order: a "connecting" record overtaken by "connected" would tell other processes it is down.
    await this.states.run(instance.id, () => this.deps.instances.recordState(instance, state, reason, device));
    // Taken back when the socket closes, not by a later state: a QR's record landing late must not hide a connection.
    if (state === 'connected') this.recorded.add(instance.id);
    this.deps.publish(instance, { type: 'state', instanceId: instance.id, state, reason, connected: this.isConnected(instance.id), phone: instance.phone });
  }

  async start(idOrInstance: Instance | string): Promise<void> {
    const id = typeof idOrInstance === 'string' ? idOrInstance : idOrInstance.id;
    await this.lifecycle.run(id, async () => {
      // Shutting down: a start asked for meanwhile would leave a socket open as the database closes.
      if (this.closing) return;
      const instance = typeof idOrInstance === 'string' ? await this.deps.instances.find(idOrInstance) : idOrInstance;
      if (instance) await this.startSession(instance);
    });
  }

  stop(id: string, reason: string): Promise<void> {
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

  private async startSession(instance: Instance): Promise<void> {
    const { instances, sending } = this.deps;
    await this.sessions.get(instance.id)?.stop();
    // The stopped socket's QR links nothing any more.
    this.qrs.delete(instance.id);
    await instances.want(instance.id, true);
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
        ...this.deps.reports(instance),
        saveCreds: () => auth.saveCreds(),
        onQr: (qr) => {
          this.qrs.set(instance.id, { qr, at: Date.now() });
          this.deps.publish(instance, { type: 'qr', instanceId: instance.id, qr });
          void this.setState(instance, 'qr', 'waiting for the QR code to be scanned');
          void this.ctx.events.emit('whatsapp-session.instance.qr', { instanceId: instance.id, accountId: instance.accountId, qr });
        },
        onConnecting: (reason) => void this.setState(instance, 'connecting', reason),
        onOpen: (me) => {
          this.qrs.delete(instance.id);
          void (async () => {
            await this.setState(instance, 'connected', 'connected', { phone: me.phone, pushName: me.pushName ?? null, platform: me.platform ?? null });
            await this.outbox.add('whatsapp-session.instance.connected', { instanceId: instance.id, accountId: instance.accountId, phone: me.phone });
            await sending.drain(instance.id);
          })().catch((err) => this.log.error({ err, instance: instance.id }, 'after connect'));
        },
        onClose: ({ reason, reconnect, loggedOut }) => {
          this.recorded.delete(instance.id);
          void (async () => {
            if (loggedOut) {
              await auth.clear();
              await instances.want(instance.id, false, true);
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
      },
    });
    this.sessions.set(instance.id, session);
    session.start();
  }

  /** Closes the socket and keeps it closed (not wanted), keeping the pairing. */
  pause(instance: Instance, reason: string): Promise<void> {
    return this.lifecycle.run(instance.id, async () => {
      const session = this.sessions.get(instance.id);
      this.sessions.delete(instance.id);
      this.qrs.delete(instance.id);
      await session?.stop();
      await this.deps.instances.want(instance.id, false);
      await this.setState(instance, 'disconnected', reason);
      if (session) await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: instance.id, accountId: instance.accountId, state: 'disconnected', reason });
    });
  }

  /** Logs the device out (the phone forgets it) and forgets its keys; a new QR is needed to connect again. */
  logOut(instance: Instance): Promise<void> {
    return this.lifecycle.run(instance.id, async () => {
      const session = this.sessions.get(instance.id);
      this.sessions.delete(instance.id);
      await session?.stop({ logout: true });
      await this.store.auth().where({ instance_id: instance.id }).delete();
      await this.deps.instances.want(instance.id, false, true);
      await this.setState(instance, 'disconnected', 'disconnected by a user');
      // A stopped session reports no close of its own; the webhooks' DisconnectedCallback comes from this.
      if (session) await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: instance.id, accountId: instance.accountId, state: 'disconnected', reason: 'disconnected by a user' });
    });
  }

  /** Before the instance is deleted: its socket, if here, logs the device out and closes. */
  forget(id: string): Promise<void> {
    return this.lifecycle.run(id, async () => {
      const session = this.sessions.get(id);
      this.sessions.delete(id);
      await session?.stop({ logout: true });
    });
  }

  /** A pairing code to type on the phone, from this process's socket (started if need be). */
  async pairingCode(instance: Instance, phone: string): Promise<string> {
    if (!this.sessions.get(instance.id)) await this.start(instance);
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

  /**
   * Stops every socket here (`handOver`, in cluster mode, releases them to other processes);
   * asked twice (the host stopping, then the plugin's disposal), it stops once.
   */
  stopAll(handOver?: () => Promise<void>): Promise<void> {
    this.stopping ??= this.stopEverything(handOver);
    return this.stopping;
  }

  private async stopEverything(handOver?: () => Promise<void>): Promise<void> {
    this.closing = true;
    await this.lifecycle.allIdle();
    if (handOver) await handOver();
    else {
      const all = [...this.sessions.values()];
      this.sessions.clear();
      await Promise.all(all.map((s) => s.stop()));
    }
    // A send in flight records its status (and its event) now, while the webhooks still listen:
    // after the plugins deactivate, the event would find no listener and be lost; so does what
    // the sockets handed over last (a receipt as the socket closed), before the database closes.
    // Bounded wait.
    await Promise.all([this.deps.sending.settle(10_000), Promise.race([Promise.allSettled([...this.writing]), new Promise((r) => setTimeout(r, 10_000).unref())])]);
  }
}
