import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Baileys, type AnyMessageContent, type WAMessage } from '../baileys.js';
import { jidOf } from './jids.js';

/** An outgoing message as validated by the API and kept in the queue. */
export interface OutgoingRequest {
  kind: 'text' | 'image' | 'document' | 'audio' | 'video' | 'location' | 'contact' | 'contacts' | 'reaction' | 'poll' | 'forward' | 'pollVote' | 'sticker';
  text?: string;
  caption?: string;
  fileName?: string;
  mimetype?: string;
  ptt?: boolean;
  /** A video that plays as a GIF (send-gif), or as a round video note (send-ptv). */
  gif?: boolean;
  ptv?: boolean;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contact?: { name: string; phone: string; businessDescription?: string };
  /** Several cards in one message (send-contacts), each with one or more numbers. */
  contacts?: { name: string; phones: string[]; businessDescription?: string }[];
  reaction?: { emoji: string; messageId: string; fromMe: boolean };
  /** selectableCount 0: any number of options; secret: the poll's message secret (base64), which votes are encrypted with. */
  poll?: { name: string; options: string[]; selectableCount: number; secret: string };
  replyTo?: { messageId: string; fromMe: boolean; text?: string };
  editMessageId?: string;
  /** A message of a chat of this instance, sent again as forwarded (it keeps its media, no upload). */
  forward?: { messageId: string; phone: string };
  /** Our vote in a poll a contact sent (the options by name; none takes the vote back). */
  pollVote?: { pollMessageId: string; options: string[] };
  /** A text's link preview as the sender describes it (send-link): the URL the text contains, its title, description and thumbnail (JPEG, base64). */
  linkPreview?: { url: string; title?: string; description?: string; thumbnail?: string };
  /** Numbers mentioned in a text (the text names them as @number); in a group, WhatsApp notifies them. */
  mentions?: string[];
  delayMessageMs?: number;
  delayTypingMs?: number;
}

/** The preview Baileys puts in the text message (no fetching of the page: the sender described it). */
const linkPreviewOf = (p: NonNullable<OutgoingRequest['linkPreview']>) => ({
  'matched-text': p.url,
  'canonical-url': p.url,
  title: p.title ?? '',
  description: p.description,
  jpegThumbnail: p.thumbnail ? Buffer.from(p.thumbnail, 'base64') : undefined,
  originalThumbnailUrl: undefined,
});

/** A contact card as WhatsApp writes it: each number with its WhatsApp id, so the app offers to message it. */
function vcard(name: string, phones: string[], note?: string): string {
  // A line break in a name or note would start a field of its own in the card.
  const line = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const tels = phones.map((p) => p.replace(/\D/g, '')).map((d) => `TEL;type=CELL;waid=${d}:+${d}\n`);
  return `BEGIN:VCARD\nVERSION:3.0\nFN:${line(name)}\n${note ? `NOTE:${line(note)}\n` : ''}${tels.join('')}END:VCARD`;
}

/**
 * What a queued request sends: Baileys content (with the message it quotes), or a message built
 * here and relayed as it is (a poll vote). `source` is the stored message a forward or a vote is
 * about, with WhatsApp's own bytes of it.
 */
export function buildContent(
  req: OutgoingRequest,
  jid: string,
  mediaPath: string | null,
  source?: { key: { remoteJid: string; id: string; fromMe: boolean }; message: import('@whiskeysockets/baileys').proto.IMessage },
  thumbnail?: { jpegThumbnail: string; width: number; height: number },
): { content: AnyMessageContent; quoted?: WAMessage } {
  const media = () => readFileSync(mediaPath!);
  let content: AnyMessageContent;
  switch (req.kind) {
    case 'text':
      content = req.editMessageId
        ? { text: req.text!, edit: { remoteJid: jid, id: req.editMessageId, fromMe: true } }
        : { text: req.text!, ...(req.mentions?.length ? { mentions: req.mentions.map(jidOf) } : {}), ...(req.linkPreview ? { linkPreview: linkPreviewOf(req.linkPreview) } : {}) };
      break;
    case 'image':
      // The thumbnail made off the event loop; without one, an empty one keeps Baileys from making it on the loop.
      content = { image: media(), caption: req.caption, mimetype: req.mimetype, jpegThumbnail: thumbnail?.jpegThumbnail ?? '', ...(thumbnail ? { width: thumbnail.width, height: thumbnail.height } : {}) };
      break;
    case 'video':
      content = { video: media(), caption: req.caption, mimetype: req.mimetype, ...(req.gif ? { gifPlayback: true } : {}), ...(req.ptv ? { ptv: true } : {}) };
      break;
    case 'audio':
      content = { audio: media(), ptt: req.ptt ?? true, mimetype: req.mimetype ?? 'audio/ogg; codecs=opus' };
      break;
    case 'document':
      content = { document: media(), fileName: req.fileName, mimetype: req.mimetype ?? 'application/octet-stream', caption: req.caption };
      break;
    case 'location':
      content = { location: { degreesLatitude: req.location!.latitude, degreesLongitude: req.location!.longitude, name: req.location!.name, address: req.location!.address } };
      break;
    case 'contact': {
      const c = req.contact!;
      content = { contacts: { displayName: c.name, contacts: [{ displayName: c.name, vcard: vcard(c.name, [c.phone], c.businessDescription) }] } };
      break;
    }
    case 'contacts': {
      const list = req.contacts!;
      content = { contacts: { displayName: list.map((c) => c.name).join(', '), contacts: list.map((c) => ({ displayName: c.name, vcard: vcard(c.name, c.phones, c.businessDescription) })) } };
      break;
    }
    case 'reaction':
      content = { react: { text: req.reaction!.emoji, key: { remoteJid: jid, id: req.reaction!.messageId, fromMe: req.reaction!.fromMe } } };
      break;
    case 'poll': {
      const p = req.poll!;
      content = { poll: { name: p.name, values: p.options, selectableCount: p.selectableCount, messageSecret: Buffer.from(p.secret, 'base64') } };
      break;
    }
    case 'sticker':
      content = { sticker: media(), mimetype: 'image/webp' };
      break;
    case 'forward':
      content = { forward: source! as WAMessage };
      break;
    case 'pollVote':
      throw new Error('a poll vote is relayed as built, not composed');
  }
  const quoted = req.replyTo
    ? ({ key: { remoteJid: jid, id: req.replyTo.messageId, fromMe: req.replyTo.fromMe }, message: { conversation: req.replyTo.text ?? '' } } as WAMessage)
    : undefined;
  return { content, quoted };
}

