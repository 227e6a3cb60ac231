import { definePlugin, defineJob, TOKENS, z, type Clock } from '@plugchat/core';
import type { InstanceGate, InstanceInfoContribution, InstanceSetupContribution, SessionMessage, SubscriptionContribution, WhatsAppNetwork, WhatsAppSessionApi } from './api.js';
import { migrations } from './migrations.js';
import { instanceApiRouter } from './routes/instanceApi.js';
import { groupApiRouter } from './routes/groupApi.js';
import { sendApiRouter } from './routes/sendApi.js';
import { contactApiRouter } from './routes/contactApi.js';
import { integratorApiRouter } from './routes/integratorApi.js';
import { mediaLinkRouter } from './routes/mediaLinks.js';
import { clusterRouter } from './routes/cluster.js';
import { MediaLinks } from './services/mediaLinks.js';
import { managementRouter } from './routes/management.js';
import { WhatsAppService, type SendJob, type Settings } from './services/whatsapp.js';
import { Store } from './store.js';
import { Outbox } from './outbox.js';
import { InstanceLeases, leaseTiming } from './services/leases.js';
import { resolveMedia } from './media.js';
import { phoneOf } from './services/whatsapp.js';
import type { Message } from './services/messages.js';

export type { InstanceGate, InstanceInfoContribution, InstanceSetupContribution, SubscriptionContribution, WhatsAppNetwork, WhatsAppSessionApi, ReceivedMessageEvent, SessionMessage, OutgoingRequest, MessageStatus } from './api.js';

