import type { Knex, PluginContext } from '@plugchat/core';
import type { Pool } from 'undici';
import { postJson, safePool, type AttemptResult } from './safeRequest.js';
import { recordOutcomes, type Done } from './outcomes.js';
import { sign, type DeliveryRow, type EndpointRow, type Settings, type WebhookService } from './service.js';

/** Posts in flight in one process, and to one endpoint (its keep-alive connections). */
const MAX_IN_FLIGHT = 256;
const MAX_PER_ENDPOINT = 32;
/** How often an idle process looks for retries that came due (a new delivery wakes it at once). */
const IDLE_POLL_MS = 250;
/**
 * A wake-up, and the recording of outcomes, wait this long for more to arrive: a burst is then
 * claimed and recorded in a few statements, not a handful per delivery, which on the embedded
 * database's one connection would queue ahead of the writes that create deliveries.
 */
const GATHER_MS = 10;
/**
 * The predicate of the queue's partial indexes (migration 0005), written as a literal: a bound
 * parameter would keep SQLite's planner from using them.
 */
const PENDING = "status = 'pending'";

/**
 * The delivery loop: the pending rows are the queue. Each process claims due deliveries in
 * batches (a lease on the row, so no two processes post one at once), posts them over
 * keep-alive connections per endpoint, and records the outcomes of many attempts in one
 * transaction. A delivery with an ordering key is not claimed while an earlier one with the same
 * key is pending for its endpoint, so a message's callbacks arrive in the order they happened.
 * A process that dies leaves leases that its successor (or, on PostgreSQL, the survivors)
 * releases; what it had posted goes again with the same event id (at least once).
 */
export class Dispatcher {
  private inFlight = 0;
  private readonly perEndpoint = new Map<string, number>();
  /** Each endpoint's connections, made for its origin and the safety settings in force. */
  private readonly pools = new Map<string, { key: string; pool: Pool }>();
  private readonly secrets = new Map<string, { version: string; secret: string; headers: Record<string, string> }>();
  private done: Done[] = [];
  private flushing?: Promise<void>;
  private running = false;
  private wake?: () => void;
  private woken = false;
  private loop?: Promise<void>;

  constructor(
    private readonly knex: Knex,
    private readonly ctx: PluginContext<Settings>,
    private readonly svc: WebhookService,
  ) {}

  /** Whether deliveries live in PostgreSQL (several processes may claim at once). */
  private get pg(): boolean {
    return this.ctx.db.kind === 'postgresql';
  }

  private get timeoutMs() {
    return this.ctx.settings.get('webhooks.timeoutMs');
  }