export interface InboundSummary {
  type: string;
  text?: string;
  caption?: string;
  fileName?: string;
  mimetype?: string;
  ptt?: boolean;
  seconds?: number;
  latitude?: number;
  longitude?: number;
  name?: string;
  address?: string;
  url?: string;
  vcard?: string;
  reaction?: { value: string; messageId: string; fromMe?: boolean };
  poll?: { question: string; pollMaxOptions: number; options: { name: string }[] };
  pollVote?: { pollMessageId: string; options: { name: string }[] };
  replyTo?: string;
  hasMedia: boolean;
}

/** What a received WhatsApp message holds, flattened for storage and the API. */
export function summarizeInbound(msg: WAMessage): InboundSummary | undefined {
  const m = Baileys.normalizeMessageContent(msg.message);
  if (!m) return undefined;
  const ctx = Baileys.getContentType(m);
  const replyTo = (m.extendedTextMessage?.contextInfo ?? (m[ctx as keyof typeof m] as { contextInfo?: { stanzaId?: string } } | undefined)?.contextInfo)?.stanzaId ?? undefined;
  if (m.conversation) return { type: 'text', text: m.conversation, hasMedia: false };
  if (m.extendedTextMessage) return { type: 'text', text: m.extendedTextMessage.text ?? '', replyTo, hasMedia: false };
  if (m.imageMessage) return { type: 'image', caption: m.imageMessage.caption ?? undefined, mimetype: m.imageMessage.mimetype ?? undefined, replyTo, hasMedia: true };
  if (m.videoMessage) return { type: 'video', caption: m.videoMessage.caption ?? undefined, mimetype: m.videoMessage.mimetype ?? undefined, seconds: m.videoMessage.seconds ?? undefined, hasMedia: true };
  if (m.audioMessage) return { type: 'audio', ptt: !!m.audioMessage.ptt, mimetype: m.audioMessage.mimetype ?? undefined, seconds: m.audioMessage.seconds ?? undefined, hasMedia: true };
  if (m.documentMessage) return { type: 'document', fileName: m.documentMessage.fileName ?? undefined, mimetype: m.documentMessage.mimetype ?? undefined, caption: m.documentMessage.caption ?? undefined, hasMedia: true };
  if (m.stickerMessage) return { type: 'sticker', mimetype: m.stickerMessage.mimetype ?? undefined, hasMedia: true };
  if (m.locationMessage) {
    const l = m.locationMessage;
    return { type: 'location', latitude: l.degreesLatitude ?? undefined, longitude: l.degreesLongitude ?? undefined, name: l.name ?? undefined, address: l.address ?? undefined, url: l.url ?? undefined, hasMedia: false };
  }
  if (m.contactMessage) return { type: 'contact', name: m.contactMessage.displayName ?? undefined, vcard: m.contactMessage.vcard ?? undefined, hasMedia: false };
  if (m.contactsArrayMessage) return { type: 'contact', name: m.contactsArrayMessage.displayName ?? undefined, vcard: m.contactsArrayMessage.contacts?.[0]?.vcard ?? undefined, hasMedia: false };
  // Baileys hands the reacted message's key over from our side: fromMe is whether it was ours.
  if (m.reactionMessage) return { type: 'reaction', reaction: { value: m.reactionMessage.text ?? '', messageId: m.reactionMessage.key?.id ?? '', fromMe: !!m.reactionMessage.key?.fromMe }, hasMedia: false };
  const poll = m.pollCreationMessage ?? m.pollCreationMessageV2 ?? m.pollCreationMessageV3;
  if (poll) return { type: 'poll', poll: { question: poll.name ?? '', pollMaxOptions: poll.selectableOptionsCount ?? 0, options: (poll.options ?? []).map((o) => ({ name: o.optionName ?? '' })) }, hasMedia: false };
  // A vote arrives encrypted; Baileys decrypts it with the poll's secret and reports it as an update (see polls.ts).
  if (m.protocolMessage || m.pollUpdateMessage) return undefined;
  return { type: ctx ?? 'unknown', hasMedia: false };
}

/** The options a decrypted vote selected: WhatsApp sends the SHA-256 of each option's name. */
export function votedOptions(options: string[], selected: Uint8Array[]): { name: string }[] {
  const hashes = new Set(selected.map((h) => Buffer.from(h).toString('hex')));
  return options.filter((o) => hashes.has(createHash('sha256').update(o).digest('hex'))).map((name) => ({ name }));
}
