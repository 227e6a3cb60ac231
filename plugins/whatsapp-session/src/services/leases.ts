import type { Cluster, Knex } from '@plugchat/core';
import type { Logger } from 'pino';
import { coalesced } from '@plugchat/core';

const TABLE = 'whatsapp_session_leases';

export interface LeaseTiming {
  /** How often the lease is renewed and the balance looked at. */
  intervalMs: number;
  /** How long a lease lasts without renewal: a dead owner's instances are free after it. */
  ttlSeconds: number;
}

/** failoverSeconds bounds how long a dead process's instances stay without a socket. */
export function leaseTiming(failoverSeconds: number): LeaseTiming {
  const intervalMs = Math.max(1000, Math.round((failoverSeconds * 1000) / 5));
  return { intervalMs, ttlSeconds: Math.max(2, Math.round((failoverSeconds * 1000 - 2 * intervalMs) / 1000)) };
}

/** What the balancer needs from the sessions of this process. */
export interface LeaseHolder {
  /** Instances with a socket (or one starting) in this process. */
  localIds(): string[];
  /** Whether the instance's socket is open here (only those are handed over: a QR being shown stays). */
  isConnected(instanceId: string): boolean;
  /** Starts the instance's socket here: its lease was just taken. */
  startLocal(instanceId: string): Promise<void>;
  /** Closes the socket here (without logging out): the lease is lost or handed over. */
  stopLocal(instanceId: string, reason: string): Promise<void>;
  /** Sends what is queued for instances this process owns (a safety net for a lost wake-up). */
  sweep(instanceIds: string[]): Promise<void>;
}

/**
 * Instance ownership on PostgreSQL: one lease row per instance (owner process, expiry by the
 * database's clock, so the processes' clocks need not agree). A process runs an instance's
 * socket only while it holds the lease, and stops it once the lease may have lapsed. Each
 * process takes free instances up to its share (wanted instances / live processes, capped),
 * hands over what is above it when another process joins, and hands everything over when it
 * stops gracefully.
 */
export class InstanceLeases {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private held = new Set<string>();
  /** When each lease was taken here (monotonic ms): one taken during a round is not "lost" by it. */
  private readonly acquiredAt = new Map<string, number>();
  /** Past this moment (monotonic ms) a lease not renewed since may belong to another process. */
  private validUntil = 0;

  constructor(
    private readonly knex: Knex,
    private readonly cluster: Cluster,
    private readonly log: Logger,
    private readonly timing: () => LeaseTiming,
    private readonly maxPerProcess: () => number,
  ) {}

  get me(): string {
    return this.cluster.nodeId;
  }

  /** The process holding the instance's unexpired lease, if any. */
  async ownerOf(instanceId: string): Promise<string | undefined> {
    const row = await this.knex(TABLE).where({ instance_id: instanceId }).where('expires_at', '>', this.knex.raw('now()')).first('owner');
    return row?.owner;
  }

  /** Owners of several instances at once (for lists). */
  async owners(instanceIds: string[]): Promise<Map<string, string>> {
    if (!instanceIds.length) return new Map();
    const rows: { instance_id: string; owner: string }[] = await this.knex(TABLE).whereIn('instance_id', instanceIds).where('expires_at', '>', this.knex.raw('now()')).select('instance_id', 'owner');
    return new Map(rows.map((r) => [r.instance_id, r.owner]));
  }

  /** Takes the lease when it is free or has lapsed; true when this process holds it now. */
  async acquire(instanceId: string): Promise<boolean> {
    const ttl = this.timing().ttlSeconds;
    const started = performance.now();
    const rows: { owner: string }[] = await this.knex
      .raw(
        `insert into ${TABLE} (instance_id, owner, expires_at, epoch) values (?, ?, now() + make_interval(secs => ?), 1)
         on conflict (instance_id) do update set owner = excluded.owner, expires_at = excluded.expires_at, epoch = ${TABLE}.epoch + 1
         where ${TABLE}.expires_at <= now() or ${TABLE}.owner = excluded.owner
         returning owner`,
        [instanceId, this.me, ttl],
      )
      .then((r: { rows: { owner: string }[] }) => r.rows);
    if (!rows.length) return false;
    this.held.add(instanceId);
    this.acquiredAt.set(instanceId, performance.now());
    this.validUntil = Math.max(this.validUntil, started + ttl * 1000 - 1000);
    return true;
  }

  /** Gives the lease up (after the socket is closed), so another process may take it at once. */
  async release(instanceId: string): Promise<void> {
    this.held.delete(instanceId);
    this.acquiredAt.delete(instanceId);
    await this.knex(TABLE).where({ instance_id: instanceId, owner: this.me }).delete();
    await this.cluster.broadcast('whatsapp-session.leases', { released: [instanceId] }).catch(() => {});
  }

