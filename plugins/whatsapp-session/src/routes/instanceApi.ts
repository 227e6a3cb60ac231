import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import QRCode from 'qrcode';
import { badRequest, conflict, createRouter, notFound, unprocessable, z, type RouteContext } from '@plugchat/core';
import { resolveMedia } from '../media.js';
import type { OutgoingRequest } from '../services/content.js';
import { jidOf, phoneOf, type WhatsAppService } from '../services/whatsapp.js';
import { receivedPoll } from '../services/polls.js';
import { previewThumbnail, readImage, toSticker } from '../services/images.js';
import { toDate } from '../store.js';
import type { InstanceInfoContribution } from '../api.js';
import type { Instance } from '../services/instances.js';

export const phone = z.string().regex(/^\d{10,15}$/, 'must be the number with country and area code, digits only (e.g. 5511999999999)');
/** A group as Z-API writes it: `120363019502650977-group`, or an older group's `5511999999999-1623281429`. */
export const groupPhone = z.string().regex(/^(\d{10,25}-group|\d{10,15}-\d{9,12})$/, "must be the group's id as Z-API writes it (e.g. 120363019502650977-group)");
/** Whom a message goes to: a number or a group. */
export const chat = z.union([phone, groupPhone], { error: 'must be a number with country and area code, digits only (e.g. 5511999999999), or a group id (e.g. 120363019502650977-group)' });
const seconds = z.number().int().min(1).max(15);
const common = {
  phone: chat,
  delayMessage: seconds.optional().describe('seconds to wait before sending (1-15); default: the instance pacing'),
  delayTyping: seconds.optional().describe('seconds to show "typing…" first (1-15)'),
  messageId: z.string().min(1).max(100).optional().describe('reply to this message'),
};
const ids = z.object({ zaapId: z.string(), messageId: z.string(), id: z.string() });
export const params = z.object({ id: z.string().regex(/^[A-Za-z0-9]{8,64}$/), token: z.string().min(8).max(128) });
const media = z.string().min(1).max(30_000_000);

/** What the phone's platform says of it (WhatsApp tells the platform, not the model). */
const DEVICES: Record<string, string> = { android: 'Android', smba: 'Android (WhatsApp Business)', iphone: 'iPhone', smbi: 'iPhone (WhatsApp Business)' };

type C = RouteContext<{ id: string; token: string }, unknown, unknown>;

/**
 * The Z-API / PlugMessage compatible instance API: /instances/{id}/token/{token}/…
 * with the account's API key in the Client-Token header.
 */
