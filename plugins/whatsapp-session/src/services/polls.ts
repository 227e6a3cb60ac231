import type { proto } from '@whiskeysockets/baileys';
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
