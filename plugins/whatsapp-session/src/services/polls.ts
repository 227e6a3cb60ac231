import type { proto } from '@whiskeysockets/baileys';
import type { MessageRow } from '../store.js';
import type { OutgoingRequest } from './content.js';

const pollOf = (row: MessageRow): OutgoingRequest['poll'] | undefined => {
  if (row.type !== 'poll' || row.direction !== 'out') return undefined;
  try {
    return (JSON.parse(row.content) as OutgoingRequest).poll;
  } catch {
    return undefined;
  }
};

/** The option names of a poll we sent (undefined for any other message). */
export function pollOptions(row: MessageRow): string[] | undefined {
  return pollOf(row)?.options;
}

/**
 * A poll we sent, as Baileys asks for it when a vote arrives: the vote is encrypted with the
 * poll's message secret, which we generated and stored with the request.
 */
export function pollMessage(row: MessageRow): proto.IMessage | undefined {
  const p = pollOf(row);
  if (!p) return undefined;
  return {
    messageContextInfo: { messageSecret: Buffer.from(p.secret, 'base64') },
    pollCreationMessage: { name: p.name, options: p.options.map((optionName) => ({ optionName })), selectableOptionsCount: p.selectableCount },
  };
}
