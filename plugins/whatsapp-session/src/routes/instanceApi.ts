import { createReadStream, existsSync } from 'node:fs';
import QRCode from 'qrcode';
import { conflict, createRouter, notFound, z } from '@plugchat/core';
import { resolveMedia } from '../media.js';
import { phoneOf, type WhatsAppService } from '../services/whatsapp.js';
import { profilePicture } from '../services/images.js';
import { toDate } from '../store.js';
import type { InstanceInfoContribution } from '../api.js';
import type { Instance } from '../services/instances.js';
import { chat, instanceSpec, media, params, phone, type InstanceRequest } from './zapiFields.js';

/** What the phone's platform says of it (WhatsApp tells the platform, not the model). */
const DEVICES: Record<string, string> = { android: 'Android', smba: 'Android (WhatsApp Business)', iphone: 'iPhone', smbi: 'iPhone (WhatsApp Business)' };

type C = InstanceRequest;

/**
 * The Z-API / PlugMessage compatible instance API: /instances/{id}/token/{token}/…
 * with the account's API key in the Client-Token header.
 */
export function instanceApiRouter(svc: WhatsAppService, maxBytes: () => number, infoContributions: () => InstanceInfoContribution[] = () => []) {
  const instance = (c: C): Promise<Instance> => svc.authorize(c.auth, c.params.id, c.params.token);
  const spec = instanceSpec('instance API');

  return createRouter('/instances')
    .get('/:id/token/:token/qr-code', spec('The QR code to scan (rotates about every 20 s)'), async (c) => {
      const row = await instance(c);
      if (await svc.connected(row)) return { connected: true, value: null, error: 'You are already connected.' };
      return { value: (await qrFor(svc, row)) ?? null };
    })
    .get('/:id/token/:token/qr-code/image', spec('The QR code as a PNG data URI'), async (c) => {
      const row = await instance(c);
      if (await svc.connected(row)) return { connected: true, value: null, error: 'You are already connected.' };
      const qr = await qrFor(svc, row);
      return { value: qr ? await QRCode.toDataURL(qr, { margin: 1, width: 320 }) : null };
    })
    .get('/:id/token/:token/phone-code/:phone', { ...spec('A pairing code to type on the phone instead of scanning'), params: params.extend({ phone }) }, async (c) => {
      const row = await instance(c as unknown as C);
      if (await svc.connected(row)) return { connected: true, code: null, error: 'You are already connected.' };
      return { code: await svc.pairingCode(row, c.params.phone) };
    })
    .get('/:id/token/:token/status', spec('Whether the instance is connected'), async (c) => {
      const row = await instance(c);
      const connected = await svc.connected(row);
      return {
        connected,
        smartphoneConnected: connected,
        error: connected ? 'You are already connected.' : row.state === 'logged_out' || row.state === 'expired' ? 'You need to restore the session.' : 'You are not connected.',
        state: row.state,
        reason: row.stateReason,
        // Present when a send ramp is set: today's limit, what counted against it and what waits for tomorrow.
        ...(row.sendRamp ? { sendRamp: await svc.ramp.standing(row) } : {}),
      };
    })
    .get('/:id/token/:token/restart', spec('Restart the connection (no new QR needed)'), async (c) => {
      await svc.restart(await instance(c));
      return { value: true };
    })
    .get('/:id/token/:token/restore-session', spec('Connect again with the saved session (no QR); 409 when there is none to restore'), async (c) => {
      const row = await instance(c);
      if (await svc.connected(row)) return { value: true };
      if (!row.phone || row.state === 'logged_out') throw conflict('There is no saved session to restore: scan the QR code (qr-code) to connect this instance.', 'no_session');
      await svc.connect(row);
      return { value: true };
    })
    .get('/:id/token/:token/disconnect', spec('Log out the device; a new QR is needed afterwards'), async (c) => {
      await svc.disconnect(await instance(c));
      return { value: true };
    })
    .get('/:id/token/:token/me', spec('The instance, with the callback URLs and flags Z-API clients read'), async (c) => {
      const row = await instance(c);
      const base = {
        id: row.id,
        token: c.params.token,
        name: row.name,
        due: null,
        connected: await svc.connected(row),
        paymentStatus: null,
        created: row.createdAt.getTime(),
        // Without the webhooks plugin there are no callbacks; it fills these in when it is on.
        connectedCallbackUrl: null,
        deliveryCallbackUrl: null,
        disconnectedCallbackUrl: null,
        messageStatusCallbackUrl: null,
        presenceChatCallbackUrl: null,
        receivedCallbackUrl: null,
        initialDataCallbackUrl: null,
        receiveCallbackSentByMe: false,
        callRejectAuto: row.callRejectAuto,
        callRejectMessage: row.callRejectMessage,
        autoReadMessage: row.autoReadMessage,
      };
      const extra = await Promise.all(infoContributions().map((k) => k.info(row.accountId, row.id).catch(() => ({}))));
      return Object.assign(base, ...extra);
    })
    .get('/:id/token/:token/device', spec('The connected phone'), async (c) => {
      const row = await instance(c);
      const device = DEVICES[row.platform ?? ''] ?? null;
      return {
        phone: row.phone,
        imgUrl: null,
        about: await svc.actions.about(row).catch(() => null),
        name: row.pushName,
        device: { sessionName: row.name, device_model: device },
        originalDevice: row.platform,
        sessionId: row.id,
        isBusiness: row.platform === 'smba' || row.platform === 'smbi',
      };
    })
    .put('/:id/token/:token/update-name', spec('Rename the instance', z.object({ value: z.string().trim().min(1).max(200) }).strict()), async (c) => {
      await svc.update(await instance(c), { name: c.body.value });
      return { value: true };
    })
    .put('/:id/token/:token/update-auto-read-message', spec('Mark incoming messages read as they arrive', z.object({ value: z.boolean() }).strict()), async (c) => {
      await svc.update(await instance(c), { autoReadMessage: c.body.value });
      return { value: true };
    })
    .put('/:id/token/:token/update-call-reject-auto', spec('Reject calls as they ring', z.object({ value: z.boolean() }).strict()), async (c) => {
      await svc.update(await instance(c), { callRejectAuto: c.body.value });
      return { value: true };
    })
    .put(
      '/:id/token/:token/update-call-reject-message',
      spec('The message a rejected caller gets (empty: none)', z.object({ value: z.string().max(4096).nullable() }).strict()),
      async (c) => {
        await svc.update(await instance(c), { callRejectMessage: c.body.value?.trim() || null });
        return { value: true };
      },
    )
    .put('/:id/token/:token/profile-name', spec('Change the name people see for this WhatsApp number (its push name)', z.object({ value: z.string().trim().min(1).max(25) }).strict()), async (c) => {
      await svc.actions.profileName(await instance(c), c.body.value);
      return { value: true };
    })
    .put('/:id/token/:token/profile-description', spec("Change the profile's About text on WhatsApp", z.object({ value: z.string().max(139) }).strict()), async (c) => {
      await svc.actions.setAbout(await instance(c), c.body.value);
      return { value: true };
    })
    .put('/:id/token/:token/profile-picture', spec("Change the number's profile picture (an image URL or data URI)", z.object({ value: media }).strict()), async (c) => {
      const m = await resolveMedia(c.body.value, 'value', { maxBytes: maxBytes(), kind: 'image' });
      await svc.actions.profilePicture(await instance(c), await profilePicture(m.data, 'value'));
      return { value: true };
    })
    .post('/:id/token/:token/read-message', spec('Mark a received message read', z.object({ phone: chat, messageId: z.string().min(1) }).strict()), async (c) => {
      await svc.actions.readMessage(await instance(c), c.body.phone, c.body.messageId);
      return {};
    })
    .delete(
      '/:id/token/:token/messages',
      { ...spec('Delete a message for everyone'), query: z.object({ messageId: z.string().min(1), phone: chat, owner: z.enum(['true', 'false']).default('true') }) },
      async (c) => {
        await svc.actions.deleteMessage(await instance(c), c.query.phone, c.query.messageId, c.query.owner === 'true');
        return {};
      },
    )
    .get('/:id/token/:token/phone-exists/:phone', { ...spec('Whether a number is on WhatsApp'), params: params.extend({ phone }) }, async (c) => {
      const row = await instance(c as unknown as C);
      return [{ exists: await svc.actions.phoneExists(row, c.params.phone), phone: c.params.phone, lid: null }];
    })
    .post('/:id/token/:token/phone-exists-batch', spec('Which of many numbers are on WhatsApp (up to 50,000)', z.object({ phones: z.array(phone).min(1).max(50_000) }).strict()), async (c) => {
      const existing = await svc.actions.existingPhones(await instance(c), [...new Set(c.body.phones)]);
      return c.body.phones.map((p) => ({ exists: existing.has(p), inputPhone: p, outputPhone: p, lid: null }));
    })
    .get(
      '/:id/token/:token/chats',
      { ...spec('Chats, newest activity first (all of them, or a page with page and pageSize)'), query: z.object({ page: z.coerce.number().int().min(1).optional(), pageSize: z.coerce.number().int().min(1).max(1000).optional() }) },
      async (c) => {
        const all = await svc.chats(await instance(c as unknown as C));
        const { page, pageSize } = c.query;
        if (!page && !pageSize) return all;
        const size = pageSize ?? 100;
        return all.slice(((page ?? 1) - 1) * size, (page ?? 1) * size);
      },
    )
    .get('/:id/token/:token/chat-messages/:phone', { ...spec('Messages of one chat, newest first'), params: params.extend({ phone: chat }), query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }) }, async (c) => {
      const rows = await svc.chatMessages(await instance(c as unknown as C), c.params.phone, c.query.limit);
      return rows.map((r) => ({ messageId: r.waId, zaapId: r.direction === 'out' ? r.id : undefined, phone: phoneOf(r.chat), fromMe: r.fromMe, status: r.status, type: r.type, waitingMessage: r.waiting, content: r.content, error: r.error ?? undefined }));
    })
    .get('/:id/token/:token/media/:messageId', { ...spec('Download the media of a received message'), params: params.extend({ messageId: z.string().min(1).max(100) }) }, async (c) => {
      const row = await instance(c as unknown as C);
      const msg = await svc.messageByWaId(row, c.params.messageId);
      if (!msg?.mediaPath || !existsSync(msg.mediaPath)) throw notFound('Media');
      const content = msg.content as { mimetype?: string; fileName?: string };
      c.koa.type = content.mimetype ?? 'application/octet-stream';
      if (content.fileName) c.koa.attachment(content.fileName);
      c.koa.body = createReadStream(msg.mediaPath);
    })
    .get('/:id/token/:token/queue', spec('Messages waiting to be sent, oldest first'), async (c) => {
      const rows = await svc.queue(await instance(c));
      return rows.map((r) => ({ _id: r.id, ZaapId: r.id, MessageId: r.waId, Phone: phoneOf(r.chat), InstanceId: r.instanceId, DelayMessage: r.delayMs, Message: r.content, Created: r.createdAt.getTime(), Status: r.status }));
    })
    .get('/:id/token/:token/queue/count', spec('How many messages wait'), async (c) => ({ count: (await svc.queue(await instance(c))).length }))
    .delete('/:id/token/:token/queue', spec('Clear the queue (messages not yet being sent)'), async (c) => ({ removed: await svc.clearQueue(await instance(c)) }))
    .delete('/:id/token/:token/queue/:zaapId', { ...spec('Remove one queued message'), params: params.extend({ zaapId: z.string().min(1) }) }, async (c) => {
      await svc.removeFromQueue(await instance(c as unknown as C), c.params.zaapId);
      return {};
    });
}

/** The QR code now, or the session is started (where the instance runs) and its first QR awaited. */
async function qrFor(svc: WhatsAppService, row: Instance, ms = 10_000): Promise<string | undefined> {
  const now = await svc.currentQr(row);
  if (now) return now;
  let listener: ((change: { type: string; qr?: string; connected?: boolean }) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Listening before the start: the first QR can come before connect() returns.
  const next = new Promise<string | undefined>((resolve) => {
    listener = (change) => {
      if (change.type === 'qr') resolve(change.qr);
      else if (change.connected) resolve(undefined);
    };
    svc.live.on(row.id, listener);
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    await svc.connect(row);
    return await next;
  } finally {
    clearTimeout(timer);
    svc.live.off(row.id, listener!);
  }
}
