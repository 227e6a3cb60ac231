import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { HttpError, nextSeq, stableUuid, notFound, type JobHandle, type Knex, type PluginContext } from '@plugchat/core';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { EVENT_KINDS, type EventKind } from './payloads.js';
import { checkUrl, postJson, type AttemptResult } from './safeRequest.js';
import { LogChanges } from './logChanges.js';

export interface Settings {
  'webhooks.maxAttempts': number;
  'webhooks.retryBaseSeconds': number;
  'webhooks.retryMaxSeconds': number;
  'webhooks.timeoutMs': number;
  'webhooks.allowHttp': boolean;
  'webhooks.allowPrivateNetworks': boolean;
  'webhooks.failingAfter': number;
  'webhooks.publicBaseUrl': string;
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
  job_id: string | null;
}

export type DeliverJob = { deliveryId: string };

export const truthy = (v: unknown) => v === true || v === 1 || v === '1';

/** The signature a receiver recomputes: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret. */
export function sign(secret: string, timestamp: string, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at an hour. */
function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const n = Number(v);
  const s = Number.isFinite(n) ? n : (new Date(v).getTime() - Date.now()) / 1000;
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 3600) : undefined;
}

/**
 * Endpoints, the deliveries fanned out to them, and the attempts. Each delivery
 * is a database row (the log) plus a pg-boss job per attempt; retries are
 * scheduled here so Retry-After and the no-retry rules can be honoured.
 *
 * Ordering guarantee: for one endpoint, events about the same message (its
 * DeliveryCallback and status callbacks) are delivered in the order they
 * happened; a later one waits while an earlier one is pending. Events about
 * different messages may overtake each other. Delivery is at least once: a
 * receiver deduplicates by the X-PlugChat-Event-Id header.
 */
export class WebhookService {
  deliverJob?: JobHandle<DeliverJob>;

  /** Tells the live delivery log what changed. */
  readonly changes: LogChanges;

  constructor(
    private readonly knex: Knex,
    private readonly ctx: PluginContext<Settings>,
    private readonly session: WhatsAppSessionApi,
  ) {
    this.changes = new LogChanges(ctx as unknown as PluginContext);
  }

  private endpoints = () => this.knex<EndpointRow>('webhooks_endpoints');
  private deliveries = () => this.knex<DeliveryRow>('webhooks_deliveries');
  private attempts = () => this.knex('webhooks_attempts');

  private safety() {
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
    await this.endpoints().insert(row);
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
    // Resuming sends what waited while paused.
    if (patch.paused === false) for (const d of await this.deliveries().where({ endpoint_id: row.id, status: 'pending' }).orderBy('seq')) await this.schedule(d.id, 0);
    return (await this.endpoints().where({ id: row.id }).first())!;
  }

  async deleteEndpoint(row: EndpointRow) {
    await this.endpoints().where({ id: row.id }).delete();
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
  }

  // ------------------------------------------------------------------ fan-out

  /** Creates one delivery per subscribed endpoint and queues its first attempt. */
  async fanOut(instanceId: string, kind: EventKind, payload: object, opts: { orderingKey?: string; fromMe?: boolean; eventId?: string } = {}) {
    const targets = (await this.endpoints().where({ instance_id: instanceId })).filter((e) => {
      const events = JSON.parse(e.events) as string[];
      if (!events.includes(kind)) return false;
      return !(kind === 'received' && opts.fromMe && !truthy(e.notify_sent_by_me));
    });
    for (const e of targets) await this.fanOutTo(e, kind, payload, opts.orderingKey, opts.eventId);
  }

  /**
   * One delivery to one endpoint. With a source event id the delivery id is derived from it,
   * so an event emitted again after a crash does not create a second delivery.
   */
  async fanOutTo(e: EndpointRow, kind: string, payload: object, orderingKey?: string, eventId?: string) {
    const id = eventId ? stableUuid(`${eventId}:${e.id}:${kind}`) : randomUUID();
    if (eventId && (await this.deliveries().where({ id }).first())) return;
    await this.deliveries().insert({
      id,
      account_id: e.account_id,
      instance_id: e.instance_id,
      endpoint_id: e.id,
      event_type: kind,
      payload: JSON.stringify(payload),
      ordering_key: orderingKey ?? null,
      seq: nextSeq(),
      status: 'pending',
      attempts: 0,
      last_status_code: null,
      last_error: null,
      created_at: new Date(),
      delivered_at: null,
      next_attempt_at: null,
      lease_until: null,
      job_id: null,
    });
    this.changes.mark(e.instance_id);
    if (!truthy(e.paused)) await this.schedule(id, 0);
  }

