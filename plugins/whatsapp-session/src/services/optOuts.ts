import { ClusterCache, type PluginContext } from '@plugchat/core';
import type { Store } from '../store.js';
import type { Settings } from './settings.js';

/**
 * Who asked not to receive messages, per account. Every send checks it, so each process keeps an
 * account's list; recording an opt-out drops the copy in every process.
 */
export class OptOuts {
  private readonly byAccount: ClusterCache<Set<string>>;

  constructor(
    private readonly store: Store,
    ctx: PluginContext<Settings>,
  ) {
    this.byAccount = new ClusterCache(ctx.cluster, 'whatsapp-session.optouts-changed', async (accountId) => new Set<string>(await this.store.optouts().where({ account_id: accountId }).pluck('phone')));
    ctx.subscriptions.push(this.byAccount);
  }

  async has(accountId: string, phone: string): Promise<boolean> {
    return (await this.byAccount.get(accountId)).has(phone);
  }

  async add(accountId: string, phone: string, source: string): Promise<void> {
    await this.store.optouts().insert({ account_id: accountId, phone, source, created_at: new Date() }).onConflict(['account_id', 'phone']).ignore();
    await this.byAccount.drop(accountId);
  }
}
