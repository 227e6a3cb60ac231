import { Agent } from 'node:https';
import type { Logger } from 'pino';
import { Baileys, WA_VERSION, type AuthenticationState, type WAMessage, type WASocket } from '../baileys.js';
import { DeviceLists } from './deviceLists.js';

const { DisconnectReason } = Baileys;

export interface SessionHooks {
  onQr(qr: string): void;
  onConnecting(reason: string): void;
  onOpen(me: { phone: string; pushName?: string; platform?: string }): void;
  /** reconnect=false: the session is over until a user acts (logged out, replaced, QR expired). */
  onClose(info: { code: number; reason: string; reconnect: boolean; loggedOut: boolean }): void;
  onMessages(messages: WAMessage[], type: 'notify' | 'append'): void;
  onStatus(updates: { id: string; remoteJid: string; fromMe: boolean; status: number }[]): void;
  onPresence(jid: string, status: string, lastSeen: number | null): void;
  /** Chat settings WhatsApp synced (archived, pinned, muted until, marked unread -1 / read 0). */
  onChatsUpdate(updates: { id: string; archived?: boolean; pinned?: boolean; muteEndTime?: number | null; unreadCount?: number }[]): void;
  /** Chats of the phone's history (history sync): name, last message (ms), unread count, settings; or only a name (push names). */
  onHistory(chats: { jid: string; name?: string; lastAt?: number; unread?: number; archived?: boolean; pinned?: boolean; muteUntil?: number | null }[]): void;
  /** A call ringing, answered elsewhere, rejected or ended. */
  onCall(call: { id: string; from: string; isVideo: boolean; isGroup: boolean; status: string; at: number }): void;
  /** A vote on one of our polls, decrypted by Baileys with the secret getMessage handed it. */
  onPollVote(vote: { pollId: string; remoteJid: string; voteId: string; fromMe: boolean; selected: Uint8Array[]; at: number }): void;
  /** A message we sent, as Baileys needs it again (a poll's secret to decrypt its votes). */
  getMessage(key: { id: string; remoteJid: string }): Promise<import('@whiskeysockets/baileys').proto.IMessage | undefined>;
  saveCreds(): Promise<void>;
}

export interface SessionOptions {
  instanceId: string;
  auth: AuthenticationState;
  wsUrl?: string;
  mediaCa?: string;
  /** How long a socket may take to show a QR code or log in before it is dropped and tried again (20 s). */
  connectTimeoutMs?: number;
  logger: Logger;
  hooks: SessionHooks;
  /** Milliseconds since the epoch, for how long a contact's device list is trusted. */
  now?: () => number;
  /** Resolves once the keys Baileys set so far are stored (they are written behind). */
  keysStored?: () => Promise<void>;
}

const REASONS: Record<number, string> = {
  [DisconnectReason.loggedOut]: 'logged out',
  [DisconnectReason.connectionReplaced]: 'replaced by another session',
  [DisconnectReason.restartRequired]: 'restart required',
  [DisconnectReason.timedOut]: 'connection lost or timed out',
  [DisconnectReason.connectionClosed]: 'connection closed',
  [DisconnectReason.badSession]: 'bad session',
  [DisconnectReason.multideviceMismatch]: 'multi-device mismatch',
};

/**
 * One Baileys socket for one instance, and the decision of what to do when it
 * closes: reconnect with exponential backoff and jitter on transient failures,
 * never after a logout or a replaced session. Errors inside Baileys' handlers are
 * contained here so one instance cannot disturb the others.
 */
export class InstanceSession {
  sock?: WASocket;
  private stopped = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private qrShown = false;
  readonly agent?: Agent;

  constructor(private readonly opts: SessionOptions) {
    if (opts.mediaCa) this.agent = new Agent({ ca: opts.mediaCa, keepAlive: true });
  }

  get open(): boolean {
    return !!this.sock?.user && this.isOpen;
  }
  private isOpen = false;

  /** Resolves when the current socket closes or the session stops (per socket: a reconnect makes a new one). */
  get closed(): Promise<void> {
    return this.closing.promise;
  }
  private closing = signal();

