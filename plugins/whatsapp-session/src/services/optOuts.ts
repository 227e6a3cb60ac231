import type { PluginContext } from '@plugchat/core';
import type { Store } from '../store.js';
import type { Settings } from './settings.js';

/** A copy is trusted this long at most, should a change notice be missed. */
const KEEP_MS = 60_000;

/**
 * Who asked not to receive messages, per account. Every send checks it, so each process reads an
 * account's list once and keeps it; recording an opt-out drops the copy here and, through the
 * cluster, in every other process within milliseconds.
 */
export class OptOuts {
  private readonly byAccount = new Map<string, { at: number; phones: Promise<Set<string>> }>();

  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
  ) {
    ctx.subscriptions.push(ctx.cluster.on('whatsapp-session.optouts-changed', (p: { accountId: string }) => this.byAccount.delete(p.accountId)));
  }

  async has(accountId: string, phone: string): Promise<boolean> {
    let hit = this.byAccount.get(accountId);
    if (!hit || Date.now() - hit.at > KEEP_MS) {
      const phones = this.store
        .optouts()
        .where({ account_id: accountId })
        .pluck('phone')
        .then((list: string[]) => new Set(list));
      hit = { at: Date.now(), phones };
      this.byAccount.set(accountId, hit);
      phones.catch(() => this.byAccount.delete(accountId));
    }
    return (await hit.phones).has(phone);
  }

  async add(accountId: string, phone: string, source: string): Promise<void> {
    await this.store.optouts().insert({ account_id: accountId, phone, source, created_at: new Date() }).onConflict(['account_id', 'phone']).ignore();
    this.byAccount.delete(accountId);
    if (this.ctx.cluster.mode === 'cluster') await this.ctx.cluster.broadcast('whatsapp-session.optouts-changed', { accountId }).catch(() => {});
  }
}
