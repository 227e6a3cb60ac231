import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Knex } from '@mikro-orm/knex';
import type { ClusterNode } from '../api/cluster.js';
import { HttpError } from '../api/errors.js';
import type { Logger } from '../services/logger.js';
import { LocalCluster, unreachable } from './local.js';

const CHANNEL = 'plugchat_cluster';
/** NOTIFY payloads are limited to 8000 bytes; larger ones travel through a table. */
const MAX_INLINE = 7_000;
export const HEARTBEAT_MS = 2_000;
/** A process whose heartbeat is older than this is taken for dead. */
export const NODE_TIMEOUT_SECONDS = 6;

type Envelope =
  | { k: 'b'; f: string; c: string; d: unknown }
  | { k: 'q'; f: string; t: string; id: string; m: string; d: unknown }
  | { k: 'r'; f: string; t: string; id: string; ok: boolean; d?: unknown; e?: { status: number; code: string; message: string; details?: unknown } }
  | { k: 'ref'; ref: string };

/**
 * Several processes on one PostgreSQL: a row per process with a heartbeat (core_nodes),
 * and one LISTEN connection that carries broadcasts and requests between them.
 */
export class PostgresCluster extends LocalCluster {
  override readonly mode = 'cluster' as const;
  private listener?: pg.Client;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    log: Logger,
    private readonly knex: Knex,
    private readonly url: string,
  ) {
    super(log);
  }

  override async start(): Promise<void> {
    await this.register();
    await this.listen();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
  }

  private register() {
    return this.knex('core_nodes').insert({ id: this.nodeId, host: hostname(), pid: process.pid, started_at: new Date(this.startedAt), heartbeat_at: this.knex.fn.now(), stopping: false });
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'plugchat-cluster' });
    client.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload) void this.onWire(n.payload);
    });
    client.on('error', (err) => this.log.warn({ err }, 'cluster notification connection failed; reconnecting'));
    client.on('end', () => {
      if (this.closed) return;
      this.listener = undefined;
      setTimeout(() => void this.reconnect(), 1_000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  private async reconnect(): Promise<void> {
    if (this.closed || this.listener) return;
    try {
      await this.listen();
      // Whatever was broadcast meanwhile is lost: caches start over.
      this.deliver('core.resync', {}, this.nodeId);
    } catch (err) {
      this.log.warn({ err }, 'cluster notification connection still down; retrying');
      setTimeout(() => void this.reconnect(), 2_000).unref();
    }
  }

  private async beat(): Promise<void> {
    try {
      const n = await this.knex('core_nodes').where({ id: this.nodeId }).update({ heartbeat_at: this.knex.fn.now() });
      if (!n) await this.register(); // taken for dead meanwhile (a long pause): back in
      // A process whose heartbeat stopped died (a graceful stop removes its own row). Whoever
      // deletes the row tells everyone, once, so its unfinished work is picked up.
      const lost: { id: string }[] = await this.knex('core_nodes').where('heartbeat_at', '<', this.knex.raw(`now() - interval '${NODE_TIMEOUT_SECONDS} seconds'`)).delete().returning('id');
      for (const { id } of lost) {
        this.log.warn({ node: id }, 'a PlugChat process stopped answering; its work is taken over');
        await this.broadcast('core.node-lost', { nodeId: id });
      }
      await this.knex('core_cluster_payloads').where('created_at', '<', this.knex.raw(`now() - interval '1 minute'`)).delete();
    } catch (err) {
      this.log.warn({ err }, 'cluster heartbeat failed');
    }
  }

  private async send(env: Envelope): Promise<void> {
    let text = JSON.stringify(env);
    if (Buffer.byteLength(text) > MAX_INLINE) {
      const ref = randomUUID();
      await this.knex('core_cluster_payloads').insert({ id: ref, payload: text, created_at: this.knex.fn.now() });
      text = JSON.stringify({ k: 'ref', ref });
    }
    await this.knex.raw('select pg_notify(?, ?)', [CHANNEL, text]);
  }

  private async onWire(text: string): Promise<void> {
    try {
      let env = JSON.parse(text) as Envelope;
      if (env.k === 'ref') {
        const row = await this.knex('core_cluster_payloads').where({ id: env.ref }).first();
        if (!row) return;
        env = JSON.parse(row.payload) as Envelope;
      }
      if (env.k === 'b') this.deliver(env.c, env.d, env.f);
      else if (env.k === 'q' && env.t === this.nodeId) await this.answer(env);
      else if (env.k === 'r' && env.t === this.nodeId) {
        const p = this.pending.get(env.id);
        if (!p) return;
        this.pending.delete(env.id);
        clearTimeout(p.timer);
        if (env.ok) p.resolve(env.d);
        else p.reject(new HttpError(env.e!.status, env.e!.code, env.e!.message, env.e!.details));
      }
    } catch (err) {
      this.log.warn({ err }, 'could not handle a cluster notification');
    }
  }

  private async answer(env: Extract<Envelope, { k: 'q' }>): Promise<void> {
    let reply: Envelope;
    try {
      const d = await this.runHandler(env.m, env.d);
      reply = { k: 'r', f: this.nodeId, t: env.f, id: env.id, ok: true, d: d ?? null };
    } catch (err) {
      const e = err instanceof HttpError ? err : undefined;
      if (!e) this.log.error({ err, method: env.m }, 'cluster request failed');
      reply = { k: 'r', f: this.nodeId, t: env.f, id: env.id, ok: false, e: e ? { status: e.status, code: e.code, message: e.message, details: e.details } : { status: 500, code: 'internal', message: 'Something went wrong on the process that runs this instance; it was logged.' } };
    }
    await this.send(reply);
  }

  override async broadcast(channel: string, payload: unknown): Promise<void> {
    // Our own copy comes back through LISTEN like everyone's, in the same order.
    await this.send({ k: 'b', f: this.nodeId, c: channel, d: payload });
  }

  override async request<T>(nodeId: string, method: string, payload: unknown, timeoutMs = 15_000): Promise<T> {
    if (nodeId === this.nodeId) return (await this.runHandler(method, payload)) as T;
    const id = randomUUID();
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(unreachable(nodeId));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    await this.send({ k: 'q', f: this.nodeId, t: nodeId, id, m: method, d: payload });
    return (await result) as T;
  }

  override async liveNodes(): Promise<ClusterNode[]> {
    const rows: { id: string; host: string; pid: number; started_at: Date; stopping: boolean }[] = await this.knex('core_nodes')
      .where('heartbeat_at', '>', this.knex.raw(`now() - interval '${NODE_TIMEOUT_SECONDS} seconds'`))
      .orderBy('started_at');
    return rows.map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), startedAt: new Date(r.started_at).toISOString(), stopping: !!r.stopping }));
  }

  override async isLive(nodeId: string): Promise<boolean> {
    if (nodeId === this.nodeId) return !this.closed;
    const row = await this.knex('core_nodes').where({ id: nodeId }).where('heartbeat_at', '>', this.knex.raw(`now() - interval '${NODE_TIMEOUT_SECONDS} seconds'`)).first('id');
    return !!row;
  }

  /** Graceful shutdown begins: the others stop giving this process work. */
  override async stopping(): Promise<void> {
    await this.knex('core_nodes').where({ id: this.nodeId }).update({ stopping: true }).catch(() => {});
    await this.broadcast('core.node-stopping', { nodeId: this.nodeId }).catch(() => {});
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(unreachable('this process (stopping)'));
    }
    this.pending.clear();
    await this.knex('core_nodes').where({ id: this.nodeId }).delete().catch(() => {});
    await this.listener?.end().catch(() => {});
  }
}