  start(holder: LeaseHolder): void {
    this.holder = holder;
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.tick().finally(loop), this.timing().intervalMs);
      this.timer.unref();
    };
    // Processes started together see each other before the first share is taken.
    this.timer = setTimeout(() => void this.tick().finally(loop), 2_500);
    this.timer.unref();
  }

  private holder?: LeaseHolder;

  /** Runs the balance now (a lease was released, a process is stopping); coalesced. */
  readonly tick = coalesced(async () => {
    await this.balance().catch(async (err) => {
      this.log.warn({ err }, 'instance lease round failed; retried on the next round');
      // Not renewed in time: another process may own these now, so their sockets close here.
      if (!this.valid() && this.holder) for (const id of this.holder.localIds()) await this.holder.stopLocal(id, 'the lease could not be renewed');
    });
  });

  private async balance(): Promise<void> {
    const holder = this.holder;
    if (!holder || this.stopped) return;
    const { ttlSeconds } = this.timing();
    const started = performance.now();
    // 1. Renew what we hold; whatever is not renewed is no longer ours.
    const renewed: { instance_id: string }[] = await this.knex(TABLE)
      .where({ owner: this.me })
      .update({ expires_at: this.knex.raw('now() + make_interval(secs => ?)', [ttlSeconds]) })
      .returning('instance_id');
    // A lease taken since the renewal began (a user connecting through this process) is ours
    // although the renewal did not see it: its socket must not be closed as lost.
    const since = [...this.acquiredAt].filter(([, at]) => at >= started).map(([id]) => id);
    for (const [id, at] of this.acquiredAt) if (at < started) this.acquiredAt.delete(id);
    this.held = new Set([...renewed.map((r) => r.instance_id), ...since]);
    this.validUntil = started + ttlSeconds * 1000 - 1000;
    for (const id of holder.localIds()) if (!this.held.has(id)) await holder.stopLocal(id, 'another process runs this instance now');

    // 2. Wanted instances, and leases of instances nobody wants any more.
    const wanted: { id: string }[] = await this.knex('whatsapp_session_instances').where({ wanted: true }).select('id');
    const wantedIds = new Set(wanted.map((w) => w.id));
    for (const id of [...this.held]) {
      if (wantedIds.has(id)) continue;
      if (holder.localIds().includes(id)) await holder.stopLocal(id, 'not wanted any more');
      await this.release(id);
    }

    // 3. This process's share of the live processes' work.
    const nodes = (await this.cluster.liveNodes()).filter((n) => !n.stopping);
    const live = Math.max(1, nodes.length);
    const share = Math.min(this.maxPerProcess(), Math.ceil(wantedIds.size / live));
    if (!nodes.some((n) => n.id === this.me)) return; // stopping: take nothing

    if (this.held.size < share) {
      const free: { id: string }[] = await this.knex('whatsapp_session_instances as i')
        .leftJoin(`${TABLE} as l`, 'l.instance_id', 'i.id')
        .where('i.wanted', true)
        .andWhere((q) => q.whereNull('l.instance_id').orWhere('l.expires_at', '<=', this.knex.raw('now()')))
        .select('i.id');
      // Random order, so processes taking at once rarely race for the same rows.
      for (const { id } of free.sort(() => Math.random() - 0.5)) {
        if (this.held.size >= share || this.stopped) break;
        if (await this.acquire(id)) await holder.startLocal(id).catch((err) => this.log.error({ err, instance: id }, 'could not start a taken instance'));
      }
    } else if (this.held.size > share && live > 1) {
      // Above the share (a process joined): hand the excess over, one round at a time.
      const excess = [...this.held].filter((id) => holder.isConnected(id)).slice(0, this.held.size - share);
      for (const id of excess) {
        await holder.stopLocal(id, 'handed over to balance the processes');
        await this.release(id);
      }
    }
    await holder.sweep([...this.held]);
  }

  /** Whether a lease taken or renewed here may still be ours (checked before each send). */
  valid(): boolean {
    return performance.now() < this.validUntil;
  }

  /** Graceful shutdown: closes every socket, then frees the leases for the others at once. */
  async handOver(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick();
    const holder = this.holder;
    const ids = [...this.held];
    if (holder) for (const id of holder.localIds()) await holder.stopLocal(id, 'this process is stopping');
    this.held.clear();
    if (ids.length) {
      await this.knex(TABLE).where({ owner: this.me }).whereIn('instance_id', ids).delete();
      await this.cluster.broadcast('whatsapp-session.leases', { released: ids }).catch(() => {});
    }
  }
}