  private async schedule(deliveryId: string, afterSeconds: number) {
    const at = new Date(Date.now() + afterSeconds * 1000);
    const jobId = await this.deliverJob!.send({ deliveryId }, afterSeconds > 0 ? { startAfterSeconds: afterSeconds } : {});
    await this.deliveries().where({ id: deliveryId }).update({ next_attempt_at: at, job_id: jobId });
  }

  /**
   * At start: a pending delivery whose job did not survive the last process (it was running when
   * the process died, or the embedded queue lost it in a SIGKILL) would wait for the queue's job
   * expiry, or for ever. Those are attempted again shortly; the others keep the retry the queue holds
   * for them. One that was in fact sent may go out twice, with the same event id (at least once).
   */
  async resumeDue(): Promise<number> {
    const pending = await this.deliveries().where({ status: 'pending' }).orderBy('seq').limit(10_000).select('id', 'endpoint_id', 'job_id');
    const paused = new Set((await this.endpoints().whereIn('id', [...new Set(pending.map((d) => d.endpoint_id))]).select('id', 'paused')).filter((e) => truthy(e.paused)).map((e) => e.id));
    let n = 0;
    for (const d of pending) {
      if (paused.has(d.endpoint_id)) continue;
      const state = d.job_id ? await this.deliverJob!.state(d.job_id) : undefined;
      if (state === 'created' || state === 'retry') continue;
      // A few seconds' grace: the process settles and a receiver back from an outage is not hit at once.
      await this.schedule(d.id, 3);
      n++;
    }
    return n;
  }

  // ------------------------------------------------------------------ delivery

