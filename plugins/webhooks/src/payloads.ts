import type { ReceivedMessageEvent } from '@plugchat/whatsapp-session';

/** Event kinds an endpoint subscribes to; the Z-API routes set one kind each. */
export const EVENT_KINDS = ['received', 'delivery', 'message-status', 'connected', 'disconnected', 'chat-presence'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** The fields every ReceivedCallback carries, whatever it holds. */
export function receivedBase(
  e: Pick<ReceivedMessageEvent, 'instanceId' | 'messageId' | 'phone' | 'fromMe' | 'momment' | 'waitingMessage' | 'senderName' | 'isGroup' | 'chatName' | 'participantPhone'>,
  ctx: { connectedPhone: string | null },
) {
  return {
    isStatusReply: false,
    senderLid: null,
    chatLid: null,
    connectedPhone: ctx.connectedPhone,
    waitingMessage: e.waitingMessage,
    isEdit: false,
    isGroup: !!e.isGroup,
    isNewsletter: false,
    instanceId: e.instanceId,
    messageId: e.messageId,
    phone: e.phone,
    fromMe: e.fromMe,
    momment: e.momment,
    status: e.fromMe ? 'SENT' : 'RECEIVED',
    // In a group the chat is the group: its name, and the member who wrote as participant.
    chatName: (e.isGroup ? e.chatName : e.senderName) ?? null,
    senderPhoto: null,
    senderName: e.senderName ?? null,
    photo: null,
    broadcast: false,
    participantPhone: e.participantPhone ?? null,
    participantLid: null,
    forwarded: false,
    type: 'ReceivedCallback',
    fromApi: false,
  };
}

/** The Z-API ReceivedCallback shape, with exactly one content object. */
export function receivedCallback(e: ReceivedMessageEvent, ctx: { connectedPhone: string | null; mediaUrl?: string }) {
  const base = receivedBase(e, ctx);
  if (e.waitingMessage) return base;
  const url = ctx.mediaUrl ?? null;
  switch (e.type) {
    case 'text':
      return { ...base, text: { message: e.text ?? '' } };
    case 'image':
      return { ...base, image: { mimeType: e.mimetype ?? null, imageUrl: url, thumbnailUrl: null, caption: e.caption ?? '', width: null, height: null, viewOnce: false } };
    case 'video':
      return { ...base, video: { videoUrl: url, caption: e.caption ?? '', mimeType: e.mimetype ?? null, seconds: null, viewOnce: false } };
    case 'audio':
      return { ...base, audio: { ptt: true, seconds: null, audioUrl: url, mimeType: e.mimetype ?? null, viewOnce: false } };
    case 'document':
      return { ...base, document: { documentUrl: url, mimeType: e.mimetype ?? null, title: e.fileName ?? null, pageCount: null, fileName: e.fileName ?? null } };
    case 'sticker':
      return { ...base, sticker: { stickerUrl: url, mimeType: e.mimetype ?? null } };
    case 'location': {
      const l = e.location ?? {};
      return { ...base, location: { longitude: l.longitude ?? null, latitude: l.latitude ?? null, address: l.address ?? '', url: l.url ?? '', name: l.name ?? '', thumbnailUrl: null } };
    }
    case 'contact':
      return { ...base, contact: { displayName: e.contact?.name ?? '', vCard: e.contact?.vcard ?? '', phones: phonesOf(e.contact?.vcard) } };
    case 'reaction':
      return {
        ...base,
        reaction: {
          value: e.reaction?.value ?? '',
          time: e.momment,
          reactionBy: e.fromMe ? ctx.connectedPhone : e.phone,
          // Whether the message reacted to is the instance's (Baileys already turns the key to our side).
          referencedMessage: { messageId: e.reaction?.messageId ?? null, fromMe: !!e.reaction?.fromMe, phone: e.phone, participant: null },
        },
      };
    case 'poll':
      return { ...base, poll: { question: e.poll?.question ?? '', pollMaxOptions: e.poll?.pollMaxOptions ?? 0, options: e.poll?.options ?? [] } };
    case 'pollVote':
      return { ...base, pollVote: { pollMessageId: e.pollVote?.pollMessageId ?? null, options: e.pollVote?.options ?? [] } };
    default:
      return { ...base, [e.type]: { message: e.text ?? null } };
  }
}

/** The numbers of a vCard: its waid= attributes, else the digits of its TEL lines. */
export function phonesOf(vcard: string | undefined): string[] {
  if (!vcard) return [];
  const phones = new Set<string>();
  for (const line of vcard.split(/\r?\n/)) {
    if (!/^(item\d+\.)?TEL/i.test(line)) continue;
    const waid = /waid=(\d+)/i.exec(line)?.[1];
    const digits = waid ?? line.slice(line.indexOf(':') + 1).replace(/\D/g, '');
    if (digits) phones.add(digits);
  }
  return [...phones];
}

export const deliveryCallback = (e: { instanceId: string; phone: string; zaapId?: string; messageId: string; error?: string }) => ({
  phone: e.phone,
  zaapId: e.zaapId ?? e.messageId,
  messageId: e.messageId,
  type: 'DeliveryCallback',
  instanceId: e.instanceId,
  momment: Date.now(),
  ...(e.error ? { error: e.error } : {}),
});

export const messageStatusCallback = (e: { instanceId: string; phone: string; messageId: string; status: string }) => ({
  status: e.status,
  ids: [e.messageId],
  momment: Date.now(),
  phone: e.phone,
  type: 'MessageStatusCallback',
  instanceId: e.instanceId,
});

export const connectedCallback = (e: { instanceId: string; phone: string }) => ({ type: 'ConnectedCallback', connected: true, momment: Date.now(), phone: e.phone, instanceId: e.instanceId });

export const disconnectedCallback = (e: { instanceId: string; reason: string }) => ({ momment: Date.now(), error: e.reason, disconnected: true, type: 'DisconnectedCallback', instanceId: e.instanceId });

export const presenceCallback = (e: { instanceId: string; phone: string; status: string; lastSeen: number | null }) => ({
  type: 'PresenceChatCallback',
  phone: e.phone,
  status: e.status,
  lastSeen: e.lastSeen,
  instanceId: e.instanceId,
});

/** A call nobody answered, as Z-API tells it: a ReceivedCallback with a notification and the call's id. */
export const callMissedCallback = (e: { instanceId: string; phone: string; callId: string; isVideo: boolean; at: number }, ctx: { connectedPhone: string | null }) => ({
  ...receivedBase({ instanceId: e.instanceId, messageId: e.callId, phone: e.phone, fromMe: false, momment: e.at, waitingMessage: false }, ctx),
  notification: e.isVideo ? 'CALL_MISSED_VIDEO' : 'CALL_MISSED_VOICE',
  notificationParameters: [],
  callId: e.callId,
});
