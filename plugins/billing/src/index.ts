import { definePlugin, defineJob, TOKENS, type Clock, type PluginContext } from '@plugchat/core';
import type { InstanceGate, InstanceInfoContribution, SubscriptionContribution, WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { billingEntities } from './entities.js';

export type { PaymentProvider } from './providers.js';
import { migrations } from './migrations.js';
import { billingRouter, instanceJson } from './routes.js';
import { manualProvider, StripeProvider, type PaymentProvider } from './providers.js';
import { Billing } from './services/billing.js';
import { previousPeriod } from './services/usage.js';
import type { Settings } from './settings.js';

export default definePlugin<Record<string, never>, Settings>({
  entities: billingEntities,
  migrations,
  async activate(ctx) {
    const session = ctx.getApi<WhatsAppSessionApi>('whatsapp-session');
    const clock = ctx.container.resolve<Clock>(TOKENS.Clock);
    const stripe = new StripeProvider(ctx as unknown as PluginContext<Settings>);
    const svc = new Billing(ctx as unknown as PluginContext<Settings>, clock, session, () => [manualProvider, stripe, ...ctx.extensions.get<PaymentProvider>('billing.paymentProviders')]);
    const plan = () => ({
      priceCents: ctx.settings.get('billing.priceCents'),
      currency: ctx.settings.get('billing.currency'),
      trialDays: ctx.settings.get('billing.trialDays'),
      proration: ctx.settings.get('billing.proration'),
      dueDay: ctx.settings.get('billing.dueDay'),
      graceDays: ctx.settings.get('billing.graceDays'),
      timeZone: ctx.settings.get('billing.timeZone'),
      rule: 'Each month’s invoice charges the month before: a subscribed instance pays for the days it was subscribed; one cancelled during a month runs to its end, is charged for it in the next invoice, and never again.',
    });

    const tick = await ctx.jobs.register(
      defineJob<Record<string, never>>({ name: 'billing.tick', cron: { schedule: '* * * * *', payload: {} }, retry: { limit: 1 }, handler: () => svc.tick() }),
    );
    const close = await ctx.jobs.register(
      defineJob<{ period?: string }>({
        name: 'billing.close',
        // Early on day 1 where the months are counted; a missed run is caught up by the next day's.
        cron: { schedule: '30 3 1,2 * *', payload: {}, tz: ctx.settings.get('billing.timeZone') },
        retry: { limit: 5, delaySeconds: 60, backoff: true },
        expireInSeconds: 3600,
        handler: async (p) => {
          const period = p.period ?? previousPeriod(clock.now(), ctx.settings.get('billing.timeZone'));
          const result = await svc.close(period);
          ctx.logger.info({ period, ...result }, 'monthly close');
        },
      }),
    );

    ctx.subscriptions.push(
      tick,
      close,
      ctx.http.register(billingRouter(svc, session, plan, stripe, ctx.secrets)),
      ctx.events.on('whatsapp-session.instance.created', async (e) => void (await svc.instance(e.accountId, e.instanceId, e.name))),
      ctx.events.on('whatsapp-session.instance.deleted', (e) => svc.deleted(e.accountId, e.instanceId)),
      ctx.extensions.contribute<InstanceGate>('whatsapp-session.gates', { id: 'billing.subscription', check: (accountId, instanceId) => svc.check(accountId, instanceId) }),
      // GET /me tells API clients where the instance stands (the trial's time left).
      // Z-API's due (when the instance stops unless subscribed, ms) and paymentStatus come from here too.
      ctx.extensions.contribute<InstanceInfoContribution>('whatsapp-session.instanceInfo', {
        id: 'billing.status',
        info: async (accountId, instanceId) => {
          const row = await svc.instance(accountId, instanceId);
          const status = svc.effective(row);
          const due = status === 'trial' || status === 'expired' ? row.trialEndsAt : status === 'cancelled' || status === 'ended' ? row.endsAt : null;
          return { billing: instanceJson(svc, row), due: due ? new Date(due).getTime() : null, paymentStatus: status };
        },
      }),
      // The integrator API's subscribe and cancel are billing's "Assinar" and "Cancelar".
      ctx.extensions.contribute<SubscriptionContribution>('whatsapp-session.subscriptions', {
        id: 'billing.subscriptions',
        subscribe: async (accountId, instanceId) => void (await svc.subscribe(accountId, instanceId)),
        cancel: async (accountId, instanceId) => void (await svc.cancel(accountId, instanceId)),
      }),
    );
    return {};
  },
});