  /** One attempt; the job handler. */
  async attempt(deliveryId: string): Promise<void> {
    const d = await this.deliveries().where({ id: deliveryId }).first();
    if (!d || d.status !== 'pending') return;
    const e = await this.endpoints().where({ id: d.endpoint_id }).first();
    if (!e) {
      await this.deliveries().where({ id: d.id }).update({ status: 'dead', last_error: 'the endpoint was deleted' });
      return;
    }
    if (truthy(e.paused)) return; // resumed later by updateEndpoint
    if (d.ordering_key) {
      const earlier = await this.deliveries().where({ endpoint_id: e.id, ordering_key: d.ordering_key, status: 'pending' }).andWhere('seq', '<', d.seq).first();
      if (earlier) return this.schedule(d.id, 1);
    }
    // One attempt at a time per delivery: a job left by a crashed process and the one resumed at
    // start must not both post it. Whoever finds the lease held tries again when it runs out.
    const timeoutMs = this.ctx.settings.get('webhooks.timeoutMs');
    const now = Date.now();
    const claimed = await this.deliveries()
      .where({ id: d.id, status: 'pending' })
      .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', new Date(now)))
      .update({ lease_until: new Date(now + timeoutMs + 5_000) });
    if (!claimed) {
      const held = await this.deliveries().where({ id: d.id }).first();
      const until = held?.lease_until ? new Date(held.lease_until as string).getTime() : now;
      if (held?.status === 'pending') await this.deliverJob!.send({ deliveryId: d.id }, { startAfterSeconds: Math.max(0.5, (until - now) / 1000 + 0.5) });
      return;
    }
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      ...this.headersOf(e),
      'x-plugchat-event-id': d.id,
      'x-plugchat-event-type': d.event_type,
      'x-plugchat-timestamp': timestamp,
      'x-plugchat-signature': sign(this.secretOf(e), timestamp, d.payload),
    };
    const result = await postJson(e.url, d.payload, headers, { ...this.safety(), timeoutMs });
    const attempt = d.attempts + 1;
    await this.attempts().insert({
      delivery_id: d.id,
      attempt,
      at: new Date(),
      status_code: result.status ?? null,
      latency_ms: result.latencyMs,
      response_excerpt: result.excerpt ? result.excerpt.slice(0, 1024) : null,
      error: result.error ? result.error.slice(0, 500) : null,
    });
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    if (ok) {
      await this.deliveries().where({ id: d.id }).update({ status: 'delivered', attempts: attempt, last_status_code: result.status, last_error: null, delivered_at: new Date(), lease_until: null });
      this.changes.mark(d.instance_id);
      if (e.consecutive_failures || truthy(e.failing)) {
        await this.endpoints().where({ id: e.id }).update({ consecutive_failures: 0, failing: false });
        // The receiver is back: what waited for a later retry goes now, not after its backoff.
        const waiting = await this.deliveries().where({ endpoint_id: e.id, status: 'pending' }).andWhere('next_attempt_at', '>', new Date()).orderBy('seq').limit(10_000).select('id');
        for (const w of waiting) await this.schedule(w.id, 0);
      }
      return;
    }
    await this.onFailure(d, e, attempt, result);
  }

  private async onFailure(d: DeliveryRow, e: EndpointRow, attempt: number, result: AttemptResult) {
    const status = result.status;
    const error = result.error ?? `HTTP ${status}`;
    const retryable = status === undefined ? !(result.error ?? '').startsWith('URL ') && !(result.error ?? '').includes('private address') : status >= 500 || status === 408 || status === 429;
    const max = this.ctx.settings.get('webhooks.maxAttempts');
    let next: 'pending' | 'failed' | 'dead' = 'pending';
    if (!retryable) next = 'failed';
    else if (attempt >= max) next = 'dead';
    await this.deliveries().where({ id: d.id }).update({ status: next, attempts: attempt, last_status_code: status ?? null, last_error: error.slice(0, 500), lease_until: null });
    this.changes.mark(d.instance_id);
    const failures = e.consecutive_failures + 1;
    const failing = failures >= this.ctx.settings.get('webhooks.failingAfter');
    await this.endpoints().where({ id: e.id }).update({ consecutive_failures: failures, failing });
    if (failing && !truthy(e.failing)) {
      await this.ctx.events.emit('webhooks.endpoint.failing', { endpointId: e.id, instanceId: e.instance_id, accountId: e.account_id, url: e.url, consecutiveFailures: failures });
    }
    if (next === 'dead') await this.ctx.events.emit('webhooks.delivery.dead', { deliveryId: d.id, endpointId: e.id, instanceId: e.instance_id, accountId: e.account_id, attempts: attempt, error });
    if (next !== 'pending') return;
    const base = this.ctx.settings.get('webhooks.retryBaseSeconds');
    const backoff = Math.min(this.ctx.settings.get('webhooks.retryMaxSeconds'), base * 2 ** (attempt - 1));
    const wait = retryAfterSeconds(status === 429 || status === 503 ? result.headers?.['retry-after'] : undefined) ?? backoff / 2 + Math.random() * (backoff / 2);
    await this.schedule(d.id, wait);
  }

  // ------------------------------------------------------------------ the log

  async listDeliveries(accountId: string, filter: { endpointId?: string; instanceId?: string; status?: string; eventType?: string; limit: number; before?: number }) {
    const q = this.deliveries().where({ account_id: accountId });
    if (filter.endpointId) q.andWhere({ endpoint_id: filter.endpointId });
    if (filter.instanceId) q.andWhere({ instance_id: filter.instanceId });
    if (filter.status) q.andWhere({ status: filter.status as DeliveryRow['status'] });
    if (filter.eventType) q.andWhere({ event_type: filter.eventType });
    if (filter.before) q.andWhere('seq', '<', filter.before);
    return q.orderBy('seq', 'desc').limit(filter.limit);
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
    await this.deliveries().where({ id }).update({ status: 'pending' });
    this.changes.mark(d.instance_id);
    await this.schedule(id, 0);
  }

  async redeliverFailed(accountId: string, endpointId: string): Promise<number> {
    const rows = await this.deliveries().where({ account_id: accountId, endpoint_id: endpointId }).whereIn('status', ['failed', 'dead']).orderBy('seq');
    for (const d of rows) {
      await this.deliveries().where({ id: d.id }).update({ status: 'pending' });
      this.changes.mark(d.instance_id);
      await this.schedule(d.id, 0);
    }
    return rows.length;
  }

  kinds() {
    return EVENT_KINDS;
  }
}
