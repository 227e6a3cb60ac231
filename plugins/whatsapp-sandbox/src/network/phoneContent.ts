import { randomBytes } from 'node:crypto';
import { Baileys, proto } from './baileys.js';
import type { PhoneMessage } from './state.js';

type WAProto = ReturnType<typeof proto.Message.decode>;

/** What a phone shows of a message: its kind and the text, caption, file name, options or link it carries. */
export function summarize(msg: WAProto): Pick<PhoneMessage, 'kind' | 'text' | 'caption' | 'fileName' | 'mimetype' | 'options' | 'mentions' | 'link'> {
  const m = Baileys.normalizeMessageContent(msg) ?? msg;
  if (m.conversation) return { kind: 'text', text: m.conversation };
  if (m.extendedTextMessage) {
    const t = m.extendedTextMessage;
    const mentions = t.contextInfo?.mentionedJid ?? [];
    const link = t.matchedText ? { url: t.matchedText, title: t.title ?? undefined, description: t.description ?? undefined, thumbnail: !!t.jpegThumbnail?.length } : undefined;
    return { kind: 'text', text: t.text ?? undefined, ...(mentions.length ? { mentions } : {}), ...(link ? { link } : {}) };
  }
  if (m.stickerMessage) return { kind: 'sticker', mimetype: m.stickerMessage.mimetype ?? undefined };
  if (m.imageMessage) return { kind: 'image', caption: m.imageMessage.caption ?? undefined, mimetype: m.imageMessage.mimetype ?? undefined };
  if (m.videoMessage) return { kind: m.videoMessage.gifPlayback ? 'gif' : 'video', caption: m.videoMessage.caption ?? undefined, mimetype: m.videoMessage.mimetype ?? undefined };
  if (m.ptvMessage) return { kind: 'ptv', mimetype: m.ptvMessage.mimetype ?? undefined };
  if (m.audioMessage) return { kind: m.audioMessage.ptt ? 'voice' : 'audio', mimetype: m.audioMessage.mimetype ?? undefined };
  if (m.documentMessage) return { kind: 'document', fileName: m.documentMessage.fileName ?? undefined, caption: m.documentMessage.caption ?? undefined, mimetype: m.documentMessage.mimetype ?? undefined };
  if (m.locationMessage) return { kind: 'location', text: `${m.locationMessage.degreesLatitude},${m.locationMessage.degreesLongitude}` };
  if (m.contactMessage) return { kind: 'contact', text: m.contactMessage.displayName ?? undefined };
  if (m.contactsArrayMessage) return { kind: 'contacts', text: (m.contactsArrayMessage.contacts ?? []).map((c) => c.displayName ?? '').join(', ') };
  if (m.reactionMessage) return { kind: 'reaction', text: m.reactionMessage.text ?? undefined };
  const poll = m.pollCreationMessage ?? m.pollCreationMessageV2 ?? m.pollCreationMessageV3;
  if (poll) return { kind: 'poll', text: poll.name ?? undefined, options: (poll.options ?? []).map((o) => o.optionName ?? '') };
  if (m.pollUpdateMessage) return { kind: 'pollVote' };
  if (m.protocolMessage) return { kind: 'protocol' };
  return { kind: Object.keys(m)[0] ?? 'unknown' };
}

/** The media type a message stanza's enc node names, for media messages. */
export function mediaTypeOf(m: WAProto): string | undefined {
  return m.imageMessage ? 'image' : m.videoMessage ? 'video' : m.audioMessage ? (m.audioMessage.ptt ? 'ptt' : 'audio') : m.documentMessage ? 'document' : undefined;
}

/**
 * A vote as WhatsApp sends one: the chosen options' SHA-256 hashes, AES-GCM encrypted with a key
 * derived from the poll's message secret, in a pollUpdateMessage.
 */
export function pollVoteMessage(poll: { id: string; creator: string; secret: Uint8Array }, voter: string, options: string[]): WAProto {
  const sign = Buffer.concat([Buffer.from(poll.id), Buffer.from(poll.creator), Buffer.from(voter), Buffer.from('Poll Vote'), Buffer.from([1])]);
  const key = Baileys.hmacSign(sign, Baileys.hmacSign(Buffer.from(poll.secret), Buffer.alloc(32), 'sha256'), 'sha256');
  const iv = randomBytes(12);
  const vote = proto.Message.PollVoteMessage.encode({ selectedOptions: options.map((o) => Baileys.sha256(Buffer.from(o))) }).finish();
  const encPayload = Baileys.aesEncryptGCM(Buffer.from(vote), key, iv, Buffer.from(`${poll.id}\u0000${voter}`));
  return proto.Message.fromObject({
    pollUpdateMessage: { pollCreationMessageKey: { remoteJid: poll.creator, fromMe: false, id: poll.id }, vote: { encPayload, encIv: iv }, senderTimestampMs: Date.now() },
  });
}

/** The options a vote on one of our polls chose, decrypted with the poll's secret. */
export function votedOptions(update: NonNullable<WAProto['pollUpdateMessage']>, poll: PhoneMessage, creator: string, voter: string): string[] | undefined {
  const secret = proto.Message.decode(poll.raw).messageContextInfo?.messageSecret;
  if (!update.vote || !secret) return undefined;
  const vote = Baileys.decryptPollVote(update.vote, { pollCreatorJid: creator, pollMsgId: poll.id, pollEncKey: secret, voterJid: voter });
  const chosen = (vote.selectedOptions ?? []).map((h) => Buffer.from(h).toString('hex'));
  return (poll.options ?? []).filter((o) => chosen.includes(Baileys.sha256(Buffer.from(o)).toString('hex')));
}