export default definePlugin<WhatsAppSessionApi, Settings>({
  migrations,
  async activate(ctx) {
    const store = new Store(ctx.db.knex);
    // A network plugin (the sandbox) contributes where to connect; otherwise the setting, otherwise WhatsApp itself.
    const network = () => ctx.extensions.get<WhatsAppNetwork>('whatsapp-session.networks')[0];
    const outbox = new Outbox(ctx.db.knex, ctx as never);
    // Several processes on PostgreSQL: each instance runs in the one process holding its lease.
    const leases =
      ctx.cluster.mode === 'cluster'
        ? new InstanceLeases(ctx.db.knex, ctx.cluster, ctx.logger, () => leaseTiming(ctx.settings.get('whatsapp-session.failoverSeconds')), () => ctx.settings.get('whatsapp-session.maxInstancesPerProcess'))
        : undefined;
    const svc = new WhatsAppService(store, ctx, network, outbox, leases, () => ctx.extensions.get<InstanceGate>('whatsapp-session.gates'));
    // A lease given up elsewhere (a process stopping or handing over) is taken at once, not on the next round.
    if (leases) ctx.subscriptions.push(ctx.cluster.on('whatsapp-session.leases', () => void leases.tick()));
    svc.sendJob = await ctx.jobs.register(
      defineJob<SendJob>({
        name: 'whatsapp-session.send',
        payload: z.object({ instanceId: z.string(), messageId: z.string() }),
        retry: { limit: 5, delaySeconds: 2, backoff: true },
        // One waiting wake-up per instance: it drains everything queued by then.
        policy: 'stately',
        concurrency: 8,
        pollingIntervalSeconds: 0.5,
        // Whichever process takes the job, the instance's owner sends.
        handler: async ({ instanceId }) => svc.wake(instanceId),
      }),
    );
    const links = new MediaLinks(ctx.secrets, ctx.container.resolve<Clock>(TOKENS.Clock), () => ctx.settings.get('whatsapp-session.mediaLinkDays'));
    ctx.subscriptions.push(
      ctx.http.register(managementRouter(svc)),
      ctx.http.register(mediaLinkRouter(store, links)),
      ctx.http.register(clusterRouter(ctx.cluster, ctx.db.knex)),
      ctx.http.register(groupApiRouter(svc, () => ctx.settings.get('whatsapp-session.maxMediaBytes'))),
      ctx.http.register(contactApiRouter(svc)),
      ctx.http.register(sendApiRouter(svc, () => ctx.settings.get('whatsapp-session.maxMediaBytes'))),
      ctx.http.register(
        integratorApiRouter(svc, {
          setup: () => ctx.extensions.get<InstanceSetupContribution>('whatsapp-session.instanceSetup'),
          subscriptions: () => ctx.extensions.get<SubscriptionContribution>('whatsapp-session.subscriptions'),
          info: () => ctx.extensions.get<InstanceInfoContribution>('whatsapp-session.instanceInfo'),
        }),
      ),
      ctx.http.register(instanceApiRouter(svc, () => ctx.settings.get('whatsapp-session.maxMediaBytes'), () => ctx.extensions.get<InstanceInfoContribution>('whatsapp-session.instanceInfo'))),
      { dispose: () => svc.stopAll() },
    );
    // Resume once every plugin is active, so a network plugin (activated after us) has contributed.
    ctx.subscriptions.push(
      ctx.events.on('core.ready', async () => {
        // Events recorded before a crash go out first, then instances reconnect.
        await outbox.dispatch();
        await svc.resumeAll().catch((err) => ctx.logger.error({ err }, 'resuming instances failed'));
      }),
      // Sockets close (and leases go to the other processes) while jobs still run, so the events of
      // the last sends and receipts reach the webhooks' queue; then what is left in the outbox goes out.
      ctx.events.on('core.stopping', async () => {
        await svc.stopAll();
        await outbox.dispatch();
      }),
    );
    const maxMediaBytes = () => ctx.settings.get('whatsapp-session.maxMediaBytes');
    const toSessionMessage = (m: Message): SessionMessage => ({
      id: m.id,
      waId: m.waId,
      phone: phoneOf(m.chat),
      direction: m.direction,
      fromMe: m.fromMe,
      type: m.type,
      content: m.content,
      status: m.status,
      error: m.error,
      waiting: m.waiting,
      hasMedia: !!m.mediaPath,
      createdAt: m.createdAt.toISOString(),
    });
    return {
      send: async (accountId, instanceId, phone, request, media, opts) => {
        const row = await svc.get(accountId, instanceId);
        const kind = request.kind === 'image' || request.kind === 'audio' || request.kind === 'video' ? request.kind : undefined;
        const file = media ? await resolveMedia(media.value, media.field, { maxBytes: maxMediaBytes(), kind }) : undefined;
        const { zaapId, messageId } = await svc.enqueue(row, phone, { ...request }, file, opts?.key);
        return { zaapId, messageId };
      },
      readMessages: async (accountId, instanceId, phone, waIds) => svc.actions.readMessage(await svc.get(accountId, instanceId), phone, waIds),
      deleteForEveryone: async (accountId, instanceId, phone, waId) => svc.actions.deleteMessage(await svc.get(accountId, instanceId), phone, waId, true),
      typing: async (accountId, instanceId, phone, on) => svc.actions.typing(await svc.get(accountId, instanceId), phone, on ? 'composing' : 'paused'),
      isOptedOut: (accountId, phone) => svc.isOptedOut(accountId, phone),
      messages: async (accountId, instanceId, ids) => (await svc.messagesByRowId(await svc.get(accountId, instanceId), ids)).map(toSessionMessage),
      searchMessages: async (accountId, text, limit) => {
        // % and _ in the text act as wildcards: a looser search, never an error.
        const rows: { id: string }[] = await store.messages().where({ account_id: accountId }).whereILike('content', `%${text}%`).orderBy('seq', 'desc').limit(limit).select('id');
        return rows.map((r) => r.id);
      },
      mediaFile: async (accountId, instanceId, id) => {
        const [r] = await svc.messagesByRowId(await svc.get(accountId, instanceId), [id]);
        if (!r?.mediaPath) return undefined;
        const content = r.content as { mimetype?: string; fileName?: string };
        return { path: r.mediaPath, mimetype: content.mimetype ?? 'application/octet-stream', fileName: content.fileName };
      },
      maxMediaBytes,
      instances: async (accountId) => (await svc.list(accountId)).map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt.toISOString() })),
      pause: async (accountId, instanceId, reason) => svc.pause(await svc.get(accountId, instanceId), reason),
      connect: async (accountId, instanceId) => svc.connect(await svc.get(accountId, instanceId)),
      sendText: async (accountId, instanceId, phone, message) => svc.enqueue(await svc.get(accountId, instanceId), phone, { kind: 'text', text: message }),
      instanceFor: async (caller, id, token) => {
        const row = await svc.authorize(caller, id, token);
        return { id: row.id, accountId: row.accountId, phone: row.phone, name: row.name };
      },
      instanceOf: async (caller, id) => {
        const row = await svc.get(caller.accountId, id);
        return { id: row.id, accountId: row.accountId, phone: row.phone, name: row.name };
      },
      mediaPath: async (instanceId, messageId) => `/api/whatsapp-session/media/${await links.sign(instanceId, messageId)}`,
      // This process's socket only; events carry the number their owner saw (ReceivedMessageEvent.connectedPhone).
      connectedPhone: (instanceId) => (svc.isConnected(instanceId) ? svc.phoneOfInstance(instanceId) : null),
    };
  },
});
