import { createRouter, z, type RouteContext } from '@plugchat/core';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import type { WebhookService } from '../service.js';

const params = z.object({ id: z.string().regex(/^[A-Za-z0-9]{8,64}$/), token: z.string().min(8).max(128) });
const value = z.object({ value: z.string().max(2048) }).strict();
type C = RouteContext<{ id: string; token: string }, unknown, unknown>;

const ROUTES: [string, string][] = [
  ['update-webhook-received', 'received'],
  ['update-webhook-receive', 'received'],
  ['update-webhook-received-delivery', 'received-delivery'],
  ['update-webhook-delivery', 'delivery'],
  ['update-webhook-message-status', 'message-status'],
  ['update-webhook-connected', 'connected'],
  ['update-webhook-disconnected', 'disconnected'],
  ['update-webhook-chat-presence', 'chat-presence'],
];

/** The Z-API webhook configuration routes under /instances/{id}/token/{token}/…, answering {"value": true}. */
export function zapiRouter(svc: WebhookService, session: WhatsAppSessionApi) {
  const instance = (c: C) => session.instanceFor(c.auth, c.params.id, c.params.token);
  const router = createRouter('/instances');
  for (const [route, kind] of ROUTES) {
    router.put(`/:id/token/:token/${route}`, { summary: `Set the ${kind} webhook URL (empty to remove)`, role: 'admin', params, body: value, tags: ['instance API'] }, async (c) => {
      const inst = await instance(c);
      if (c.body.value) svc.assertUrl(c.body.value, 'value');
      await svc.setZapiEndpoint(inst.accountId, inst.id, kind, c.body.value);
      return { value: true };
    });
  }
  router.put(
    '/:id/token/:token/update-every-webhooks',
    { summary: 'Set one URL for every webhook', role: 'admin', params, body: z.object({ value: z.string().max(2048), notifySentByMe: z.boolean().optional() }).strict(), tags: ['instance API'] },
    async (c) => {
      const inst = await instance(c);
      if (c.body.value) svc.assertUrl(c.body.value, 'value');
      for (const kind of ['received', 'delivery', 'message-status', 'connected', 'disconnected', 'chat-presence']) {
        await svc.setZapiEndpoint(inst.accountId, inst.id, kind, c.body.value, kind === 'received' ? { notifySentByMe: c.body.notifySentByMe } : {});
      }
      return { value: true };
    },
  );
  router.put(
    '/:id/token/:token/update-notify-sent-by-me',
    { summary: 'Also send ReceivedCallback for messages sent by me', role: 'admin', params, body: z.object({ notifySentByMe: z.boolean() }).strict(), tags: ['instance API'] },
    async (c) => {
      const inst = await instance(c);
      await svc.setNotifySentByMe(inst.accountId, inst.id, c.body.notifySentByMe);
      return { value: true };
    },
  );
  return router;
}
