import type { Caller } from '@plugchat/core';
import type { InstanceState, MessageStatus } from './store.js';
import type { OutgoingRequest } from './services/content.js';

export type { OutgoingRequest, MessageStatus };

/** What a network plugin (such as the sandbox) contributes to whatsapp-session.networks. */
export interface WhatsAppNetwork {
  id: string;
  /** The WebSocket URL Baileys connects to (waWebSocketUrl). */
  wsUrl(): string;
  /** PEM certificate to trust for media uploads and downloads, if the network's media host is self-signed. */
  mediaCertificate?(): string | undefined;
}

/**
 * What a plugin contributes to whatsapp-session.instanceInfo: fields it owns in the instance
 * API's GET /me (webhooks adds its *CallbackUrl and receiveCallbackSentByMe), merged over ours.
 */
export interface InstanceInfoContribution {
  id: string;
  info(accountId: string, instanceId: string): Promise<Record<string, unknown>>;
}

/**
 * What a plugin contributes to whatsapp-session.instanceSetup: the integrator API's instance
 * creation takes these body fields (webhooks takes the *CallbackUrl fields). `validate` throws a 400
 * naming the field before anything is created; `apply` sets them on the new instance.
 */
export interface InstanceSetupContribution {
  id: string;
  fields: string[];
  validate(body: Record<string, unknown>): void;
  apply(accountId: string, instanceId: string, body: Record<string, unknown>): Promise<void>;
}

/** What a plugin contributes to whatsapp-session.subscriptions (billing): the integrator API's subscribe and cancel. */
export interface SubscriptionContribution {
  id: string;
  subscribe(accountId: string, instanceId: string): Promise<void>;
  cancel(accountId: string, instanceId: string): Promise<void>;
}

/**
 * What a plugin contributes to whatsapp-session.gates: asked before an instance connects (also for
 * a QR code or a pairing code) and before each send. Throwing an HttpError refuses it with that
 * error (billing refuses an expired instance with instance_expired).
 */
export interface InstanceGate {
  id: string;
  check(accountId: string, instanceId: string, action: 'connect' | 'send'): Promise<void>;
}

export interface ReceivedMessageEvent {
  /** Stable per event, also when it is emitted again after a crash: deduplicate by it. */
  eventId: string;
  /** The stored message's id (its zaapId), for reading it back through the API. */
  rowId: string;
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
  /** A group message: `phone` is the group (`…-group`), `participantPhone` who wrote it, `chatName` the group's name. */
  isGroup?: boolean;
  participantPhone?: string;
  chatName?: string;
  /** The instance's own number when the message arrived. */
  connectedPhone?: string | null;
  /** The WhatsApp id of the message this one quotes. */
  replyTo?: string;
  /** What a location, contact or reaction carries (the stored summary of the message). */
  location?: { latitude?: number; longitude?: number; name?: string; address?: string; url?: string };
  contact?: { name?: string; vcard?: string };
  reaction?: { value: string; messageId: string; fromMe?: boolean };
  /** A poll the customer created, and a vote on one of ours (the options chosen, by name). */
  poll?: { question: string; pollMaxOptions: number; options: { name: string }[] };
  pollVote?: { pollMessageId: string; options: { name: string }[] };
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
    /** A call nobody answered: turned down by the instance's call-reject setting, or given up by the caller. */
    'whatsapp-session.call.missed': { instanceId: string; accountId: string; phone: string; callId: string; isVideo: boolean; rejected: boolean; at: number };
    'whatsapp-session.instance.created': { instanceId: string; accountId: string; name: string };
    'whatsapp-session.instance.deleted': { instanceId: string; accountId: string };
  }
}

/** A stored message as other plugins read it (the content stays in whatsapp-session). */
export interface SessionMessage {
  id: string;
  waId: string;
  phone: string;
  direction: 'in' | 'out';
  fromMe: boolean;
  type: string;
  content: Record<string, unknown>;
  status: MessageStatus;
  error: string | null;
  waiting: boolean;
  hasMedia: boolean;
  createdAt: string;
}

export interface WhatsAppSessionApi {
  /**
   * Queue any kind of message through an instance, as the instance API does: the same queue,
   * statuses and opt-out check. `media` is an http(s) URL or a data URI, checked against the
   * size limit; `field` names it in errors. A `key` makes the send idempotent: a second call with
   * the same key (after a crash, a replayed event) answers the first message's ids and queues nothing.
   */
  send(
    accountId: string,
    instanceId: string,
    phone: string,
    request: OutgoingRequest,
    media?: { value: string; field: string },
    opts?: { key?: string },
  ): Promise<{ zaapId: string; messageId: string }>;
  /** Marks received messages read now (the customer sees blue ticks). */
  readMessages(accountId: string, instanceId: string, phone: string, waIds: string[]): Promise<void>;
  /** Deletes one of the instance's messages for everyone. */
  deleteForEveryone(accountId: string, instanceId: string, phone: string, waId: string): Promise<void>;
  /** Shows or stops "typing…" in the customer's chat. */
  typing(accountId: string, instanceId: string, phone: string, on: boolean): Promise<void>;
  isOptedOut(accountId: string, phone: string): Promise<boolean>;
  /** Stored messages by their ids (zaapIds), in no particular order. */
  messages(accountId: string, instanceId: string, ids: string[]): Promise<SessionMessage[]>;
  /** Ids of the account's stored messages whose content contains `text` (case-insensitive), newest first. */
  searchMessages(accountId: string, text: string, limit: number): Promise<string[]>;
  /** The file of a stored message's media, to stream to a signed-in user. */
  mediaFile(accountId: string, instanceId: string, id: string): Promise<{ path: string; mimetype: string; fileName?: string } | undefined>;
  /** The largest media file a message may carry, in bytes. */
  maxMediaBytes(): number;
  /** Queue a text through an instance, as the API does. */
  sendText(accountId: string, instanceId: string, phone: string, message: string): Promise<{ zaapId: string; messageId: string }>;
  /**
   * Checks instance API credentials for another plugin's routes under /instances/{id}/token/{token}:
   * 404 when the instance is not the caller's, 403 when the token is wrong.
   */
  instanceFor(caller: Caller, id: string, token: string): Promise<{ id: string; accountId: string; phone: string | null; name: string }>;
  /** The caller's instance by id (404 when it is another account's). */
  instanceOf(caller: Caller, id: string): Promise<{ id: string; accountId: string; phone: string | null; name: string }>;
  /** A signed path (under the server's base URL) to a received message's media: a plain GET works, without credentials, until it expires (whatsapp-session.mediaLinkDays). */
  mediaPath(instanceId: string, messageId: string): Promise<string>;
  /** The account's instances (id, name, created). */
  instances(accountId: string): Promise<{ id: string; name: string; createdAt: string }[]>;
  /** Closes the instance's socket and keeps it closed, keeping its pairing (connect() resumes it). */
  pause(accountId: string, instanceId: string, reason: string): Promise<void>;
  /** Connects the instance again with its saved pairing (or starts showing a QR code). */
  connect(accountId: string, instanceId: string): Promise<void>;
  /** The instance's phone, when it is connected. */
  connectedPhone(instanceId: string): string | null;
}
