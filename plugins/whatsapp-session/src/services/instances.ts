import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ClusterCache, HttpError, notFound, type PluginContext } from '@plugchat/core';
import type { Settings } from './settings.js';
import type { SendRampConfig } from './sendRamp.js';
import { toDate, type InstanceRow, type InstanceState, type Store } from '../store.js';

/** One WhatsApp number of an account, as the services and routes see it (the token stays in the table). */
export interface Instance {
  id: string;
  accountId: string;
  name: string;
  state: InstanceState;
  stateReason: string | null;
  /** Whether it should be connected: a restart reconnects it. */
  wanted: boolean;
  phone: string | null;
  pushName: string | null;
  platform: string | null;
  delayMinMs: number | null;
  delayMaxMs: number | null;
  queueLimit: number | null;
  /** Incoming messages are marked read as they arrive (the sender sees blue ticks). */
  autoReadMessage: boolean;
  /** Calls are rejected as they ring; the caller then gets this message, when set. */
  callRejectAuto: boolean;
  callRejectMessage: string | null;
  /** A new number's warm-up, when one is set. */
  sendRamp: SendRampConfig | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What an admin may change of an instance. */
export type InstancePatch = Partial<Pick<Instance, 'name' | 'delayMinMs' | 'delayMaxMs' | 'queueLimit' | 'autoReadMessage' | 'callRejectAuto' | 'callRejectMessage' | 'sendRamp'>>;

/** How long a process trusts its copy of an instance row without a change notice. */
const ROW_KEEP_MS = 5_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function toInstance(r: InstanceRow): Instance {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    state: r.state,
    stateReason: r.state_reason,
    wanted: !!r.wanted,
    phone: r.phone,
    pushName: r.push_name,
    platform: r.platform,
    delayMinMs: r.delay_min_ms,
    delayMaxMs: r.delay_max_ms,
    queueLimit: r.queue_limit,
    autoReadMessage: !!r.auto_read_message,
    callRejectAuto: !!r.call_reject_auto,
    callRejectMessage: r.call_reject_message ?? null,
    sendRamp: r.ramp_limits ? { dailyLimits: JSON.parse(r.ramp_limits) as number[], startedAt: toDate(r.ramp_started_at)! } : null,
    createdAt: toDate(r.created_at)!,
    updatedAt: toDate(r.updated_at)!,
  };
}

/**
 * The instances table: create, find, authorize by token, change, delete, and the state history.
 * Every read a user can trigger names the account.
 */
