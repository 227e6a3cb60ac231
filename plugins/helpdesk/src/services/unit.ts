import { EventEmitter } from 'node:events';
import type { Clock, EntityManager, PluginContext } from '@plugchat/core';
import { ChangeSchema, type Change } from '../entities.js';

export type ChangeInput = Omit<Change, 'seq' | 'accountId' | 'at' | 'prevQueueId' | 'prevAssigneeId' | 'audience'> &
  Partial<Pick<Change, 'prevQueueId' | 'prevAssigneeId' | 'audience'>>;

export interface Work {
  em: EntityManager;
  now: Date;
  /** Records a change for the agents' live stream, committed with the rest. */
  change(c: ChangeInput): void;
  /** Runs after the commit (events, notifications); failures are logged, never undo the commit. */
  after(fn: () => Promise<unknown> | unknown): void;
}

/** Namespace of the helpdesk's PostgreSQL advisory locks (one per account). */
const LOCK_NAMESPACE = 7_120_001;

/**
 * Units of work for one account. On PostgreSQL each takes the account's advisory lock
 * first, so the helpdesk's writes for an account run one at a time across processes
 * (SQLite serialises writers anyway): change sequence numbers then follow commit
 * order, which is what lets a reconnecting stream resume by Last-Event-ID without a gap.
 */
export class Units {
  /** Emits the account id after each commit that recorded changes. */
  readonly committed = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly ctx: PluginContext<never>,
    readonly clock: Clock,
  ) {
    // Commits in other processes wake this process's streams too (the stream's poll is the fallback).
    ctx.subscriptions.push(
      ctx.cluster.on('helpdesk.commit', (p: { accountId: string }, from) => {
        if (from !== ctx.cluster.nodeId) this.committed.emit('commit', p.accountId);
      }),
    );
  }

  /** A case-insensitive LIKE condition on either database (SQLite's LIKE already ignores case). */
  ilike(pattern: string): Record<string, string> {
    return this.ctx.db.kind === 'postgresql' ? { $ilike: pattern } : { $like: pattern };
  }

  /** A read-only unit of work scoped to the account. */
  read(accountId: string): EntityManager {
    return this.ctx.db.forAccount(accountId);
  }

  async run<T>(accountId: string, fn: (w: Work) => Promise<T>): Promise<T> {
    const changes: ChangeInput[] = [];
    const after: (() => unknown)[] = [];
    const now = this.clock.now();
    const result = await this.ctx.db.forAccount(accountId).transactional(async (em) => {
      // Inside this transaction (its context), so the lock lasts until the commit.
      if (this.ctx.db.kind === 'postgresql') await em.getConnection().execute('select pg_advisory_xact_lock(?, hashtext(?))', [LOCK_NAMESPACE, accountId], 'all', em.getTransactionContext());
      const r = await fn({ em, now, change: (c) => void changes.push(c), after: (f) => void after.push(f) });
      for (const c of changes) {
        await em.insert(ChangeSchema, { prevQueueId: null, prevAssigneeId: null, audience: null, ...c, accountId, at: now } as Change);
      }
      return r;
    });
    if (changes.length) {
      this.committed.emit('commit', accountId);
      if (this.ctx.cluster.mode === 'cluster') void this.ctx.cluster.broadcast('helpdesk.commit', { accountId }).catch(() => {});
    }
    for (const f of after) {
      try {
        await f();
      } catch (err) {
        this.ctx.logger.error({ err }, 'after a helpdesk change');
      }
    }
    return result;
  }
}
