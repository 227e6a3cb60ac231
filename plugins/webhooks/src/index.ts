import { definePlugin, defineJob, z } from '@plugchat/core';
import type { InstanceInfoContribution, WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import type { WebhooksApi } from './api.js';
import { migrations } from './migrations.js';
import { connectedCallback, deliveryCallback, disconnectedCallback, messageStatusCallback, presenceCallback, receivedCallback } from './payloads.js';
import { nativeRouter } from './routes/native.js';
import { zapiRouter } from './routes/zapi.js';
import { truthy, WebhookService, type DeliverJob, type Settings } from './service.js';

export type { WebhooksApi } from './api.js';
export { sign } from './service.js';

export default definePlugin<WebhooksApi, Settings>({
  migrations,
  async activate(ctx) {
    const session = ctx.getApi<WhatsAppSessionApi>('whatsapp-session');
    const svc = new WebhookService(ctx.db.knex, ctx, session);
    svc.deliverJob = await ctx.jobs.register(
      defineJob<DeliverJob>({
        name: 'webhooks.deliver',
        payload: z.object({ deliveryId: z.string() }),
        // Attempts and their backoff are scheduled by the service; this only covers a crash inside one.
        retry: { limit: 3, delaySeconds: 5, backoff: true },
        expireInSeconds: 120,
        concurrency: 16,
        pollingIntervalSeconds: 0.5,
        handler: ({ deliveryId }) => svc.attempt(deliveryId),
      }),
    );
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
    ctx.subscriptions.push(
      ctx.extensions.contribute('whatsapp-session.instanceInfo', info),
      ctx.http.register(nativeRouter(svc, session)),
      ctx.http.register(zapiRouter(svc, session)),
      ctx.events.on('whatsapp-session.message.received', async (e) =>
        svc.fanOut(
          e.instanceId,
          'received',
          receivedCallback(e, { connectedPhone: e.connectedPhone ?? session.connectedPhone(e.instanceId), mediaUrl: e.mediaPath ? await mediaUrl(e.instanceId, e.messageId) : undefined }),
          { fromMe: e.fromMe, eventId: e.eventId },
        ),
      ),
      ctx.events.on('whatsapp-session.message.status', async (e) => {
        if (e.status === 'SENT' || e.status === 'FAILED') await svc.fanOut(e.instanceId, 'delivery', deliveryCallback(e), { orderingKey: e.messageId, eventId: e.eventId });
        if (e.status !== 'FAILED') await svc.fanOut(e.instanceId, 'message-status', messageStatusCallback(e), { orderingKey: e.messageId, eventId: e.eventId });
      }),
      ctx.events.on('whatsapp-session.instance.connected', (e) => svc.fanOut(e.instanceId, 'connected', connectedCallback(e), { eventId: e.eventId })),
      ctx.events.on('whatsapp-session.instance.disconnected', (e) => svc.fanOut(e.instanceId, 'disconnected', disconnectedCallback(e), { eventId: e.eventId })),
      ctx.events.on('whatsapp-session.presence', (e) => svc.fanOut(e.instanceId, 'chat-presence', presenceCallback(e))),
      ctx.events.on('core.ready', async () => {
        const n = await svc.resumeDue();
        if (n) ctx.logger.info({ deliveries: n }, 'resumed webhook deliveries that were due when the last process stopped');
      }),
      // Another process died (several on PostgreSQL): the attempts it was making are made again
      // now, not when the queue expires its jobs minutes later. The delivery's lease keeps a live
      // attempt from being doubled.
      ctx.events.on('core.node.lost', async ({ nodeId }) => {
        const n = await svc.resumeDue();
        if (n) ctx.logger.info({ deliveries: n, node: nodeId }, 'resumed webhook deliveries a stopped process held');
      }),
    );
    return {
      endpointCount: async (accountId, instanceId) => (await svc.listEndpoints(accountId, instanceId)).length,
    };
  },
});
