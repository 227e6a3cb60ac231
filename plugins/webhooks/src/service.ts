import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { ClusterCache, GroupCommit, HttpError, insertAll, nextSeq, stableUuid, notFound, type Knex, type PluginContext } from '@plugchat/core';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { EVENT_KINDS, type EventKind } from './payloads.js';
import { checkUrl } from './safeRequest.js';
import { Dispatcher } from './dispatcher.js';
import { LogChanges } from './logChanges.js';
import { LogPages, type LogFilter } from './logPages.js';

export interface Settings {
  'webhooks.maxAttempts': number;
  'webhooks.retryBaseSeconds': number;
  'webhooks.retryMaxSeconds': number;
  'webhooks.timeoutMs': number;
  'webhooks.allowHttp': boolean;
  'webhooks.allowPrivateNetworks': boolean;
  'webhooks.failingAfter': number;
  'webhooks.publicBaseUrl': string;
  'webhooks.logDays': number;
}

export interface EndpointRow {
  id: string;
  account_id: string;
  instance_id: string;
  url: string;
  events: string;
  headers_sealed: string | null;
  secret_sealed: string;
  source: 'native' | 'zapi';
  zapi_kind: string | null;
  notify_sent_by_me: boolean | number;
  paused: boolean | number;
  failing: boolean | number;
  consecutive_failures: number;
  created_at: Date | string | number;
  updated_at: Date | string | number;
}

export interface DeliveryRow {
  id: string;
  account_id: string;
  instance_id: string;
  endpoint_id: string;
  event_type: string;
  payload: string;
  ordering_key: string | null;
  seq: number | string;
  status: 'pending' | 'delivered' | 'failed' | 'dead';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date | string | number;
  delivered_at: Date | string | number | null;
  next_attempt_at: Date | string | number | null;
  lease_until: Date | string | number | null;
  lease_owner: string | null;
}

export type FanOutOptions = { orderingKey?: string; fromMe?: boolean; eventId?: string };

export const truthy = (v: unknown) => v === true || v === 1 || v === '1';

