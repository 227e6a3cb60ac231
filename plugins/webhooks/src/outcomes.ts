import type { Knex, PluginContext } from '@plugchat/core';
import type { AttemptResult } from './safeRequest.js';
import { truthy, type DeliveryRow, type EndpointRow, type Settings } from './service.js';

/** A delivery's attempt, posted and waiting to be recorded. */
export interface Done {
  d: DeliveryRow;
  /** Missing when the endpoint was deleted after the claim. */
  e?: EndpointRow;
  result: AttemptResult;
  at: Date;
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at an hour. */
function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const n = Number(v);
  const s = Number.isFinite(n) ? n : (new Date(v).getTime() - Date.now()) / 1000;
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 3600) : undefined;
}

const ok = (r: AttemptResult) => r.status !== undefined && r.status >= 200 && r.status < 300;

/**
 * Records a batch of attempts in the caller's transaction: each attempt logged, successes
 * delivered (one statement per status code), an endpoint that answers again freed of its
 * backoff, failures retried, failed or dead. Answers the events to emit once it commits.
 */
export async function recordOutcomes(trx: Knex.Transaction, batch: Done[], ctx: PluginContext<Settings>): Promise<(() => Promise<unknown>)[]> {
  const after: (() => Promise<unknown>)[] = [];
  const attempts = batch
    .filter((b) => b.e)
    .map(({ d, result, at }) => ({
      delivery_id: d.id,
      attempt: d.attempts + 1,
      at,
      status_code: result.status ?? null,
      latency_ms: result.latencyMs,
      response_excerpt: result.excerpt ? result.excerpt.slice(0, 1024) : null,
      error: result.error ? result.error.slice(0, 500) : null,
    }));
  for (let i = 0; i < attempts.length; i += 500) await trx('webhooks_attempts').insert(attempts.slice(i, i + 500));

  // Successes, one statement per status code.
  const answered = batch.filter((b): b is Done & { e: EndpointRow } => !!b.e && ok(b.result));
  const byCode = new Map<number, string[]>();
  for (const b of answered) {
    const ids = byCode.get(b.result.status!) ?? [];
    ids.push(b.d.id);
    byCode.set(b.result.status!, ids);
  }
  const now = new Date();
  for (const [code, ids] of byCode) {
    for (let i = 0; i < ids.length; i += 500) {
      await trx('webhooks_deliveries')
        .whereIn('id', ids.slice(i, i + 500))
        .update({ status: 'delivered', attempts: trx.raw('attempts + 1'), last_status_code: code, last_error: null, delivered_at: now, lease_until: null, lease_owner: null });
    }
  }
  // An endpoint that had been failing (as read at the claim) is back: what waited for a later retry goes now.
  const back = [...new Set(answered.filter((b) => b.e.consecutive_failures || truthy(b.e.failing)).map((b) => b.e.id))];
  if (back.length) {
    await trx('webhooks_endpoints').whereIn('id', back).update({ consecutive_failures: 0, failing: false });
    await trx('webhooks_deliveries').whereIn('endpoint_id', back).andWhere({ status: 'pending' }).andWhere('next_attempt_at', '>', now).update({ next_attempt_at: now });
  }

  for (const b of batch) if (!b.e || !ok(b.result)) after.push(...(await recordFailure(trx, b, ctx)));
  return after;
}

/** A failed attempt: retried with backoff (or Retry-After), failed when not retryable, dead after the last. */
async function recordFailure(trx: Knex.Transaction, { d, e, result }: Done, ctx: PluginContext<Settings>): Promise<(() => Promise<unknown>)[]> {
  const after: (() => Promise<unknown>)[] = [];
  const status = result.status;
  const error = result.error ?? `HTTP ${status}`;
  const clear = { lease_until: null, lease_owner: null };
  if (!e) {
    await trx('webhooks_deliveries').where({ id: d.id }).update({ status: 'dead', last_error: error, ...clear });
    return after;
  }
  const retryable = status === undefined ? !error.startsWith('URL ') && !error.includes('private address') : status >= 500 || status === 408 || status === 429;
  const attempt = d.attempts + 1;
  const max = ctx.settings.get('webhooks.maxAttempts');
  const next: 'pending' | 'failed' | 'dead' = !retryable ? 'failed' : attempt >= max ? 'dead' : 'pending';
  let nextAt: Date | null = null;
  if (next === 'pending') {
    const base = ctx.settings.get('webhooks.retryBaseSeconds');
    const backoff = Math.min(ctx.settings.get('webhooks.retryMaxSeconds'), base * 2 ** (attempt - 1));
    const wait = retryAfterSeconds(status === 429 || status === 503 ? result.headers?.['retry-after'] : undefined) ?? backoff / 2 + Math.random() * (backoff / 2);
    nextAt = new Date(Date.now() + wait * 1000);
  }
  await trx('webhooks_deliveries')
    .where({ id: d.id })
    .update({ status: next, attempts: attempt, last_status_code: status ?? null, last_error: error.slice(0, 500), next_attempt_at: nextAt, ...clear });
  // Counted in the database, as several processes may fail on one endpoint at once; the event goes once, as it crosses the line.
  const [{ consecutive_failures: failures }] = await trx('webhooks_endpoints').where({ id: e.id }).update({ consecutive_failures: trx.raw('consecutive_failures + 1') }).returning('consecutive_failures');
  if (failures === ctx.settings.get('webhooks.failingAfter')) {
    await trx('webhooks_endpoints').where({ id: e.id }).update({ failing: true });
    after.push(() => ctx.events.emit('webhooks.endpoint.failing', { endpointId: e.id, instanceId: e.instance_id, accountId: e.account_id, url: e.url, consecutiveFailures: failures }));
  }
  if (next === 'dead') after.push(() => ctx.events.emit('webhooks.delivery.dead', { deliveryId: d.id, endpointId: e.id, instanceId: e.instance_id, accountId: e.account_id, attempts: attempt, error }));
  return after;
}
