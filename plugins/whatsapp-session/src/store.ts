import type { Knex } from '@plugchat/core';
export { nextSeq } from '@plugchat/core';

export type InstanceState = 'disconnected' | 'qr' | 'connecting' | 'connected' | 'logged_out' | 'expired';
export type MessageStatus = 'QUEUED' | 'SENDING' | 'SENT' | 'RECEIVED' | 'READ' | 'PLAYED' | 'FAILED';

export interface InstanceRow {
  id: string;
  account_id: string;
  name: string;
  token_hash: string;
  token_sealed: string;
  state: InstanceState;
  state_reason: string | null;
  wanted: boolean | number;
  phone: string | null;
  push_name: string | null;
  platform: string | null;
  delay_min_ms: number | null;
  delay_max_ms: number | null;
  queue_limit: number | null;
  auto_read_message: boolean | number;
  call_reject_auto: boolean | number;
  call_reject_message: string | null;
  ramp_limits: string | null;
  ramp_started_at: Date | number | string | null;
  created_at: Date | number | string;
  updated_at: Date | number | string;
}

export interface ChatRow {
  instance_id: string;
  account_id: string;
  chat: string;
  archived: boolean | number;
  pinned: boolean | number;
  mute_until: number | string | null;
  marked_unread: boolean | number;
  /** From the phone's history: the chat's name, its last message (ms), its unread count then. */
  name?: string | null;
  last_at?: number | string | null;
  unread?: number;
  updated_at: Date | number | string;
}

export interface MessageRow {
  /** proto.Message as WhatsApp carried it, base64 (received messages, and ours once sent). */
  raw?: string | null;
  id: string;
  account_id: string;
  instance_id: string;
  wa_id: string;
  chat: string;
  direction: 'in' | 'out';
  type: string;
  content: string;
  status: MessageStatus;
  error: string | null;
  seq: number | string;
  from_me: boolean | number;
  waiting: boolean | number | null;
  media_path: string | null;
  delay_ms: number | null;
  attempts: number;
  created_at: Date | number | string;
  updated_at: Date | number | string;
  sent_at: Date | number | string | null;
  client_key?: string | null;
  ramp_day?: string | null;
  hold_until?: Date | number | string | null;
}

export const toDate = (v: Date | number | string | null | undefined): Date | null =>
  v === null || v === undefined ? null : v instanceof Date ? v : new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);

/** Status order: a status never moves backwards (FAILED only replaces QUEUED or SENDING). */
const ORDER: MessageStatus[] = ['QUEUED', 'SENDING', 'SENT', 'RECEIVED', 'READ', 'PLAYED'];
export function advances(from: MessageStatus, to: MessageStatus): boolean {
  if (to === 'FAILED') return from === 'QUEUED' || from === 'SENDING';
  if (from === 'FAILED') return false;
  return ORDER.indexOf(to) > ORDER.indexOf(from);
}

/** The statuses each status may be reached from: the guard of a transition's conditional update. */
export const PREVIOUS = Object.fromEntries(
  [...ORDER, 'FAILED' as const].map((to) => [to, [...ORDER, 'FAILED' as const].filter((from) => advances(from, to))]),
) as Record<MessageStatus, MessageStatus[]>;

/**
 * An outgoing message waiting to be sent (queued, or being sent when a process died), as the
 * partial index over the send queue states it: written out in queries the same way (no bound
 * values) so both databases see that the index covers them.
 */
export const WAITING = "direction = 'out' and status in ('QUEUED', 'SENDING')";

/** Table access for the plugin; every read that a user can trigger takes the account id. */
export class Store {
  constructor(readonly knex: Knex) {}

  instances = () => this.knex<InstanceRow>('whatsapp_session_instances');
  events = () => this.knex('whatsapp_session_instance_events');
  auth = () => this.knex('whatsapp_session_auth');
  messages = () => this.knex<MessageRow>('whatsapp_session_messages');
  optouts = () => this.knex('whatsapp_session_optouts');
  chats = () => this.knex<ChatRow>('whatsapp_session_chats');
}
