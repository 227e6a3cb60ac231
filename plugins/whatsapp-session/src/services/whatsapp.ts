import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { conflict, HttpError, notFound, stableUuid, tooManyRequests, unprocessable, type JobHandle, type PluginContext } from '@plugchat/core';
import { Baileys } from '../baileys.js';
import type { InstanceGate, WhatsAppNetwork } from '../api.js';
import { PREVIOUS, nextSeq, toDate, type InstanceRow, type InstanceState, type MessageRow, type MessageStatus, type Store } from '../store.js';
import { databaseAuthState } from '../transport/authState.js';
import { InstanceSession } from '../transport/session.js';
import type { Outbox } from '../outbox.js';
import type { InstanceLeases, LeaseHolder } from './leases.js';
import { buildContent, type OutgoingRequest } from './content.js';
import { pollMessage } from './polls.js';
import { jidOf, phoneOf } from './jids.js';
import { History } from './history.js';
import { Receiving } from './receiving.js';

export { jidOf, phoneOf } from './jids.js';

export interface Settings {
  'whatsapp-session.waWebSocketUrl': string;
  'whatsapp-session.mediaCaFile': string;
  'whatsapp-session.queueLimit': number;
  'whatsapp-session.defaultDelayMinMs': number;
  'whatsapp-session.defaultDelayMaxMs': number;
  'whatsapp-session.maxMediaBytes': number;
  'whatsapp-session.optOutKeywords': string[];
  'whatsapp-session.mediaLinkDays': number;
  'whatsapp-session.failoverSeconds': number;
  'whatsapp-session.maxInstancesPerProcess': number;
}

/** What a process asks the owner of an instance to do (cluster mode). */
type OwnerOp = 'connect' | 'disconnect' | 'pause' | 'qr' | 'read' | 'typing' | 'delete' | 'pairingCode' | 'exists' | 'profileName';
type LiveChange = { type: string; instanceId: string; [k: string]: unknown };

export type SendJob = { instanceId: string; messageId: string };