export function instanceApiRouter(svc: WhatsAppService, maxBytes: () => number, infoContributions: () => InstanceInfoContribution[] = () => []) {
  const instance = (c: C): Promise<Instance> => svc.authorize(c.auth, c.params.id, c.params.token);
  const spec = <B>(summary: string, body?: z.ZodType<B>) => ({
    summary,
    role: 'agent' as const,
    params,
    tags: ['instance API'],
    ...(body ? { body } : {}),
    ...(summary.startsWith('Send') || summary.startsWith('React') ? { response: ids } : {}),
  });
  const send = async (c: C, row: Instance, to: string, req: OutgoingRequest, file?: { value: string; field: string; kind?: 'image' | 'audio' | 'video' }) => {
    const m = file ? await resolveMedia(file.value, file.field, { maxBytes: maxBytes(), kind: file.kind }) : undefined;
    return svc.enqueue(row, to, req, m);
  };
  const pacing = (b: { delayMessage?: number; delayTyping?: number; messageId?: string }) => ({
    delayMessageMs: b.delayMessage !== undefined ? b.delayMessage * 1000 : undefined,
    delayTypingMs: b.delayTyping !== undefined ? b.delayTyping * 1000 : undefined,
    replyTo: b.messageId ? { messageId: b.messageId, fromMe: false } : undefined,
  });

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
        about: await svc.about(row).catch(() => null),
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
      await svc.profileName(await instance(c), c.body.value);
      return { value: true };
    })
    .put('/:id/token/:token/profile-description', spec("Change the profile's About text on WhatsApp", z.object({ value: z.string().max(139) }).strict()), async (c) => {
      await svc.setAbout(await instance(c), c.body.value);
      return { value: true };
    })
    .post(
      '/:id/token/:token/send-text',
      spec(
        'Send a text',
        z.object({ ...common, message: z.string().min(1).max(65_536), editMessageId: z.string().optional(), mentioned: z.array(phone).max(1024).optional().describe('numbers the text mentions as @number') }).strict(),
      ),
      async (c) => {
        const b = c.body;
        return send(c, await instance(c), b.phone, { kind: 'text', text: b.message, editMessageId: b.editMessageId, mentions: b.mentioned, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-link',
      spec(
        'Send a text with a link preview described by the sender (title, description, image)',
        z
          .object({
            ...common,
            message: z.string().min(1).max(65_536).describe('the text, with the link in it'),
            linkUrl: z.string().url().max(2000),
            title: z.string().max(300).optional(),
            linkDescription: z.string().max(1000).optional(),
            image: media.optional().describe("the preview's picture (URL or data URI)"),
            linkType: z.enum(['SMALL', 'MEDIUM', 'LARGE']).optional().describe('accepted; WhatsApp sizes the preview itself'),
            delayTyping: seconds.optional(),
          })
          .strict()
          .refine((b) => b.message.includes(b.linkUrl), { message: 'must contain linkUrl: WhatsApp previews a link that is in the text', path: ['message'] }),
      ),
      async (c) => {
        const b = c.body;
        const thumbnail = b.image ? (await previewThumbnail((await resolveMedia(b.image, 'image', { maxBytes: maxBytes(), kind: 'image' })).data, 'image')).toString('base64') : undefined;
        return send(c, await instance(c), b.phone, { kind: 'text', text: b.message, linkPreview: { url: b.linkUrl, title: b.title, description: b.linkDescription, thumbnail }, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-sticker',
      spec(
        'Send a sticker (an image made a 512 px WebP, or a WebP as it is; URL or data URI)',
        z.object({ ...common, sticker: media, stickerAuthor: z.string().max(100).optional().describe('accepted; the sticker goes as it is') }).strict(),
      ),
      async (c) => {
        const b = c.body;
        const m = await resolveMedia(b.sticker, 'sticker', { maxBytes: maxBytes(), kind: 'image' });
        return svc.enqueue(await instance(c), b.phone, { kind: 'sticker', ...pacing(b) }, { data: await toSticker(m.data, 'sticker'), mimetype: 'image/webp' });
      },
    )
    .put('/:id/token/:token/profile-picture', spec("Change the number's profile picture (an image URL or data URI)", z.object({ value: media }).strict()), async (c) => {
      const m = await resolveMedia(c.body.value, 'value', { maxBytes: maxBytes(), kind: 'image' });
      await readImage(m.data, 'value');
      await svc.profilePicture(await instance(c), m.data);
      return { value: true };
    })
    .post('/:id/token/:token/send-image', spec('Send an image (URL or data URI)', z.object({ ...common, image: media, caption: z.string().max(1024).optional() }).strict()), async (c) => {
      const b = c.body;
      return send(c, await instance(c), b.phone, { kind: 'image', caption: b.caption, ...pacing(b) }, { value: b.image, field: 'image', kind: 'image' });
    })
    .post('/:id/token/:token/send-video', spec('Send a video (URL or data URI)', z.object({ ...common, video: media, caption: z.string().max(1024).optional() }).strict()), async (c) => {
      const b = c.body;
      return send(c, await instance(c), b.phone, { kind: 'video', caption: b.caption, ...pacing(b) }, { value: b.video, field: 'video', kind: 'video' });
    })
    .post('/:id/token/:token/send-gif', spec('Send a GIF (an MP4 that plays as a GIF; URL or data URI)', z.object({ ...common, gif: media, caption: z.string().max(1024).optional() }).strict()), async (c) => {
      const b = c.body;
      return send(c, await instance(c), b.phone, { kind: 'video', gif: true, caption: b.caption, ...pacing(b) }, { value: b.gif, field: 'gif', kind: 'video' });
    })
    .post('/:id/token/:token/send-ptv', spec('Send a video note (a round video; URL or data URI)', z.object({ ...common, ptv: media }).strict()), async (c) => {
      const b = c.body;
      return send(c, await instance(c), b.phone, { kind: 'video', ptv: true, ...pacing(b) }, { value: b.ptv, field: 'ptv', kind: 'video' });
    })
    .post('/:id/token/:token/send-audio', spec('Send a voice note (URL or data URI)', z.object({ ...common, audio: media, ptt: z.boolean().default(true) }).strict()), async (c) => {
      const b = c.body;
      return send(c, await instance(c), b.phone, { kind: 'audio', ptt: b.ptt, ...pacing(b) }, { value: b.audio, field: 'audio', kind: 'audio' });
    })
    .post(
      '/:id/token/:token/send-document/:extension',
      {
        ...spec('Send a document (URL or data URI)', z.object({ ...common, document: media, fileName: z.string().min(1).max(255).optional(), caption: z.string().max(1024).optional() }).strict()),
        params: params.extend({ extension: z.string().regex(/^[a-z0-9]{1,10}$/i, 'must be a file extension like pdf') }),
      },
      async (c) => {
        const b = c.body;
        const ext = c.params.extension.toLowerCase();
        const fileName = b.fileName ? (b.fileName.includes('.') ? b.fileName : `${b.fileName}.${ext}`) : `document.${ext}`;
        return send(c as unknown as C, await instance(c as unknown as C), b.phone, { kind: 'document', fileName, caption: b.caption, ...pacing(b) }, { value: b.document, field: 'document' });
      },
    )
    .post(
      '/:id/token/:token/send-location',
      spec('Send a location', z.object({ ...common, title: z.string().max(256), address: z.string().max(512), latitude: z.coerce.number().min(-90).max(90), longitude: z.coerce.number().min(-180).max(180) }).strict()),
      async (c) => {
        const b = c.body;
        return send(c, await instance(c), b.phone, { kind: 'location', location: { latitude: b.latitude, longitude: b.longitude, name: b.title, address: b.address }, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-poll',
      spec(
        'Send a poll (votes arrive as ReceivedCallback with pollVote)',
        z
          .object({
            ...common,
            message: z.string().trim().min(1).max(255).describe('the question'),
            poll: z
              .array(z.object({ name: z.string().trim().min(1).max(100) }).strict())
              .min(2)
              .max(12)
              .refine((o) => new Set(o.map((x) => x.name)).size === o.length, 'option names must differ'),
            pollMaxOptions: z.number().int().min(0).max(12).optional().describe('1: a single choice; 0 or absent: any number'),
          })
          .strict()
          .refine((b) => (b.pollMaxOptions ?? 0) <= b.poll.length, { message: 'cannot exceed the number of options', path: ['pollMaxOptions'] }),
      ),
      async (c) => {
        const b = c.body;
        const poll = { name: b.message, options: b.poll.map((o) => o.name), selectableCount: b.pollMaxOptions ?? 0, secret: randomBytes(32).toString('base64') };
        return send(c, await instance(c), b.phone, { kind: 'poll', poll, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-poll-vote',
      spec(
        'Vote in a poll a contact sent (no options takes the vote back)',
        z.object({ phone: chat, pollMessageId: z.string().min(1).max(100), pollVote: z.array(z.object({ optionName: z.string().min(1).max(100) }).strict()).max(12), delayMessage: seconds.optional() }).strict(),
      ),
      async (c) => {
        const b = c.body;
        const row = await instance(c);
        const poll = await svc.messageByWaId(row, b.pollMessageId);
        const received = poll?.direction === 'in' && poll.chat === jidOf(b.phone) && poll.raw ? receivedPoll(poll.raw) : undefined;
        if (!received) throw notFound('Poll');
        const unknown = b.pollVote.findIndex((o) => !received.options.includes(o.optionName));
        if (unknown >= 0) throw badRequest(`"${b.pollVote[unknown]!.optionName}" is not an option of this poll.`, [{ path: `body.pollVote.${unknown}.optionName`, message: 'not an option of this poll' }]);
        return send(c, row, b.phone, { kind: 'pollVote', pollVote: { pollMessageId: b.pollMessageId, options: b.pollVote.map((o) => o.optionName) }, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/forward-message',
      spec(
        'Forward a message of one of the instance’s chats (media included, no new upload)',
        z.object({ phone: chat, messageId: z.string().min(1).max(100), messagePhone: chat.describe('the chat the message is in'), delayMessage: seconds.optional() }).strict(),
      ),
      async (c) => {
        const b = c.body;
        const row = await instance(c);
        const source = await svc.messageByWaId(row, b.messageId);
        if (!source || source.chat !== jidOf(b.messagePhone)) throw notFound('Message');
        if (!source.raw) throw unprocessable('This message cannot be forwarded: it was stored without WhatsApp’s copy of it (before this version, or not sent yet).', 'not_forwardable');
        return send(c, row, b.phone, { kind: 'forward', forward: { messageId: b.messageId, phone: b.messagePhone }, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-contact',
      spec('Send a contact card', z.object({ ...common, contactName: z.string().min(1).max(200), contactPhone: phone, contactBusinessDescription: z.string().max(256).optional() }).strict()),
      async (c) => {
        const b = c.body;
        return send(c, await instance(c), b.phone, { kind: 'contact', contact: { name: b.contactName, phone: b.contactPhone, businessDescription: b.contactBusinessDescription }, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-contacts',
      spec(
        'Send several contact cards in one message',
        z
          .object({
            ...common,
            contacts: z
              .array(z.object({ name: z.string().trim().min(1).max(200), phones: z.array(phone).min(1).max(10), businessDescription: z.string().max(256).optional() }).strict())
              .min(1)
              .max(50),
          })
          .strict(),
      ),
      async (c) => {
        const b = c.body;
        return send(c, await instance(c), b.phone, { kind: 'contacts', contacts: b.contacts, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-reaction',
      spec('React to a message', z.object({ phone: chat, reaction: z.string().min(1).max(16), messageId: z.string().min(1), delayMessage: seconds.optional() }).strict()),
      async (c) => {
        const row = await instance(c);
        const b = c.body;
        const target = await svc.messageByWaId(row, b.messageId);
        return send(c, row, b.phone, { kind: 'reaction', reaction: { emoji: b.reaction, messageId: b.messageId, fromMe: target?.direction === 'out' }, ...pacing(b) });
      },
    )
    .post(
      '/:id/token/:token/send-remove-reaction',
      spec('Send the removal of our reaction to a message (an empty reaction, as WhatsApp does it)', z.object({ phone: chat, messageId: z.string().min(1), delayMessage: seconds.optional() }).strict()),
      async (c) => {
        const row = await instance(c);
        const b = c.body;
        const target = await svc.messageByWaId(row, b.messageId);
        return send(c, row, b.phone, { kind: 'reaction', reaction: { emoji: '', messageId: b.messageId, fromMe: target?.direction === 'out' }, ...pacing(b) });
      },
    )
    .post('/:id/token/:token/read-message', spec('Mark a received message read', z.object({ phone: chat, messageId: z.string().min(1) }).strict()), async (c) => {
      await svc.readMessage(await instance(c), c.body.phone, c.body.messageId);
      return {};
    })
    .delete(
      '/:id/token/:token/messages',
      { ...spec('Delete a message for everyone'), query: z.object({ messageId: z.string().min(1), phone: chat, owner: z.enum(['true', 'false']).default('true') }) },
      async (c) => {
        await svc.deleteMessage(await instance(c), c.query.phone, c.query.messageId, c.query.owner === 'true');
        return {};
      },
    )
    .get('/:id/token/:token/phone-exists/:phone', { ...spec('Whether a number is on WhatsApp'), params: params.extend({ phone }) }, async (c) => {
      const row = await instance(c as unknown as C);
      return [{ exists: await svc.phoneExists(row, c.params.phone), phone: c.params.phone, lid: null }];
    })
    .post('/:id/token/:token/phone-exists-batch', spec('Which of many numbers are on WhatsApp (up to 50,000)', z.object({ phones: z.array(phone).min(1).max(50_000) }).strict()), async (c) => {
      const existing = await svc.existingPhones(await instance(c), [...new Set(c.body.phones)]);
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
