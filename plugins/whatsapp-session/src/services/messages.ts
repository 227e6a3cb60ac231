import type { proto } from '@whiskeysockets/baileys';
import { Baileys } from '../baileys.js';
import { toDate, type MessageRow, type MessageStatus } from '../store.js';

/** A stored message, sent or received, as the services and routes see it. */
export interface Message {
  /** Our id (Z-API's zaapId for a send). */
  id: string;
  accountId: string;
  instanceId: string;
  /** WhatsApp's id. */
  waId: string;
  chat: string;
  direction: 'in' | 'out';
  type: string;
  /** What was asked to be sent (OutgoingRequest) or what arrived (InboundSummary). */
  content: Record<string, unknown>;
  status: MessageStatus;
  error: string | null;
  fromMe: boolean;
  /** Received but not decryptable yet ("waiting for this message"). */
  waiting: boolean;
  mediaPath: string | null;
  delayMs: number | null;
  attempts: number;
  createdAt: Date;
  sentAt: Date | null;
  /** WhatsApp's bytes of it (proto.Message, base64), for forwarding it or voting in it. */
  raw: string | null;
}

const bool = (v: unknown) => v === true || v === 1 || v === '1';

export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    accountId: r.account_id,
    instanceId: r.instance_id,
    waId: r.wa_id,
    chat: r.chat,
    direction: r.direction,
    type: r.type,
    content: JSON.parse(r.content) as Record<string, unknown>,
    status: r.status,
    error: r.error,
    fromMe: bool(r.from_me),
    waiting: bool(r.waiting),
    mediaPath: r.media_path,
    delayMs: r.delay_ms,
    attempts: r.attempts,
    createdAt: toDate(r.created_at)!,
    sentAt: toDate(r.sent_at),
    raw: r.raw ?? null,
  };
}

/** A message as WhatsApp carried it, kept to forward it or vote in it later. */
export const rawOf = (message: proto.IMessage) => Buffer.from(Baileys.proto.Message.encode(message).finish()).toString('base64');