  start(): void {
    if (this.stopped) return;
    this.closing = signal();
    const { hooks, logger } = this.opts;
    const baileysLogger = logger.child({ instance: this.opts.instanceId, lib: 'baileys' });
    // Baileys logs routine events (the 515 restart after pairing, closed sockets) as errors;
    // this session reports what matters, so Baileys speaks only at debug and trace.
    baileysLogger.level = logger.levelVal <= 20 ? logger.level : 'fatal';
    const devices = new DeviceLists(this.opts.now);
    const sock = Baileys.default({
      auth: this.opts.auth,
      ...(this.opts.wsUrl ? { waWebSocketUrl: this.opts.wsUrl } : {}),
      version: WA_VERSION,
      logger: baileysLogger as never,
      browser: ['PlugChat', 'Chrome', '1.0.0'],
      markOnlineOnConnect: false,
      syncFullHistory: false,
      generateHighQualityLinkPreview: false,
      // Uploads use fetchAgent; history and app-state blobs are downloaded with options.
      ...(this.agent ? { fetchAgent: this.agent, options: { httpsAgent: this.agent } } : {}),
      getMessage: async (key) => (key.id && key.remoteJid ? hooks.getMessage({ id: key.id, remoteJid: key.remoteJid }) : undefined),
      userDevicesCache: devices,
      // Baileys wraps every frame it writes in this timeout (two stacks captured, a timer, and an
      // error built to cancel it): a tenth of the send path's thread. A write that stalls is a dead
      // connection, which the keep-alive finds; the handshake gets its own deadline below.
      connectTimeoutMs: 0,
    });
    devices.attachTo(sock);
    this.sock = sock;
    this.connectDeadline(sock);
    const guard =
      <A extends unknown[]>(what: string, fn: (...a: A) => unknown) =>
      (...a: A) => {
        try {
          const r = fn(...a);
          if (r instanceof Promise) r.catch((err) => logger.error({ err, instance: this.opts.instanceId, what }, 'instance handler failed'));
        } catch (err) {
          logger.error({ err, instance: this.opts.instanceId, what }, 'instance handler failed');
        }
      };
    sock.ev.on('creds.update', guard('creds', () => hooks.saveCreds()));
    sock.ev.on(
      'connection.update',
      guard('connection', (u) => {
        if (this.sock !== sock) return;
        if (u.qr) {
          this.qrShown = true;
          hooks.onQr(u.qr);
        }
        if (u.connection === 'open') {
          this.attempt = 0;
          this.isOpen = true;
          this.qrShown = false;
          const me = sock.user!;
          hooks.onOpen({ phone: Baileys.jidDecode(me.id)!.user, pushName: me.name ?? undefined, platform: this.opts.auth.creds.platform ?? undefined });
        }
        if (u.connection === 'close') {
          this.isOpen = false;
          this.closing.fire();
          const code = (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode ?? 0;
          const reason = REASONS[code] ?? (u.lastDisconnect?.error as Error | undefined)?.message ?? `closed (${code})`;
          this.onClosed(code, reason);
        }
      }),
    );
    sock.ev.on('messages.upsert', guard('upsert', ({ messages, type }) => hooks.onMessages(messages, type)));
    sock.ev.on(
      'messages.update',
      guard('update', (list) => {
        const updates = list
          .filter((u) => typeof u.update.status === 'number')
          .map((u) => ({ id: u.key.id!, remoteJid: u.key.remoteJid!, fromMe: !!u.key.fromMe, status: u.update.status as number }));
        if (updates.length) hooks.onStatus(updates);
        for (const u of list) {
          for (const p of u.update.pollUpdates ?? []) {
            const voteKey = p.pollUpdateMessageKey;
            if (!voteKey?.id || !u.key.id || !u.key.remoteJid) continue;
            hooks.onPollVote({
              pollId: u.key.id,
              remoteJid: u.key.remoteJid,
              voteId: voteKey.id,
              fromMe: !!voteKey.fromMe,
              selected: (p.vote?.selectedOptions ?? []) as Uint8Array[],
              at: Number(p.senderTimestampMs ?? Date.now()),
            });
          }
        }
      }),
    );
    sock.ev.on(
      'messaging-history.set',
      guard('history', ({ chats, contacts }) => {
        const names = new Map(contacts.filter((c) => c.id && (c.notify || c.name)).map((c) => [c.id, (c.name || c.notify)!]));
        const listed = new Set<string>();
        const list: Parameters<SessionHooks['onHistory']>[0] = [];
        for (const c of chats) {
          if (!c.id || !(c.id.endsWith('@s.whatsapp.net') || c.id.endsWith('@g.us'))) continue;
          listed.add(c.id);
          const t = Number(c.conversationTimestamp ?? c.lastMessageRecvTimestamp ?? 0);
          list.push({
            jid: c.id,
            name: c.name || names.get(c.id) || undefined,
            lastAt: t ? t * 1000 : undefined,
            unread: Math.max(0, Number(c.unreadCount ?? 0)),
            // Settings the first app-state sync folded into the history's chats.
            archived: typeof c.archived === 'boolean' ? c.archived : undefined,
            pinned: c.pinned ? true : undefined,
            muteUntil: c.muteEndTime ? Number(c.muteEndTime) : undefined,
          });
        }
        for (const [jid, name] of names) if (!listed.has(jid) && jid.endsWith('@s.whatsapp.net')) list.push({ jid, name });
        if (list.length) hooks.onHistory(list);
      }),
    );
    sock.ev.on(
      'chats.update',
      guard('chats', (list) => {
        const updates = list
          .filter((u) => u.id && ('archived' in u || 'pinned' in u || 'muteEndTime' in u || typeof u.unreadCount === 'number'))
          .map((u) => ({
            id: u.id!,
            archived: typeof u.archived === 'boolean' ? u.archived : undefined,
            pinned: 'pinned' in u ? !!u.pinned : undefined,
            muteEndTime: 'muteEndTime' in u ? (u.muteEndTime ? Number(u.muteEndTime) : null) : undefined,
            unreadCount: typeof u.unreadCount === 'number' ? u.unreadCount : undefined,
          }));
        if (updates.length) hooks.onChatsUpdate(updates);
      }),
    );
    sock.ev.on(
      'call',
      guard('call', (calls) => {
        for (const c of calls) hooks.onCall({ id: c.id, from: c.from, isVideo: !!c.isVideo, isGroup: !!c.isGroup, status: c.status, at: c.date.getTime() });
      }),
    );
    // In a group each member's receipt comes on its own: the message is delivered (read, played)
    // as soon as one member's phone says so.
    sock.ev.on(
      'message-receipt.update',
      guard('receipt', (list) => {
        const { DELIVERY_ACK, READ, PLAYED } = Baileys.proto.WebMessageInfo.Status;
        const updates = list
          .filter((u) => u.key.id && u.key.remoteJid && u.key.fromMe)
          .map((u) => ({ id: u.key.id!, remoteJid: u.key.remoteJid!, fromMe: true, status: u.receipt.playedTimestamp ? PLAYED : u.receipt.readTimestamp ? READ : DELIVERY_ACK }));
        if (updates.length) hooks.onStatus(updates);
      }),
    );
    sock.ev.on(
      'presence.update',
      guard('presence', ({ id, presences }) => {
        for (const [jid, p] of Object.entries(presences)) hooks.onPresence(jid || id, p.lastKnownPresence, p.lastSeen ?? null);
      }),
    );
  }

  /**
   * Drops a socket that neither shows a QR code nor logs in within the connect timeout (the
   * server accepted the connection and went silent, say), as Baileys' own timeout did: the close
   * reads as a timeout and the session tries again with its backoff.
   */
  private connectDeadline(sock: WASocket) {
    const timer = setTimeout(() => {
      if (this.sock !== sock || this.isOpen) return;
      // Read as Baileys' own timeout (a Boom's output.statusCode).
      sock.end(Object.assign(new Error('Timed Out'), { output: { statusCode: DisconnectReason.timedOut } }));
      ignoreLateAbort(sock);
    }, this.opts.connectTimeoutMs ?? 20_000);
    timer.unref();
    const done = (u: Partial<import('@whiskeysockets/baileys').ConnectionState>) => {
      if (!u.qr && u.connection !== 'open' && u.connection !== 'close') return;
      clearTimeout(timer);
      sock.ev.off('connection.update', done);
    };
    sock.ev.on('connection.update', done);
  }

  private onClosed(code: number, reason: string) {
    const { hooks } = this.opts;
    if (this.stopped) return;
    if (code === DisconnectReason.restartRequired) {
      // Pairing finished: log in with the new credentials right away.
      hooks.onConnecting('restart required after pairing');
      return this.start();
    }
    const loggedOut = code === DisconnectReason.loggedOut;
    const replaced = code === DisconnectReason.connectionReplaced;
    const qrExpired = this.qrShown && code === DisconnectReason.timedOut && !this.opts.auth.creds.me;
    if (loggedOut || replaced || qrExpired || code === DisconnectReason.multideviceMismatch) {
      this.stopped = true;
      hooks.onClose({ code, reason: qrExpired ? 'QR code expired without a scan' : reason, reconnect: false, loggedOut });
      return;
    }
    // Transient: back off exponentially (1 s, 2 s, 4 s … 60 s) with full jitter.
    const base = Math.min(60_000, 1000 * 2 ** this.attempt++);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    hooks.onClose({ code, reason, reconnect: true, loggedOut: false });
    this.timer = setTimeout(() => this.start(), delay);
    this.timer.unref();
  }

  /** Resolves once the keys of what was sent so far are stored: a message counts as sent only then. */
  keysStored(): Promise<void> {
    return this.opts.keysStored?.() ?? Promise.resolve();
  }

  /** Closes the socket; with logout, unlinks the device from the phone first. Returns with its keys stored. */
  async stop(opts: { logout?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const s = this.sock;
    this.sock = undefined;
    this.isOpen = false;
    // Baileys' end() drops the listeners its pending queries wait on: they would hang to their timeout.
    this.closing.fire();
    if (s) {
      if (opts.logout) await s.logout().catch(() => {});
      else s.end(undefined);
      ignoreLateAbort(s);
    }
    // Whatever follows (deleting the instance's keys, another process taking it over) comes after them.
    await this.keysStored().catch(() => undefined);
  }
}

/**
 * A socket ended while still connecting reports the abort as an error on the next tick, after
 * end() took Baileys' listeners away: unheard, it would be an uncaught exception.
 */
function ignoreLateAbort(sock: WASocket): void {
  sock.ws.on('error', () => undefined);
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}