/** The signature a receiver recomputes: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret. */
export function sign(secret: string, timestamp: string, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * Endpoints, the deliveries fanned out to them, and the log. Each delivery is a
 * database row, written with others in one transaction; the dispatcher
 * (dispatcher.ts) claims due rows, posts them and schedules retries.
 *
 * Ordering guarantee: for one endpoint, events about the same message (its
 * DeliveryCallback and status callbacks) are delivered in the order they
 * happened; a later one waits while an earlier one is pending. Events about
 * different messages may overtake each other. Delivery is at least once: a
 * receiver deduplicates by the X-PlugChat-Event-Id header.
 */
export class WebhookService {
  /** Tells the live delivery log what changed. */
  readonly changes: LogChanges;
  readonly dispatcher: Dispatcher;
  /** An instance's endpoints, read once and dropped when any of them changes (in any process). */
  private readonly byInstance: ClusterCache<{ e: EndpointRow; kinds: Set<string> }[]>;
  private readonly inserts: GroupCommit<Record<string, unknown>>;
  private readonly log: LogPages;

  constructor(
    private readonly knex: Knex,
    private readonly ctx: PluginContext<Settings>,
    private readonly session: WhatsAppSessionApi,
  ) {
    this.changes = new LogChanges(ctx as unknown as PluginContext);
    this.dispatcher = new Dispatcher(knex, ctx, this);
    this.log = new LogPages(knex);
    // Deliveries of events fanned out at the same moment share one insert; a replayed event's id is already there and is skipped.
    this.inserts = new GroupCommit((rows) => insertAll(this.knex, 'webhooks_deliveries', rows, { chunk: 200, ignoreConflictOn: 'id' }));
    this.byInstance = new ClusterCache(ctx.cluster, 'webhooks.endpoints-changed', async (instanceId) =>
      (await this.endpoints().where({ instance_id: instanceId })).map((e) => ({ e, kinds: new Set(JSON.parse(e.events) as string[]) })),
    );
    ctx.subscriptions.push(this.byInstance);
  }

  /** Endpoints changed: this process forgets them now, the others within milliseconds. */
  private changed(instanceId: string) {
    void this.byInstance.drop(instanceId);
  }

  private endpointsOf(instanceId: string) {
    return this.byInstance.get(instanceId);
  }

  private endpoints = () => this.knex<EndpointRow>('webhooks_endpoints');
  private deliveries = () => this.knex<DeliveryRow>('webhooks_deliveries');
  private attempts = () => this.knex('webhooks_attempts');

  safety() {
    return { allowHttp: this.ctx.settings.get('webhooks.allowHttp'), allowPrivateNetworks: this.ctx.settings.get('webhooks.allowPrivateNetworks') };
  }

  /** 400 naming the field when a URL may not be used. */
  assertUrl(url: string, field = 'url') {
    const why = checkUrl(url, this.safety());
    if (why) throw new HttpError(400, 'invalid_webhook_url', `The webhook URL ${why}.`, { issues: [{ path: `body.${field}`, message: why }] });
  }

  // ------------------------------------------------------------------ endpoints

  async createEndpoint(accountId: string, input: { instanceId: string; url: string; events: EventKind[]; headers?: Record<string, string>; secret?: string; notifySentByMe?: boolean; source?: 'native' | 'zapi'; zapiKind?: string }) {
    this.assertUrl(input.url);
    const secret = input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
    const now = new Date();
    const row = {
      id: randomUUID(),
      account_id: accountId,
      instance_id: input.instanceId,
      url: input.url,
      events: JSON.stringify(input.events),
      headers_sealed: input.headers && Object.keys(input.headers).length ? this.ctx.secrets.encrypt(JSON.stringify(input.headers)) : null,
      secret_sealed: this.ctx.secrets.encrypt(secret),
      source: input.source ?? 'native',
      zapi_kind: input.zapiKind ?? null,
      notify_sent_by_me: !!input.notifySentByMe,
      paused: false,
      failing: false,
      consecutive_failures: 0,
      created_at: now,
      updated_at: now,
    };
    // The endpoint first: the prune forgets only instances without one (retention.ts).
    await this.endpoints().insert(row);
    await this.log.remember(accountId, input.instanceId);
    this.changed(input.instanceId);
    return { row: (await this.endpoints().where({ id: row.id }).first())!, secret };
  }

  async getEndpoint(accountId: string, id: string): Promise<EndpointRow> {
    const row = await this.endpoints().where({ id, account_id: accountId }).first();
    if (!row) throw notFound('Webhook endpoint');
    return row;
  }

  listEndpoints(accountId: string, instanceId?: string) {
    const q = this.endpoints().where({ account_id: accountId });
    if (instanceId) q.andWhere({ instance_id: instanceId });
    return q.orderBy('created_at');
  }

  secretOf(row: EndpointRow) {
    return this.ctx.secrets.decrypt(row.secret_sealed);
  }

  headersOf(row: EndpointRow): Record<string, string> {
    return row.headers_sealed ? JSON.parse(this.ctx.secrets.decrypt(row.headers_sealed)) : {};
  }

  async updateEndpoint(row: EndpointRow, patch: { url?: string; events?: EventKind[]; headers?: Record<string, string>; paused?: boolean; notifySentByMe?: boolean }) {
    if (patch.url) this.assertUrl(patch.url);
    await this.endpoints()
      .where({ id: row.id })
      .update({
        ...(patch.url ? { url: patch.url } : {}),
        ...(patch.events ? { events: JSON.stringify(patch.events) } : {}),
        ...(patch.headers ? { headers_sealed: Object.keys(patch.headers).length ? this.ctx.secrets.encrypt(JSON.stringify(patch.headers)) : null } : {}),
        ...(patch.notifySentByMe !== undefined ? { notify_sent_by_me: patch.notifySentByMe } : {}),
        ...(patch.paused !== undefined ? { paused: patch.paused, ...(patch.paused ? {} : { failing: false, consecutive_failures: 0 }) } : {}),
        updated_at: new Date(),
      });
    this.changed(row.instance_id);
    // Resuming sends what waited while paused, at once.
    if (patch.paused === false) {
      await this.deliveries().where({ endpoint_id: row.id, status: 'pending' }).update({ next_attempt_at: new Date() });
      this.dispatcher.poke();
    }
    return (await this.endpoints().where({ id: row.id }).first())!;
  }

  async deleteEndpoint(row: EndpointRow) {
    await this.knex.transaction(async (trx) => {
      await trx('webhooks_endpoints').where({ id: row.id }).delete();
      await trx('webhooks_deliveries').where({ endpoint_id: row.id, status: 'pending' }).update({ status: 'dead', last_error: 'the endpoint was deleted', lease_until: null, lease_owner: null });
    });
    this.changed(row.instance_id);
    this.changes.mark(row.instance_id);
  }

  /** The Z-API routes keep one endpoint per kind and instance; an empty URL removes it. */
  async setZapiEndpoint(accountId: string, instanceId: string, kind: string, url: string, opts: { notifySentByMe?: boolean } = {}) {
    const events: EventKind[] = kind === 'received-delivery' ? ['received'] : [kind as EventKind];
    const existing = await this.endpoints().where({ account_id: accountId, instance_id: instanceId, source: 'zapi', zapi_kind: kind }).first();
    if (!url) {
      if (existing) await this.deleteEndpoint(existing);
      return;
    }
    const notify = kind === 'received-delivery' ? true : opts.notifySentByMe;
    if (existing) await this.updateEndpoint(existing, { url, events, ...(notify !== undefined ? { notifySentByMe: notify } : {}) });
    else await this.createEndpoint(accountId, { instanceId, url, events, source: 'zapi', zapiKind: kind, notifySentByMe: notify });
  }

  async setNotifySentByMe(accountId: string, instanceId: string, value: boolean) {
    await this.endpoints().where({ account_id: accountId, instance_id: instanceId, source: 'zapi' }).whereIn('zapi_kind', ['received', 'received-delivery']).update({ notify_sent_by_me: value });
    this.changed(instanceId);
  }

  // ------------------------------------------------------------------ fan-out

  /** Creates one delivery per subscribed endpoint; the dispatcher posts it. */
  fanOut(instanceId: string, kind: EventKind, payload: object, opts: FanOutOptions = {}) {
    return this.fanOutMany([{ instanceId, kind, payload, opts }]);
  }

  /** Fans out a run of events with one write (the rows keep the run's order). */
  async fanOutMany(events: { instanceId: string; kind: EventKind; payload: object; opts?: FanOutOptions }[]) {
    const rows: ReturnType<WebhookService['deliveryRow']>[] = [];
    for (const { instanceId, kind, payload, opts = {} } of events) {
      const targets = (await this.endpointsOf(instanceId)).filter(({ e, kinds }) => kinds.has(kind) && !(kind === 'received' && opts.fromMe && !truthy(e.notify_sent_by_me)));
      if (!targets.length) continue;
      const body = JSON.stringify(payload);
      for (const { e } of targets) rows.push(this.deliveryRow(e, kind, body, opts.orderingKey, opts.eventId));
    }
    if (!rows.length) return;
    await Promise.all(rows.map((r) => this.inserts.add(r)));
    for (const instanceId of new Set(rows.map((r) => r.instance_id))) this.changes.mark(instanceId);
    this.dispatcher.poke();
  }

  /** One delivery to one endpoint (the endpoint's test event). */
  async fanOutTo(e: EndpointRow, kind: string, payload: object) {
    await this.inserts.add(this.deliveryRow(e, kind, JSON.stringify(payload)));
    this.changes.mark(e.instance_id);
    this.dispatcher.poke();
  }

  /**
   * With a source event id the delivery id is derived from it, so an event emitted again after a
   * crash does not create a second delivery.
   */
  private deliveryRow(e: EndpointRow, kind: string, payload: string, orderingKey?: string, eventId?: string) {
    const now = new Date();
    return {
      id: eventId ? stableUuid(`${eventId}:${e.id}:${kind}`) : randomUUID(),
      account_id: e.account_id,
      instance_id: e.instance_id,
      endpoint_id: e.id,
      event_type: kind,
      payload,
      ordering_key: orderingKey ?? null,
      seq: nextSeq(),
      status: 'pending',
      attempts: 0,
      created_at: now,
      next_attempt_at: now,
    };
  }

  // ------------------------------------------------------------------ the log

  async listDeliveries(accountId: string, filter: LogFilter) {
    let instanceId = filter.instanceId;
    // An endpoint's page is read from its instance's newest (the index the log has); a deleted endpoint's, from the account's.
    if (filter.endpointId && !instanceId) instanceId = (await this.endpoints().where({ id: filter.endpointId, account_id: accountId }).first('instance_id'))?.instance_id;
    return this.log.page(accountId, filter, instanceId);
  }

  async getDelivery(accountId: string, id: string) {
    const d = await this.deliveries().where({ id, account_id: accountId }).first();
    if (!d) throw notFound('Delivery');
    const attempts = await this.attempts().where({ delivery_id: id }).orderBy('attempt');
    return { d, attempts };
  }

  async redeliver(accountId: string, id: string) {
    const { d } = await this.getDelivery(accountId, id);
    if (d.status === 'pending') throw new HttpError(409, 'already_pending', 'This delivery is still being attempted.');
    await this.deliveries().where({ id }).update({ status: 'pending', next_attempt_at: new Date() });
    this.changes.mark(d.instance_id);
    this.dispatcher.poke();
  }

  async redeliverFailed(accountId: string, endpointId: string): Promise<number> {
    const rows = await this.deliveries().where({ account_id: accountId, endpoint_id: endpointId }).whereIn('status', ['failed', 'dead']).update({ status: 'pending', next_attempt_at: new Date() }).returning('instance_id');
    for (const instanceId of new Set(rows.map((r: { instance_id: string }) => r.instance_id))) this.changes.mark(instanceId);
    this.dispatcher.poke();
    return rows.length;
  }

  kinds() {
    return EVENT_KINDS;
  }
}
