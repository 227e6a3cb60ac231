import { randomBytes } from 'node:crypto';
import type { proto } from '@whiskeysockets/baileys';
import { Baileys } from '../baileys.js';
import type { Message } from './messages.js';
import type { OutgoingRequest } from './content.js';

const pollOf = (message: Message): OutgoingRequest['poll'] | undefined =>
  message.type === 'poll' && message.direction === 'out' ? (message.content as unknown as OutgoingRequest).poll : undefined;

/** The option names of a poll we sent (undefined for any other message). */
export function pollOptions(message: Message): string[] | undefined {
  return pollOf(message)?.options;
}

/**
 * A poll we sent, as Baileys asks for it when a vote arrives: the vote is encrypted with the
 * poll's message secret, which we generated and stored with the request.
 */
export function pollMessage(message: Message): proto.IMessage | undefined {
  const p = pollOf(message);
  if (!p) return undefined;
  return {
    messageContextInfo: { messageSecret: Buffer.from(p.secret, 'base64') },
    pollCreationMessage: { name: p.name, options: p.options.map((optionName) => ({ optionName })), selectableOptionsCount: p.selectableCount },
  };
}

/** A poll a contact sent us, from WhatsApp's bytes of it: its options and the secret votes are encrypted with. */
export function receivedPoll(raw: string): { options: string[]; secret: Uint8Array } | undefined {
  const m = Baileys.proto.Message.decode(Buffer.from(raw, 'base64'));
  const poll = m.pollCreationMessage ?? m.pollCreationMessageV2 ?? m.pollCreationMessageV3;
  const secret = m.messageContextInfo?.messageSecret;
  if (!poll || !secret?.length) return undefined;
  return { options: (poll.options ?? []).map((o) => o.optionName ?? ''), secret };
}

/**
 * Our vote in a contact's poll, as WhatsApp carries one: the chosen options' SHA-256 hashes,
 * AES-GCM encrypted with a key derived from the poll's secret, its id, its creator and the voter.
 */
export function pollVoteMessage(poll: { id: string; chat: string; creator: string; secret: Uint8Array }, voter: string, options: string[], at: number): proto.IMessage {
  const sign = Buffer.concat([Buffer.from(poll.id), Buffer.from(poll.creator), Buffer.from(voter), Buffer.from('Poll Vote'), Buffer.from([1])]);
  const key = Baileys.hmacSign(sign, Baileys.hmacSign(Buffer.from(poll.secret), Buffer.alloc(32), 'sha256'), 'sha256');
  const iv = randomBytes(12);
  const vote = Baileys.proto.Message.PollVoteMessage.encode({ selectedOptions: options.map((o) => Baileys.sha256(Buffer.from(o))) }).finish();
  const encPayload = Baileys.aesEncryptGCM(Buffer.from(vote), key, iv, Buffer.from(`${poll.id}\u0000${voter}`));
  return { pollUpdateMessage: { pollCreationMessageKey: { remoteJid: poll.chat, fromMe: false, id: poll.id, ...(poll.chat !== poll.creator ? { participant: poll.creator } : {}) }, vote: { encPayload, encIv: iv }, senderTimestampMs: at } };
}
