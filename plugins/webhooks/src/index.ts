import { definePlugin, defineJob, toDisposable, TOKENS, type Clock } from '@plugchat/core';
import type { InstanceInfoContribution, InstanceSetupContribution, WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import type { WebhooksApi } from './api.js';
import { migrations } from './migrations.js';
import { callMissedCallback, connectedCallback, deliveryCallback, disconnectedCallback, messageStatusCallback, presenceCallback, receivedCallback } from './payloads.js';
import { forgetEmptyInstances, pruneLog } from './retention.js';
import { nativeRouter } from './routes/native.js';
import { zapiRouter } from './routes/zapi.js';
import { truthy, WebhookService, type Settings } from './service.js';

export type { WebhooksApi } from './api.js';
export { sign } from './service.js';

export default definePlugin<WebhooksApi, Settings>({
  migrations,
  async activate(ctx) {
    const session = ctx.getApi<WhatsAppSessionApi>('whatsapp-session');
    const svc = new WebhookService(ctx.db.knex, ctx, session);
    // Media links need the server's public address; without publicBaseUrl the payload carries none.
    const mediaUrl = async (instanceId: string, messageId: string) => {
      const base = ctx.settings.get('webhooks.publicBaseUrl');
      return base ? `${base.replace(/\/$/, '')}${await session.mediaPath(instanceId, messageId)}` : undefined;
    };
    // GET /me shows the Z-API callback URLs set for the instance, one per kind, and whether sent-by-me messages are notified.
    const CALLBACK_FIELDS: Record<string, string> = {
      received: 'receivedCallbackUrl',
      'received-delivery': 'receivedCallbackUrl',
      delivery: 'deliveryCallbackUrl',
      'message-status': 'messageStatusCallbackUrl',
      connected: 'connectedCallbackUrl',
      disconnected: 'disconnectedCallbackUrl',
      'chat-presence': 'presenceChatCallbackUrl',
    };
    const info: InstanceInfoContribution = {
      id: 'webhooks.callbacks',
      async info(accountId, instanceId) {
        const out: Record<string, unknown> = {};
        for (const e of await svc.listEndpoints(accountId, instanceId)) {
          if (e.source !== 'zapi' || !e.zapi_kind) continue;
          const field = CALLBACK_FIELDS[e.zapi_kind];
          if (field && (e.zapi_kind !== 'received' || !out[field])) out[field] = e.url;
          if (e.zapi_kind === 'received' || e.zapi_kind === 'received-delivery') out.receiveCallbackSentByMe = truthy(e.notify_sent_by_me);
        }
        return out;
      },
    };
    // The integrator API's instance creation takes the callback URLs too, one endpoint per kind: the
    // fields /me shows, read the other way, and the received-and-delivery URL under its own name.
    const SETUP_KINDS: Record<string, string> = {
      ...Object.fromEntries(Object.entries(CALLBACK_FIELDS).filter(([kind]) => kind !== 'received-delivery').map(([kind, field]) => [field, kind])),
      receivedAndDeliveryCallbackUrl: 'received-delivery',
    };
    const setup: InstanceSetupContribution = {
      id: 'webhooks.callbacks',
      fields: Object.keys(SETUP_KINDS),
      validate(body) {
        for (const field of Object.keys(SETUP_KINDS)) if (typeof body[field] === 'string' && body[field]) svc.assertUrl(body[field], field);
      },
      async apply(accountId, instanceId, body) {
        for (const [field, kind] of Object.entries(SETUP_KINDS)) if (typeof body[field] === 'string' && body[field]) await svc.setZapiEndpoint(accountId, instanceId, kind, body[field]);
      },
    };
    const clock = ctx.container.resolve<Clock>(TOKENS.Clock);
    const prune = await ctx.jobs.register(
      defineJob<Record<string, never>>({
        name: 'webhooks.prune',
        // Daily, at a quiet hour; a run that fails is tried again, and the next day's catches up anyway.
        cron: { schedule: '17 4 * * *', payload: {} },
        retry: { limit: 3, delaySeconds: 300 },
        expireInSeconds: 3600,
        handler: async () => {
          const days = ctx.settings.get('webhooks.logDays');
          const dropped = await pruneLog(ctx.db.knex, clock, days, {
            postgresql: ctx.db.kind === 'postgresql',
            // A first prune of a large log takes a while: say how far it got now and then.
            progress: (n) => n % 50_000 === 0 && ctx.logger.info({ dropped: n }, 'pruning the webhook log'),
          });
          if (dropped) ctx.logger.info({ dropped, days }, 'dropped finished webhook deliveries older than the log keeps');
          await forgetEmptyInstances(ctx.db.knex);
        },
      }),
    );
    ctx.subscriptions.push(
      prune,
      ctx.extensions.contribute('whatsapp-session.instanceInfo', info),
      ctx.extensions.contribute('whatsapp-session.instanceSetup', setup),
      ctx.http.register(nativeRouter(svc, session)),
      ctx.http.register(zapiRouter(svc, session)),
      // Runs of events from the session's outbox are fanned out with one write.
      ctx.events.onBatch('whatsapp-session.message.received', async (list) =>
        svc.fanOutMany(
          await Promise.all(
            list.map(async (e) => ({
              instanceId: e.instanceId,
              kind: 'received' as const,
              payload: receivedCallback(e, { connectedPhone: e.connectedPhone ?? session.connectedPhone(e.instanceId), mediaUrl: e.mediaPath ? await mediaUrl(e.instanceId, e.messageId) : undefined }),
              opts: { fromMe: e.fromMe, eventId: e.eventId },
            })),
          ),
        ),
      ),
      ctx.events.onBatch('whatsapp-session.message.status', (list) =>
        svc.fanOutMany(
          list.flatMap((e) => [
            ...(e.status === 'SENT' || e.status === 'FAILED' ? [{ instanceId: e.instanceId, kind: 'delivery' as const, payload: deliveryCallback(e), opts: { orderingKey: e.messageId, eventId: e.eventId } }] : []),
            ...(e.status !== 'FAILED' ? [{ instanceId: e.instanceId, kind: 'message-status' as const, payload: messageStatusCallback(e), opts: { orderingKey: e.messageId, eventId: e.eventId } }] : []),
          ]),
        ),
      ),
      ctx.events.on('whatsapp-session.instance.connected', (e) => svc.fanOut(e.instanceId, 'connected', connectedCallback(e), { eventId: e.eventId })),
      ctx.events.on('whatsapp-session.instance.disconnected', (e) => svc.fanOut(e.instanceId, 'disconnected', disconnectedCallback(e), { eventId: e.eventId })),
      ctx.events.on('whatsapp-session.presence', (e) => svc.fanOut(e.instanceId, 'chat-presence', presenceCallback(e))),
      ctx.events.on('whatsapp-session.call.missed', (e) => svc.fanOut(e.instanceId, 'received', callMissedCallback(e, { connectedPhone: session.connectedPhone(e.instanceId) }), { eventId: `call-${e.instanceId}-${e.callId}` })),
      // Deliveries start once every plugin is up; leases of a process that died are released first.
      ctx.events.on('core.ready', () => svc.dispatcher.start()),
      toDisposable(() => svc.dispatcher.stop()),
      // Another process died (several on PostgreSQL): what it was posting goes again now, not when its leases run out.
      ctx.events.on('core.node.lost', async ({ nodeId }) => {
        const n = await svc.dispatcher.releaseDeadLeases();
        if (n) ctx.logger.info({ deliveries: n, node: nodeId }, 'released webhook deliveries a stopped process held');
      }),
    );
    return {
      endpointCount: async (accountId, instanceId) => (await svc.listEndpoints(accountId, instanceId)).length,
    };
  },
});