export class Instances {
  /**
   * Every instance API request reads its instance (the token check) and every send reads it again:
   * each process keeps the rows it reads, dropped in every process on any change. A copy is trusted
   * a few seconds at most, should a notice be missed (a rotated token stops working within that).
   */
  private readonly rows: ClusterCache<InstanceRow | undefined>;

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
  ) {
    this.rows = new ClusterCache(ctx.cluster, 'whatsapp-session.instance-changed', (id) => this.store.instances().where({ id }).first(), ROW_KEEP_MS);
    ctx.subscriptions.push(this.rows);
  }

  async create(accountId: string, name: string, opts: { delayMinMs?: number; delayMaxMs?: number } = {}): Promise<{ instance: Instance; token: string }> {
    const id = randomBytes(16).toString('hex').toUpperCase();
    const token = randomBytes(12).toString('hex').toUpperCase();
    const now = new Date();
    await this.store.instances().insert({
      id,
      account_id: accountId,
      name,
      token_hash: sha256(token),
      token_sealed: this.ctx.secrets.encrypt(token),
      state: 'disconnected',
      state_reason: 'created',
      wanted: false,
      phone: null,
      push_name: null,
      platform: null,
      delay_min_ms: opts.delayMinMs ?? null,
      delay_max_ms: opts.delayMaxMs ?? null,
      queue_limit: null,
      auto_read_message: false,
      call_reject_auto: false,
      call_reject_message: null,
      ramp_limits: null,
      ramp_started_at: null,
      created_at: now,
      updated_at: now,
    });
    await this.store.events().insert({ instance_id: id, account_id: accountId, state: 'disconnected', reason: 'created', at: now });
    await this.ctx.events.emit('whatsapp-session.instance.created', { instanceId: id, accountId, name });
    return { instance: (await this.find(id))!, token };
  }

  async list(accountId: string): Promise<Instance[]> {
    return (await this.store.instances().where({ account_id: accountId }).orderBy('created_at')).map(toInstance);
  }

  /** Any account's instance by id: for the process that runs it, never for a user's request. */
  async find(id: string): Promise<Instance | undefined> {
    const row = await this.rows.get(id);
    return row && toInstance(row);
  }

  async wanted(): Promise<Instance[]> {
    return (await this.store.instances().where({ wanted: true })).map(toInstance);
  }

  async get(accountId: string, id: string): Promise<Instance> {
    const row = await this.store.instances().where({ id, account_id: accountId }).first();
    if (!row) throw notFound('Instance');
    return toInstance(row);
  }

  async token(instance: Instance): Promise<string> {
    const row = await this.store.instances().where({ id: instance.id }).first('token_sealed');
    if (!row) throw notFound('Instance');
    return this.ctx.secrets.decrypt(row.token_sealed);
  }

  /** Instance API credentials: the caller's account must own it (else 404) and the token must match (else 403). */
  async authorize(caller: { accountId: string }, id: string, token: string): Promise<Instance> {
    const row = await this.rows.get(id);
    if (!row || row.account_id !== caller.accountId) throw notFound('Instance');
    const expected = Buffer.from(row.token_hash);
    const given = Buffer.from(sha256(token));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new HttpError(403, 'invalid_instance_token', 'The instance token is wrong. Copy it again from the instance page (it changes when rotated).');
    }
    return toInstance(row);
  }

  async update(instance: Instance, patch: InstancePatch): Promise<Instance> {
    const min = patch.delayMinMs ?? instance.delayMinMs;
    const max = patch.delayMaxMs ?? instance.delayMaxMs;
    if (min !== null && max !== null && min > max) {
      throw new HttpError(400, 'validation_failed', 'delayMinMs must not be greater than delayMaxMs.', { issues: [{ path: 'body.delayMinMs', message: 'greater than delayMaxMs' }] });
    }
    const columns = { name: patch.name, delay_min_ms: patch.delayMinMs, delay_max_ms: patch.delayMaxMs, queue_limit: patch.queueLimit, auto_read_message: patch.autoReadMessage, call_reject_auto: patch.callRejectAuto };
    if (patch.callRejectMessage !== undefined) Object.assign(columns, { call_reject_message: patch.callRejectMessage || null });
    if (patch.sendRamp !== undefined) Object.assign(columns, { ramp_limits: patch.sendRamp ? JSON.stringify(patch.sendRamp.dailyLimits) : null, ramp_started_at: patch.sendRamp?.startedAt ?? null });
    const changed = Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined));
    await this.store.instances().where({ id: instance.id }).update({ ...changed, updated_at: new Date() });
    await this.rows.drop(instance.id);
    return (await this.find(instance.id))!;
  }

  async rotateToken(instance: Instance): Promise<string> {
    const token = randomBytes(12).toString('hex').toUpperCase();
    await this.store.instances().where({ id: instance.id }).update({ token_hash: sha256(token), token_sealed: this.ctx.secrets.encrypt(token), updated_at: new Date() });
    await this.rows.drop(instance.id);
    return token;
  }

  /** Marks whether the instance should be connected (and, logged out, forgets its number). */
  async want(id: string, wanted: boolean, forgetPhone = false): Promise<void> {
    await this.store.instances().where({ id }).update({ wanted, ...(forgetPhone ? { phone: null } : {}) });
    await this.rows.drop(id);
  }

  /**
   * Records a state: on the instance, and in its history when it differs from the last entry.
   * `device` is the number and name the phone reported on connecting.
   */
  async recordState(instance: Instance, state: InstanceState, reason: string, device?: { phone: string; pushName: string | null; platform: string | null }): Promise<void> {
    const now = new Date();
    const extra = device ? { phone: device.phone, push_name: device.pushName, platform: device.platform } : {};
    await this.store.instances().where({ id: instance.id }).update({ state, state_reason: reason, updated_at: now, ...extra });
    await this.rows.drop(instance.id);
    const last = await this.store.events().where({ instance_id: instance.id }).orderBy('id', 'desc').first();
    if (!last || last.state !== state || last.reason !== reason) {
      await this.store.events().insert({ instance_id: instance.id, account_id: instance.accountId, state, reason, at: now });
    }
    Object.assign(instance, { state, stateReason: reason, ...(device ?? {}) });
  }

  /** A page of state changes: the newest `limit` (before the event `before`), oldest first; `more` when older ones exist. */
  async history(instance: Instance, page: { limit: number; before?: number }): Promise<{ rows: { id: number; state: string; reason: string; at: Date | string }[]; more: boolean }> {
    const q = this.store.events().where({ instance_id: instance.id });
    if (page.before !== undefined) q.andWhere('id', '<', page.before);
    const rows = await q.orderBy('id', 'desc').limit(page.limit + 1).select('id', 'state', 'reason', 'at');
    return { rows: rows.slice(0, page.limit).reverse(), more: rows.length > page.limit };
  }

  /** Deletes the instance with its credentials, messages, history and media (its socket is closed first by the caller). */
  async delete(instance: Instance): Promise<void> {
    await this.store.knex.transaction(async (trx) => {
      await trx('whatsapp_session_auth').where({ instance_id: instance.id }).delete();
      await trx('whatsapp_session_messages').where({ instance_id: instance.id }).delete();
      await trx('whatsapp_session_chats').where({ instance_id: instance.id }).delete();
      await trx('whatsapp_session_instance_events').where({ instance_id: instance.id }).delete();
      await trx('whatsapp_session_instances').where({ id: instance.id }).delete();
      await trx('whatsapp_session_leases').where({ instance_id: instance.id }).delete();
    });
    await this.rows.drop(instance.id);
    rmSync(path.join(this.ctx.dataDir, 'media', instance.id), { recursive: true, force: true });
    await this.ctx.events.emit('whatsapp-session.instance.deleted', { instanceId: instance.id, accountId: instance.accountId });
  }
}