  /** Starts the loop after releasing the leases of processes that are gone. */
  async start(): Promise<void> {
    await this.releaseDeadLeases();
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops claiming and records the posts that finish within two seconds; the others keep their
   * lease, which the next start releases, and go again.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    const until = Date.now() + 2_000;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    clearTimeout(this.flushTimer);
    await this.flush();
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.destroy()));
    this.pools.clear();
  }

  /** Something may be due now (a new delivery, a resumed endpoint, an outcome that unblocks a successor). */
  poke(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Leases held by processes that are no longer live are released, so their deliveries go again now. */
  async releaseDeadLeases(): Promise<number> {
    const live = (await this.ctx.cluster.liveNodes()).map((n) => n.id);
    const n = await this.knex('webhooks_deliveries').whereRaw(PENDING).whereNotNull('lease_owner').whereNotIn('lease_owner', live.length ? live : ['-']).update({ lease_until: null, lease_owner: null });
    if (n) this.poke();
    return n;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      const room = MAX_IN_FLIGHT - this.inFlight;
      if (room > 0) {
        try {
          claimed = await this.claimAndPost(room);
        } catch (err) {
          this.ctx.logger.error({ err }, 'webhook dispatcher could not claim deliveries; trying again shortly');
        }
      }
      // A full batch means more is due: go on at once. Otherwise wait for a poke or the poll, then a
      // moment more so what arrives together is claimed together.
      if (claimed > 0 && claimed === room) continue;
      if (!this.woken) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, IDLE_POLL_MS);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
      this.woken = false;
      if (this.running) await new Promise((r) => setTimeout(r, GATHER_MS));
    }
  }

  private async claimAndPost(limit: number): Promise<number> {
    const busy = [...this.perEndpoint].filter(([, n]) => n >= MAX_PER_ENDPOINT).map(([id]) => id);
    const rows = await this.claim(limit, busy);
    if (!rows.length) return 0;
    const ids = [...new Set(rows.map((d) => d.endpoint_id))];
    const endpoints = new Map((await this.knex<EndpointRow>('webhooks_endpoints').whereIn('id', ids)).map((e) => [e.id, e]));
    for (const d of rows) {
      const e = endpoints.get(d.endpoint_id);
      if (!e) {
        this.done.push({ d, result: { error: 'the endpoint was deleted', latencyMs: 0 }, at: new Date() });
        continue;
      }
      this.inFlight++;
      this.perEndpoint.set(e.id, (this.perEndpoint.get(e.id) ?? 0) + 1);
      void this.post(d, e).then((result) => {
        this.inFlight--;
        const left = this.perEndpoint.get(e.id)! - 1;
        if (left) this.perEndpoint.set(e.id, left);
        else this.perEndpoint.delete(e.id);
        this.done.push({ d, e, result, at: new Date() });
        this.flushSoon();
      });
    }
    this.flushSoon();
    return rows.length;
  }

  /** Leases up to `limit` due deliveries of live endpoints, oldest due first. */
  private async claim(limit: number, busy: string[]): Promise<DeliveryRow[]> {
    const k = this.knex;
    const now = new Date();
    const pg = this.pg;
    const due = k('webhooks_deliveries as d')
      .join('webhooks_endpoints as e', 'e.id', 'd.endpoint_id')
      .whereRaw(`d.${PENDING}`)
      .andWhere('e.paused', false)
      .andWhere('d.next_attempt_at', '<=', now)
      .andWhere((q) => q.whereNull('d.lease_until').orWhere('d.lease_until', '<', now))
      .andWhere((q) =>
        q.whereNull('d.ordering_key').orWhereNotExists(
          k('webhooks_deliveries as p').select(k.raw('1')).whereRaw(`p.endpoint_id = d.endpoint_id and p.ordering_key = d.ordering_key and p.seq < d.seq and p.${PENDING}`),
        ),
      )
      .orderBy('d.next_attempt_at')
      .limit(limit)
      .select('d.id');
    if (busy.length) due.whereNotIn('d.endpoint_id', busy);
    // Several processes claim from one table: each takes rows the others have not locked.
    if (pg) due.forUpdate('d').skipLocked();
    // Long enough for the last of a full claim to one endpoint to wait its turn for a connection
    // (the pool's queue) and run to its timeout; a dead process's leases are released anyway.
    const lease = this.timeoutMs * Math.ceil(MAX_IN_FLIGHT / MAX_PER_ENDPOINT) + 5_000;
    const leased = { lease_until: new Date(now.getTime() + lease), lease_owner: this.ctx.cluster.nodeId };
    const take = (db: Knex): Promise<DeliveryRow[]> => db('webhooks_deliveries').whereIn('id', due).update(leased).returning('*');
    // The claim walks the due index in order and stops at its batch: a millisecond. Statistics of a
    // table that grew faster than autovacuum looks (a burst on a quiet database) make PostgreSQL
    // read and sort every pending row instead, tens of milliseconds a claim; the plan is pinned.
    const rows = pg
      ? await k.transaction(async (trx) => {
          await trx.raw('set local enable_bitmapscan = off; set local enable_seqscan = off; set local synchronous_commit = off');
          return take(trx);
        })
      : await take(k);
    // Claimed in one statement; posted in the order they became due.
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
  }

  private poolFor(e: EndpointRow): Pool {
    const { origin } = new URL(e.url);
    const { allowPrivateNetworks } = this.svc.safety();
    const timeoutMs = this.timeoutMs;
    const key = `${origin} ${allowPrivateNetworks} ${timeoutMs}`;
    const hit = this.pools.get(e.id);
    if (hit?.key === key) return hit.pool;
    // The URL or a setting changed: posts under way finish on the old connections, which then close.
    if (hit) void hit.pool.close();
    const pool = safePool(origin, { allowPrivateNetworks, connections: MAX_PER_ENDPOINT, timeoutMs });
    this.pools.set(e.id, { key, pool });
    return pool;
  }

  /** The endpoint's secret and headers, decrypted once per version of the endpoint. */
  private sealed(e: EndpointRow) {
    const version = String(new Date(e.updated_at as string).getTime());
    const hit = this.secrets.get(e.id);
    if (hit?.version === version) return hit;
    const fresh = { version, secret: this.svc.secretOf(e), headers: this.svc.headersOf(e) };
    this.secrets.set(e.id, fresh);
    return fresh;
  }

  private async post(d: DeliveryRow, e: EndpointRow): Promise<AttemptResult> {
    try {
      const { secret, headers } = this.sealed(e);
      const timestamp = String(Math.floor(Date.now() / 1000));
      return await postJson(
        e.url,
        d.payload,
        {
          ...headers,
          'x-plugchat-event-id': d.id,
          'x-plugchat-event-type': d.event_type,
          'x-plugchat-timestamp': timestamp,
          'x-plugchat-signature': sign(secret, timestamp, d.payload),
        },
        { ...this.svc.safety(), timeoutMs: this.timeoutMs, pool: this.poolFor(e) },
      );
    } catch (err) {
      return { error: (err as Error).message, latencyMs: 0 };
    }
  }

  private flushTimer?: NodeJS.Timeout;

  private flushSoon(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, GATHER_MS);
  }

  /** Records the outcomes gathered so far; one flush at a time, each in one transaction. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      while (this.done.length) {
        const batch = this.done.splice(0);
        try {
          await this.record(batch);
        } catch (err) {
          // The leases run out and the deliveries go again: at least once.
          this.ctx.logger.error({ err, deliveries: batch.length }, 'could not record webhook attempts; they will be retried when their lease ends');
        }
      }
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async record(batch: Done[]): Promise<void> {
    const after = await this.knex.transaction(async (trx) => {
      // An outcome lost with the database's last moments is posted again with its event id (at least once): not worth a disk flush each.
      if (this.pg) await trx.raw('set local synchronous_commit = off');
      return recordOutcomes(trx, batch, this.ctx);
    });
    for (const b of batch) this.svc.changes.mark(b.d.instance_id);
    for (const emit of after) await emit();
    this.poke();
  }
}
