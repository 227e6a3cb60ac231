import type { Caller } from '@plugchat/core';
import type { InstanceState, MessageStatus } from './store.js';

/** What a network plugin (such as the sandbox) contributes to whatsapp-session.networks. */
export interface WhatsAppNetwork {
  id: string;
  /** The WebSocket URL Baileys connects to (waWebSocketUrl). */
  wsUrl(): string;
  /** PEM certificate to trust for media uploads and downloads, if the network's media host is self-signed. */
  mediaCertificate?(): string | undefined;
}

export interface ReceivedMessageEvent {
  /** Stable per event, also when it is emitted again after a crash: deduplicate by it. */
  eventId: string;
  instanceId: string;
  accountId: string;
  messageId: string;
  phone: string;
  fromMe: boolean;
  type: string;
  text?: string;
  caption?: string;
  fileName?: string;
  mimetype?: string;
  mediaPath?: string;
  waitingMessage: boolean;
  senderName?: string;
  momment: number;
  /** notify: live; append: delivered after a reconnect or synced. */
  upsertType: 'notify' | 'append';
}

declare module '@plugchat/core' {
  interface EventMap {
    'whatsapp-session.message.received': ReceivedMessageEvent;
    'whatsapp-session.message.status': { eventId: string; instanceId: string; accountId: string; zaapId?: string; messageId: string; phone: string; status: MessageStatus; error?: string };
    'whatsapp-session.instance.connected': { eventId: string; instanceId: string; accountId: string; phone: string };
    'whatsapp-session.instance.disconnected': { eventId: string; instanceId: string; accountId: string; state: InstanceState; reason: string };
    'whatsapp-session.instance.qr': { instanceId: string; accountId: string; qr: string };
    'whatsapp-session.presence': { instanceId: string; accountId: string; phone: string; status: string; lastSeen: number | null };
    'whatsapp-session.optout': { instanceId: string; accountId: string; phone: string; keyword: string };
  }
}

export interface WhatsAppSessionApi {
  /** Queue a text through an instance, as the API does. */
  sendText(accountId: string, instanceId: string, phone: string, message: string): Promise<{ zaapId: string; messageId: string }>;
  /**
   * Checks instance API credentials for another plugin's routes under /instances/{id}/token/{token}:
   * 404 when the instance is not the caller's, 403 when the token is wrong.
   */
  instanceFor(caller: Caller, id: string, token: string): Promise<{ id: string; accountId: string; phone: string | null; name: string }>;
  /** The caller's instance by id (404 when it is another account's). */
  instanceOf(caller: Caller, id: string): Promise<{ id: string; accountId: string; phone: string | null; name: string }>;
  /** Path (under the server's base URL) of a received message's media, for the instance's API clients. */
  mediaPath(instanceId: string, messageId: string): Promise<string>;
  /** The instance's phone, when it is connected. */
  connectedPhone(instanceId: string): string | null;
}