const STATUS_FROM_BAILEYS: Record<number, MessageStatus | undefined> = { 0: 'FAILED', 2: 'SENT', 3: 'RECEIVED', 4: 'READ', 5: 'PLAYED' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Instances (one WhatsApp number each), their Baileys sessions, the durable
 * send queue and everything received. The queue's truth is the messages table:
 * a pg-boss job only wakes the instance's sender, which sends its oldest queued
 * message first, so order holds and nothing is lost when a job or process dies.
 */
export class WhatsAppService implements LeaseHolder {
  private readonly sessions = new Map<string, InstanceSession>();
  private readonly qrs = new Map<string, { qr: string; at: number }>();
  private readonly lastWake = new Map<string, number>();
  /** Live changes per instance (state, QR) for the UI's event stream. */
  readonly live = new EventEmitter().setMaxListeners(0);
  private readonly draining = new Map<string, { again: boolean; promise: Promise<void> }>();
  sendJob?: JobHandle<SendJob>;
  private readonly receiving: Receiving;
  private readonly stored: History;

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    private readonly network: () => WhatsAppNetwork | undefined,
    private readonly outbox: Outbox,
    /** Set when several processes share PostgreSQL: who runs which instance. */
    private readonly leases?: InstanceLeases,
    private readonly gates: () => InstanceGate[] = () => [],
  ) {
    this.stored = new History(store);
    this.receiving = new Receiving(store, ctx, outbox, {
      log: () => this.log,
      phoneOfInstance: (id) => this.phoneOfInstance(id),
      mediaAgent: (id) => this.sessions.get(id)?.agent,
    });
    // Live changes travel through the cluster, so a stream on any process sees every instance.
    ctx.subscriptions.push(
      ctx.cluster.on('whatsapp-session.live', (p: { accountId: string; change: LiveChange }) => {
        this.live.emit(p.change.instanceId, p.change);
        // The account's stream (agents) carries states; QR codes only reach the instance's own stream (admins).
        if (p.change.type === 'state') this.live.emit(`account:${p.accountId}`, p.change);
      }),
      ctx.cluster.on('whatsapp-session.wake', (p: { instanceId: string }) => {
        if (this.sessions.has(p.instanceId)) void this.drain(p.instanceId).catch((err) => this.log.error({ err, instance: p.instanceId }, 'drain failed'));
      }),
      ctx.cluster.handle('whatsapp-session.op', (p: { op: OwnerOp; instanceId: string; args: unknown[] }) => this.runOp(p.op, p.instanceId, p.args)),
    );
  }

  private publish(row: Pick<InstanceRow, 'id' | 'account_id'>, change: LiveChange) {
    void this.ctx.cluster.broadcast('whatsapp-session.live', { accountId: row.account_id, change }).catch((err) => this.log.warn({ err }, 'could not publish a live change'));
  }

  private get log() {
    return this.ctx.logger;
  }

  // ------------------------------------------------------------------ instances

  async create(accountId: string, name: string, opts: { delayMinMs?: number; delayMaxMs?: number } = {}): Promise<{ row: InstanceRow; token: string }> {
    const id = randomBytes(16).toString('hex').toUpperCase();
    const token = randomBytes(12).toString('hex').toUpperCase();
    const now = new Date();
    const row = {
      id,
      account_id: accountId,
      name,
      token_hash: sha256(token),
      token_sealed: this.ctx.secrets.encrypt(token),
      state: 'disconnected' as InstanceState,
      state_reason: 'created',
      wanted: false,
      phone: null,
      push_name: null,
      platform: null,
      delay_min_ms: opts.delayMinMs ?? null,
      delay_max_ms: opts.delayMaxMs ?? null,
      queue_limit: null,
      created_at: now,
      updated_at: now,
    };
    await this.store.instances().insert(row);
    await this.store.events().insert({ instance_id: id, account_id: accountId, state: 'disconnected', reason: 'created', at: now });
    await this.ctx.events.emit('whatsapp-session.instance.created', { instanceId: id, accountId, name });
    return { row: (await this.store.instances().where({ id }).first())!, token };
  }

  list(accountId: string): Promise<InstanceRow[]> {
    return this.store.instances().where({ account_id: accountId }).orderBy('created_at');
  }

  async get(accountId: string, id: string): Promise<InstanceRow> {
    const row = await this.store.instances().where({ id, account_id: accountId }).first();
    if (!row) throw notFound('Instance');
    return row;
  }

  token(row: InstanceRow): string {
    return this.ctx.secrets.decrypt(row.token_sealed);
  }

  /** Instance API credentials: the caller's account must own it (else 404) and the token must match (else 403). */
  async authorize(caller: { accountId: string }, id: string, token: string): Promise<InstanceRow> {
    const row = await this.store.instances().where({ id }).first();
    if (!row || row.account_id !== caller.accountId) throw notFound('Instance');
    const expected = Buffer.from(row.token_hash);
    const given = Buffer.from(sha256(token));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new HttpError(403, 'invalid_instance_token', 'The instance token is wrong. Copy it again from the instance page (it changes when rotated).');
    }
    return row;
  }

  phoneOfInstance(id: string): string | null {
    const me = this.sessions.get(id)?.sock?.user?.id;
    return me ? phoneOf(me) : null;
  }

  async update(row: InstanceRow, patch: Partial<Pick<InstanceRow, 'name' | 'delay_min_ms' | 'delay_max_ms' | 'queue_limit'>>): Promise<InstanceRow> {
    const min = patch.delay_min_ms ?? row.delay_min_ms;
    const max = patch.delay_max_ms ?? row.delay_max_ms;
    if (min !== null && max !== null && min !== undefined && max !== undefined && min > max) {
      throw new HttpError(400, 'validation_failed', 'delayMinMs must not be greater than delayMaxMs.', { issues: [{ path: 'body.delayMinMs', message: 'greater than delayMaxMs' }] });
    }
    await this.store.instances().where({ id: row.id }).update({ ...patch, updated_at: new Date() });
    return (await this.store.instances().where({ id: row.id }).first())!;
  }

  async rotateToken(row: InstanceRow): Promise<string> {
    const token = randomBytes(12).toString('hex').toUpperCase();
    await this.store.instances().where({ id: row.id }).update({ token_hash: sha256(token), token_sealed: this.ctx.secrets.encrypt(token), updated_at: new Date() });
    return token;
  }

  async remove(row: InstanceRow): Promise<void> {
    // The process running it logs the device out first (this one, or its owner in cluster mode).
    const owner = await this.ownerElsewhere(row, false);
    if (owner) await this.ctx.cluster.request(owner, 'whatsapp-session.op', { op: 'disconnect', instanceId: row.id, args: [] }).catch((err) => this.log.warn({ err, instance: row.id }, 'the owner did not log the instance out; deleting it anyway'));
    await this.sessions.get(row.id)?.stop({ logout: true });
    this.sessions.delete(row.id);
    await this.store.knex.transaction(async (trx) => {
      await trx('whatsapp_session_auth').where({ instance_id: row.id }).delete();
      await trx('whatsapp_session_messages').where({ instance_id: row.id }).delete();
      await trx('whatsapp_session_instance_events').where({ instance_id: row.id }).delete();
      await trx('whatsapp_session_instances').where({ id: row.id }).delete();
      await trx('whatsapp_session_leases').where({ instance_id: row.id }).delete();
    });
    rmSync(path.join(this.ctx.dataDir, 'media', row.id), { recursive: true, force: true });
    await this.ctx.events.emit('whatsapp-session.instance.deleted', { instanceId: row.id, accountId: row.account_id });
  }

  history(row: InstanceRow) {
    return this.store.events().where({ instance_id: row.id }).orderBy('id', 'asc').select('state', 'reason', 'at');
  }

  private async setState(row: InstanceRow, state: InstanceState, reason: string, extra: Partial<InstanceRow> = {}) {
    const now = new Date();
    await this.store.instances().where({ id: row.id }).update({ state, state_reason: reason, updated_at: now, ...extra });
    const last = await this.store.events().where({ instance_id: row.id }).orderBy('id', 'desc').first();
    if (!last || last.state !== state || last.reason !== reason) {
      await this.store.events().insert({ instance_id: row.id, account_id: row.account_id, state, reason, at: now });
    }
    row.state = state;
    row.state_reason = reason;
    this.publish(row, { type: 'state', instanceId: row.id, state, reason, connected: this.isConnected(row.id), phone: extra.phone ?? row.phone ?? null });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Whether this process holds the instance's open socket. */
  isConnected(id: string): boolean {
    return !!this.sessions.get(id)?.open;
  }

  private localQr(id: string): string | undefined {
    const q = this.qrs.get(id);
    return q && Date.now() - q.at < 60_000 ? q.qr : undefined;
  }

  /** Whether the instance's socket is open, in whichever process runs it. */
  async connected(row: InstanceRow): Promise<boolean> {
    return (await this.connectedIds([row])).has(row.id);
  }

  /**
   * The connected ones of several instances (rows just read): here, this process's socket; in
   * another process, the state its owner recorded, while its lease holds.
   */
  async connectedIds(rows: InstanceRow[]): Promise<Set<string>> {
    if (!this.leases) return new Set(rows.filter((r) => this.isConnected(r.id)).map((r) => r.id));
    const owners = await this.leases.owners(rows.map((r) => r.id));
    return new Set(rows.filter((r) => (this.sessions.has(r.id) ? this.isConnected(r.id) : r.state === 'connected' && owners.has(r.id))).map((r) => r.id));
  }

  /** The QR code to scan now, from the process that runs the instance. */
  async currentQr(row: InstanceRow): Promise<string | undefined> {
    return ((await this.onOwner(row, 'qr', [], false)) as string | null) ?? undefined;
  }

  /**
   * Where the instance's socket lives: undefined for this process, or the id of the process
   * holding its lease. With `claim`, a free instance is taken here.
   */
  private async ownerElsewhere(row: InstanceRow, claim: boolean): Promise<string | undefined> {
    if (!this.leases || this.sessions.has(row.id)) return undefined;
    const owner = await this.leases.ownerOf(row.id);
    if (owner && owner !== this.leases.me) return owner;
    if (claim && !(await this.leases.acquire(row.id))) {
      const now = await this.leases.ownerOf(row.id);
      if (now && now !== this.leases.me) return now;
    }
    return undefined;
  }

  /** Runs an action on the instance's socket, here or (cluster mode) on its owner, with the same answer. */
  private async onOwner(row: InstanceRow, op: OwnerOp, args: unknown[], claim: boolean): Promise<unknown> {
    const owner = await this.ownerElsewhere(row, claim);
    if (owner) return this.ctx.cluster.request(owner, 'whatsapp-session.op', { op, instanceId: row.id, args }, op === 'pairingCode' || op === 'connect' ? 30_000 : 15_000);
    return this.runOp(op, row.id, args, row);
  }

  private async runOp(op: OwnerOp, instanceId: string, args: unknown[], known?: InstanceRow): Promise<unknown> {
    const row = known ?? (await this.store.instances().where({ id: instanceId }).first());
    if (!row) throw notFound('Instance');
    switch (op) {
      case 'connect':
        return this.startLocal(row);
      case 'disconnect':
        return this.disconnectLocal(row);
      case 'pause':
        return this.pauseLocal(row, args[0] as string);
      case 'qr':
        return this.localQr(row.id) ?? null;
      case 'read':
        return this.openSocket(row).readMessages((args[1] as string[]).map((id) => ({ remoteJid: jidOf(args[0] as string), id, fromMe: false })));
      case 'typing':
        return this.openSocket(row).sendPresenceUpdate(args[1] as 'composing' | 'paused', jidOf(args[0] as string));
      case 'delete': {
        const [phone, id, owner] = args as [string, string, boolean];
        await this.openSocket(row).sendMessage(jidOf(phone), { delete: { remoteJid: jidOf(phone), id, fromMe: owner } });
        return null;
      }
      case 'pairingCode':
        return this.pairingCodeLocal(row, args[0] as string);
      case 'exists': {
        const result = await this.openSocket(row).onWhatsApp(args[0] as string);
        return !!result?.[0]?.exists;
      }
      case 'profileName':
        return this.openSocket(row).updateProfileName(args[0] as string);
    }
  }

  /** Starts (or restarts) the instance's session, in the process that runs it; shows a QR when it is not paired yet. */
  async connect(row: InstanceRow): Promise<void> {
    await this.gate(row, 'connect');
    await this.onOwner(row, 'connect', [], true);
  }

  // ------------------------------------------------------------------ this process's sockets (LeaseHolder)

  localIds(): string[] {
    return [...this.sessions.keys()];
  }

  async startLocal(rowOrId: InstanceRow | string): Promise<void> {
    const row = typeof rowOrId === 'string' ? await this.store.instances().where({ id: rowOrId }).first() : rowOrId;
    if (!row) return;
    await this.startSession(row);
  }

  async stopLocal(id: string, reason: string): Promise<void> {
    const session = this.sessions.get(id);
    this.sessions.delete(id);
    this.qrs.delete(id);
    if (!session) return;
    this.log.info({ instance: id, reason }, 'closing the instance socket here');
    await session.stop();
  }

  async sweep(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const rows: { instance_id: string }[] = await this.store.messages().whereIn('instance_id', ids).where({ direction: 'out' }).whereIn('status', ['QUEUED', 'SENDING']).distinct('instance_id');
    for (const r of rows) if (this.sessions.get(r.instance_id)?.open) void this.drain(r.instance_id).catch((err) => this.log.error({ err, instance: r.instance_id }, 'drain failed'));
  }

  private async startSession(row: InstanceRow): Promise<void> {
    await this.sessions.get(row.id)?.stop();
    await this.store.instances().where({ id: row.id }).update({ wanted: true });
    const auth = await databaseAuthState(this.store, this.ctx.secrets, row.id);
    const net = this.network();
    const wsUrl = net?.wsUrl() || this.ctx.settings.get('whatsapp-session.waWebSocketUrl') || undefined;
    const caFile = this.ctx.settings.get('whatsapp-session.mediaCaFile');
    const mediaCa = net?.mediaCertificate?.() || (caFile ? (await import('node:fs')).readFileSync(caFile, 'utf8') : undefined);
    await this.setState(row, 'connecting', auth.state.creds.me ? 'logging in' : 'starting a new session');
    const session: InstanceSession = new InstanceSession({
      instanceId: row.id,
      auth: auth.state,
      wsUrl,
      mediaCa,
      logger: this.log,
      hooks: {
        saveCreds: () => auth.saveCreds(),
        onQr: (qr) => {
          this.qrs.set(row.id, { qr, at: Date.now() });
          this.publish(row, { type: 'qr', instanceId: row.id, qr });
          void this.setState(row, 'qr', 'waiting for the QR code to be scanned');
          void this.ctx.events.emit('whatsapp-session.instance.qr', { instanceId: row.id, accountId: row.account_id, qr });
        },
        onConnecting: (reason) => void this.setState(row, 'connecting', reason),
        onOpen: (me) => {
          this.qrs.delete(row.id);
          void (async () => {
            await this.setState(row, 'connected', 'connected', { phone: me.phone, push_name: me.pushName ?? null, platform: me.platform ?? null });
            await this.outbox.add('whatsapp-session.instance.connected', { instanceId: row.id, accountId: row.account_id, phone: me.phone });
            await this.drain(row.id);
          })().catch((err) => this.log.error({ err, instance: row.id }, 'after connect'));
        },
        onClose: ({ reason, reconnect, loggedOut }) => {
          void (async () => {
            if (loggedOut) {
              await auth.clear();
              await this.store.instances().where({ id: row.id }).update({ wanted: false, phone: null });
            }
            const state: InstanceState = reconnect ? 'connecting' : loggedOut ? 'logged_out' : reason.startsWith('QR') ? 'expired' : 'disconnected';
            if (!reconnect) {
              this.sessions.delete(row.id);
              this.qrs.delete(row.id);
            }
            await this.setState(row, state, reconnect ? `${reason}; reconnecting` : reason);
            await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: row.id, accountId: row.account_id, state, reason });
          })().catch((err) => this.log.error({ err, instance: row.id }, 'after disconnect'));
        },
        onMessages: (messages, type) => void this.receiving.onMessages(row, messages, type).catch((err) => this.log.error({ err, instance: row.id }, 'receiving failed')),
        onStatus: (updates) => void this.onStatus(row, updates).catch((err) => this.log.error({ err, instance: row.id }, 'status update failed')),
        onPollVote: (vote) => void this.receiving.onPollVote(row, vote).catch((err) => this.log.error({ err, instance: row.id }, 'poll vote failed')),
        getMessage: async (key) => {
          const sent = await this.messageByWaId(row, key.id);
          return sent ? pollMessage(sent) : undefined;
        },
        onPresence: (jid, status, lastSeen) =>
          void this.ctx.events.emit('whatsapp-session.presence', { instanceId: row.id, accountId: row.account_id, phone: phoneOf(jid), status: status.toUpperCase(), lastSeen }),
      },
    });
    this.sessions.set(row.id, session);
    session.start();
  }

  async restart(row: InstanceRow): Promise<void> {
    await this.connect(row);
  }

  /** Closes the socket and keeps it closed (not wanted), keeping the pairing: connect() resumes without a QR. */
  async pause(row: InstanceRow, reason: string): Promise<void> {
    await this.onOwner(row, 'pause', [reason], false);
  }

  private async pauseLocal(row: InstanceRow, reason: string): Promise<void> {
    const session = this.sessions.get(row.id);
    this.sessions.delete(row.id);
    this.qrs.delete(row.id);
    await session?.stop();
    await this.store.instances().where({ id: row.id }).update({ wanted: false });
    await this.setState(row, 'disconnected', reason);
    if (session) await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: row.id, accountId: row.account_id, state: 'disconnected', reason });
  }

  /** What another plugin says of connecting or sending through this instance (billing's veto, say). */
  async gate(row: InstanceRow, action: 'connect' | 'send'): Promise<void> {
    for (const g of this.gates()) await g.check(row.account_id, row.id, action);
  }

  /** Logs the device out (the phone forgets it) and stops; a new QR is needed to connect again. */
  async disconnect(row: InstanceRow): Promise<void> {
    await this.onOwner(row, 'disconnect', [], false);
  }

  private async disconnectLocal(row: InstanceRow): Promise<void> {
    const session = this.sessions.get(row.id);
    this.sessions.delete(row.id);
    await session?.stop({ logout: true });
    await this.store.auth().where({ instance_id: row.id }).delete();
    await this.store.instances().where({ id: row.id }).update({ wanted: false, phone: null });
    await this.setState(row, 'disconnected', 'disconnected by a user');
    // A stopped session reports no close of its own; the webhooks' DisconnectedCallback comes from this.
    if (session) await this.outbox.add('whatsapp-session.instance.disconnected', { instanceId: row.id, accountId: row.account_id, state: 'disconnected', reason: 'disconnected by a user' });
  }

  /** After a restart: reconnect every instance that should be connected, with its saved credentials. */
  /** After a start: reconnect the instances that should be connected (cluster mode: this process's share of them). */
  async resumeAll(): Promise<void> {
    if (this.leases) return this.leases.start(this);
    const rows = await this.store.instances().where({ wanted: true });
    for (const row of rows) await this.startLocal(row).catch((err) => this.log.error({ err, instance: row.id }, 'could not resume'));
  }

  async stopAll(): Promise<void> {
    if (this.leases) await this.leases.handOver();
    else {
      const all = [...this.sessions.values()];
      this.sessions.clear();
      await Promise.all(all.map((s) => s.stop()));
    }
    // A send in flight records its status (and its event) now, while the webhooks still listen:
    // after the plugins deactivate, the event would find no listener and be lost. Bounded wait.
    const running = [...this.draining.values()].map((d) => d.promise.catch(() => {}));
    await Promise.race([Promise.all(running), sleep(10_000)]);
  }

  // ------------------------------------------------------------------ sending

  private queueLimit(row: InstanceRow) {
    return row.queue_limit ?? this.ctx.settings.get('whatsapp-session.queueLimit');
  }

  async isOptedOut(accountId: string, phone: string): Promise<boolean> {
    return !!(await this.store.optouts().where({ account_id: accountId, phone }).first());
  }

  /** Validated request in, queued message out: answers at once with the ids (the WhatsApp id is fixed now). */
  async enqueue(row: InstanceRow, phone: string, req: OutgoingRequest, media?: { data: Buffer; mimetype?: string }, key?: string): Promise<{ zaapId: string; messageId: string; id: string }> {
    const keyed = async () => {
      const found = key ? await this.store.messages().where({ instance_id: row.id, client_key: key }).first() : undefined;
      return found ? { zaapId: found.id, messageId: found.wa_id, id: found.wa_id } : undefined;
    };
    const earlier = await keyed();
    if (earlier) return earlier;
    await this.gate(row, 'send');
    if (await this.isOptedOut(row.account_id, phone)) {
      throw unprocessable(`${phone} asked not to receive messages (opt-out). Remove it from the opt-out list only with the person's consent.`, 'opted_out', { phone });
    }
    const waiting = await this.store.messages().where({ instance_id: row.id, direction: 'out' }).whereIn('status', ['QUEUED', 'SENDING']).count({ n: '*' }).first();
    if (Number(waiting?.n ?? 0) >= this.queueLimit(row)) throw tooManyRequests(60, `The queue of this instance is full (${this.queueLimit(row)} messages). Wait for it to drain or clear it.`);
    const zaapId = randomUUID().replace(/-/g, '').toUpperCase();
    const waId = Baileys.generateMessageIDV2(row.phone ? jidOf(row.phone) : undefined);
    let mediaPath: string | null = null;
    if (media) {
      const dir = path.join(this.ctx.dataDir, 'outbox', row.id);
      mkdirSync(dir, { recursive: true });
      mediaPath = path.join(dir, zaapId);
      writeFileSync(mediaPath, media.data);
      if (!req.mimetype && media.mimetype) req.mimetype = media.mimetype;
    }
    const now = new Date();
    const insert = this.store.messages().insert({
      id: zaapId,
      account_id: row.account_id,
      instance_id: row.id,
      wa_id: waId,
      chat: jidOf(phone),
      direction: 'out',
      type: req.kind,
      content: JSON.stringify(req),
      status: 'QUEUED',
      error: null,
      seq: nextSeq(),
      from_me: true,
      waiting: null,
      media_path: mediaPath,
      delay_ms: req.delayMessageMs ?? null,
      attempts: 0,
      created_at: now,
      updated_at: now,
      sent_at: null,
      ...(key ? { client_key: key } : {}),
    });
    try {
      await insert;
    } catch (err) {
      // The same key queued meanwhile (another process, a replayed event): that message stands.
      const raced = await keyed();
      if (raced) return raced;
      throw err;
    }
    // The row is durable already; the job wakes the instance's sender (in whichever process owns it).
    // One waiting wake-up per instance is enough (the queue is "stately"), so a burst sends one per second.
    const last = this.lastWake.get(row.id) ?? 0;
    if (Date.now() - last > 1000) {
      this.lastWake.set(row.id, Date.now());
      await this.sendJob?.send({ instanceId: row.id, messageId: zaapId }, { singletonKey: row.id }).catch((err) => {
        this.log.warn({ err, instance: row.id }, 'could not queue the wake-up job; the message waits for the next drain');
      });
    }
    this.wake(row.id);
    return { zaapId, messageId: waId, id: waId };
  }

  /** Nudges the instance's sender: here when this process holds the session, else on its owner. */
  wake(instanceId: string): void {
    if (this.sessions.get(instanceId)?.open) void this.drain(instanceId).catch((err) => this.log.error({ err, instance: instanceId }, 'drain failed'));
    else if (this.leases) void this.ctx.cluster.broadcast('whatsapp-session.wake', { instanceId }).catch((err) => this.log.warn({ err }, 'could not wake the owner; its next lease round sends'));
  }

  /** Sends the instance's queued messages in order, one at a time, with its pacing. */
  drain(instanceId: string): Promise<void> {
    const running = this.draining.get(instanceId);
    if (running) {
      // Coalesce: the running sender looks once more before it stops.
      running.again = true;
      return running.promise;
    }
    const state = { again: false, promise: Promise.resolve() };
    state.promise = (async () => {
      do {
        state.again = false;
        await this.drainNow(instanceId);
      } while (state.again);
    })().finally(() => this.draining.delete(instanceId));
    this.draining.set(instanceId, state);
    return state.promise;
  }

  private async drainNow(instanceId: string): Promise<void> {
    const row = await this.store.instances().where({ id: instanceId }).first();
    if (!row) return;
    for (;;) {
      const session = this.sessions.get(instanceId);
      if (!session?.open || !session.sock) return;
      // A lease that may have lapsed may be another process's now: it sends, not us.
      if (this.leases && !this.leases.valid()) return;
      const msg = await this.store.messages().where({ instance_id: instanceId, direction: 'out' }).whereIn('status', ['QUEUED', 'SENDING']).orderBy('seq', 'asc').first();
      if (!msg) return;
      const req = JSON.parse(msg.content) as OutgoingRequest;
      // A retry after a crash resends with the same WhatsApp id, so the customer sees it once.
      await this.store.messages().where({ id: msg.id }).whereIn('status', ['QUEUED', 'SENDING']).update({ status: 'SENDING', attempts: msg.attempts + 1, updated_at: new Date() });
      const min = row.delay_min_ms ?? this.ctx.settings.get('whatsapp-session.defaultDelayMinMs');
      const max = row.delay_max_ms ?? this.ctx.settings.get('whatsapp-session.defaultDelayMaxMs');
      const delay = req.delayMessageMs ?? Math.round(min + Math.random() * Math.max(0, max - min));
      if (delay > 0) await sleep(delay);
      try {
        if (req.delayTypingMs) {
          await session.sock.sendPresenceUpdate('composing', msg.chat);
          await sleep(req.delayTypingMs);
          await session.sock.sendPresenceUpdate('paused', msg.chat);
        }
        const { content, quoted } = buildContent(req, msg.chat, msg.media_path);
        if (!session.open) return;
        await session.sock.sendMessage(msg.chat, content, { messageId: msg.wa_id, quoted });
      } catch (err) {
        const message = (err as Error).message;
        if (!session.open) return; // disconnected mid-send: it stays queued and goes out after the reconnect
        await this.markStatus(row, msg, 'FAILED', message);
        continue;
      }
      await this.markStatus(row, msg, 'SENT');
    }
  }

  /**
   * Moves a message to `status` only from a status it advances from, in one conditional
   * update: however many paths observe the same transition (the send loop, the server's
   * ack, a receipt replayed after a reconnect), it happens and is announced once, with an
   * event id derived from (message, status).
   */
  private async markStatus(row: InstanceRow, msg: MessageRow, status: MessageStatus, error?: string) {
    // A receipt can overtake the send's own acknowledgement (after a crash, say): the message was
    // sent all the same, so SENT (and its DeliveryCallback) is recorded first.
    if (status === 'RECEIVED' || status === 'READ' || status === 'PLAYED') await this.markStatus(row, msg, 'SENT');
    const from = PREVIOUS[status];
    const values = { status, error: error ?? null, updated_at: new Date(), ...(status === 'SENT' ? { sent_at: new Date() } : {}) };
    const event = { instanceId: row.id, accountId: row.account_id, zaapId: msg.id, messageId: msg.wa_id, phone: phoneOf(msg.chat), status, ...(error ? { error } : {}) };
    const eventId = stableUuid(`${msg.id}:${status}`);
    if (!this.outbox.needed('whatsapp-session.message.status')) {
      const n = await this.store.messages().where({ id: msg.id }).whereIn('status', from).update(values);
      if (n) await this.outbox.add('whatsapp-session.message.status', event, undefined, eventId);
      return;
    }
    // The status and its event commit together, so a crash cannot lose the webhook that follows.
    const changed = await this.store.knex.transaction(async (trx) => {
      const n = await trx('whatsapp_session_messages').where({ id: msg.id }).whereIn('status', from).update(values);
      if (n) await this.outbox.add('whatsapp-session.message.status', event, trx, eventId);
      return n > 0;
    });
    if (changed) await this.outbox.dispatch();
  }

  queue(row: InstanceRow) {
    return this.store.messages().where({ instance_id: row.id, direction: 'out' }).whereIn('status', ['QUEUED', 'SENDING']).orderBy('seq', 'asc');
  }

  async removeFromQueue(row: InstanceRow, zaapId: string): Promise<void> {
    const n = await this.store.messages().where({ instance_id: row.id, id: zaapId, status: 'QUEUED' }).delete();
    if (!n) throw notFound('Queued message');
  }

  async clearQueue(row: InstanceRow): Promise<number> {
    return this.store.messages().where({ instance_id: row.id, status: 'QUEUED', direction: 'out' }).delete();
  }

  // ------------------------------------------------------------------ immediate actions

  private openSocket(row: InstanceRow) {
    const s = this.sessions.get(row.id);
    if (!s?.open || !s.sock) throw conflict('The instance is not connected. Connect it (scan the QR code) and try again.', 'not_connected');
    return s.sock;
  }

  async readMessage(row: InstanceRow, phone: string, messageId: string | string[]) {
    await this.onOwner(row, 'read', [phone, Array.isArray(messageId) ? messageId : [messageId]], false);
  }

  async typing(row: InstanceRow, phone: string, state: 'composing' | 'paused') {
    await this.onOwner(row, 'typing', [phone, state], false);
  }

  messagesByRowId(row: InstanceRow, ids: string[]) {
    return ids.length ? this.store.messages().where({ instance_id: row.id }).whereIn('id', ids) : Promise.resolve([] as MessageRow[]);
  }

  async deleteMessage(row: InstanceRow, phone: string, messageId: string, owner: boolean) {
    await this.onOwner(row, 'delete', [phone, messageId, owner], false);
  }

  /** A pairing code to type on the phone (Linked devices → Link with phone number) instead of scanning. */
  async pairingCode(row: InstanceRow, phone: string): Promise<string> {
    await this.gate(row, 'connect');
    return (await this.onOwner(row, 'pairingCode', [phone], true)) as string;
  }

  private async pairingCodeLocal(row: InstanceRow, phone: string): Promise<string> {
    if (!this.sessions.get(row.id)) await this.startLocal(row);
    const session = this.sessions.get(row.id)!;
    // WhatsApp takes the request only once the connection waits to be linked (it has offered a QR
    // code); sent earlier, during the handshake, it is lost.
    for (let i = 0; i < 150 && !(session.sock && this.qrs.has(row.id)); i++) await sleep(100);
    if (!this.qrs.has(row.id)) throw new HttpError(504, 'pairing_code_failed', 'WhatsApp did not get ready to link a device in time. Try again, or scan the QR code instead.');
    try {
      return await session.sock!.requestPairingCode(phone);
    } catch (err) {
      throw new HttpError(502, 'pairing_code_failed', `WhatsApp did not issue a pairing code: ${(err as Error).message}. Scan the QR code instead.`);
    }
  }

  async phoneExists(row: InstanceRow, phone: string): Promise<boolean> {
    return (await this.onOwner(row, 'exists', [phone], false)) as boolean;
  }

  async profileName(row: InstanceRow, name: string) {
    await this.onOwner(row, 'profileName', [name], false);
  }

  private async onStatus(row: InstanceRow, updates: { id: string; status: number }[]) {
    for (const u of updates) {
      const status = STATUS_FROM_BAILEYS[u.status];
      if (!status) continue;
      const msg = await this.store.messages().where({ instance_id: row.id, wa_id: u.id, direction: 'out' }).first();
      if (msg) await this.markStatus(row, msg, status);
    }
  }

  // ------------------------------------------------------------------ reading the store (history.ts)

  chatMessages(row: InstanceRow, phone: string, limit = 50) {
    return this.stored.chatMessages(row, phone, limit);
  }

  chats(row: InstanceRow) {
    return this.stored.chats(row);
  }

  recentMessages(row: InstanceRow, limit = 30) {
    return this.stored.recent(row, limit);
  }

  messageByWaId(row: InstanceRow, waId: string) {
    return this.stored.byWaId(row, waId);
  }
}

export const createdAt = (r: { created_at: Date | number | string }) => toDate(r.created_at)!.toISOString();
