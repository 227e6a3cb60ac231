import { randomBytes } from 'node:crypto';
import { badRequest, createRouter, notFound, unprocessable, z } from '@plugchat/core';
import { resolveMedia } from '../media.js';
import type { OutgoingRequest } from '../services/content.js';
import { jidOf, type WhatsAppService } from '../services/whatsapp.js';
import { receivedPoll } from '../services/polls.js';
import { previewThumbnail, toSticker } from '../services/images.js';
import type { Instance } from '../services/instances.js';
import { chat, common, instanceSpec, media, params, phone, seconds, type InstanceRequest } from './zapiFields.js';

type C = InstanceRequest;

/**
 * The instance API's sends: each request is validated, its media fetched, and the message stored
 * and queued; the answer carries its ids at once (the instance's sender sends it in order).
 */
export function sendApiRouter(svc: WhatsAppService, maxBytes: () => number) {
  const instance = (c: C): Promise<Instance> => svc.authorize(c.auth, c.params.id, c.params.token);
  const spec = instanceSpec('instance API: sending');
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
    );
}
