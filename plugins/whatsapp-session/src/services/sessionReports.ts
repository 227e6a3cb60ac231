import type { PluginContext } from '@plugchat/core';
import type { Logger } from 'pino';
import type { WAMessage, WASocket } from '../baileys.js';
import type { SessionHooks } from '../transport/session.js';
import type { Calls } from './calls.js';
import type { ChatSettings } from './chatSettings.js';
import type { Instance, Instances } from './instances.js';
import { phoneOf } from './jids.js';
import type { Message } from './messages.js';
import { pollMessage } from './polls.js';
import type { Receiving } from './receiving.js';
import type { Sending } from './sending.js';
import type { Settings } from './settings.js';

/** What an open socket reports besides its own lifecycle: messages, receipts, votes, chats, calls, presence. */
export type SessionReports = Omit<SessionHooks, 'onQr' | 'onConnecting' | 'onOpen' | 'onClose' | 'saveCreds'>;

export interface ReportDeps {
  ctx: PluginContext<Settings>;
  instances: Instances;
  receiving: Receiving;
  sending: Sending;
  calls: Calls;
  chatSettings: ChatSettings;
  socket: (instanceId: string) => WASocket | undefined;
  messageByWaId: (instance: Instance, waId: string) => Promise<Message | undefined>;
  /** Keeps a write the socket handed over until it ends (shutdown waits for it). */
  track: (write: Promise<unknown>) => void;
  log: () => Logger;
}

/** Hands each of an instance's socket reports to the service that stores or acts on it; a failure is logged, never thrown into Baileys. */
export function sessionReports(instance: Instance, d: ReportDeps): SessionReports {
  const failed = (what: string) => (err: unknown) => d.log().error({ err, instance: instance.id }, `${what} failed`);
  return {
    onMessages: (messages, type) => {
      // Auto-read is for what arrives while it is on: asked as the messages arrive, not once they are stored.
      const autoRead = type === 'notify' ? d.instances.find(instance.id).then((i) => !!i?.autoReadMessage) : Promise.resolve(false);
      // Awaited only once the messages are stored: a failure before then is reported there, not as unhandled.
      autoRead.catch(() => undefined);
      d.track(
        d.receiving
          .onMessages(instance, messages, type)
          .then(async () => ((await autoRead) ? markRead(d.socket(instance.id), messages) : undefined))
          .catch(failed('receiving')),
      );
    },
    onStatus: (updates) => d.track(d.sending.statuses.onStatus(instance, updates).catch(failed('status update'))),
    onPollVote: (vote) => d.track(d.receiving.onPollVote(instance, vote).catch(failed('poll vote'))),
    getMessage: async (key) => {
      const sent = await d.messageByWaId(instance, key.id);
      return sent ? pollMessage(sent) : undefined;
    },
    onChatsUpdate: (updates) => void chatsUpdated(d.chatSettings, instance, updates).catch(failed('chat update')),
    onHistory: (chats) => void d.chatSettings.importHistory(instance, chats).catch(failed('storing the history')),
    onCall: (call) => void d.calls.onCall(instance, call).catch(failed('call handling')),
    onPresence: (jid, status, lastSeen) =>
      void d.ctx.events.emit('whatsapp-session.presence', { instanceId: instance.id, accountId: instance.accountId, phone: phoneOf(jid), status: status.toUpperCase(), lastSeen }),
  };
}

/** With auto-read on (as they arrived), what a contact just sent is marked read once stored (status posts are not: Z-API reads those apart). */
async function markRead(sock: WASocket | undefined, messages: WAMessage[]): Promise<void> {
  const keys = messages.map((m) => m.key).filter((k) => !k.fromMe && k.remoteJid && k.remoteJid !== 'status@broadcast');
  if (keys.length) await sock?.readMessages(keys);
}

/** Chat settings set elsewhere (the phone, another device) reach us through app state. */
async function chatsUpdated(chatSettings: ChatSettings, instance: Instance, updates: Parameters<SessionHooks['onChatsUpdate']>[0]): Promise<void> {
  for (const u of updates) {
    if (!u.id.endsWith('@s.whatsapp.net') && !u.id.endsWith('@g.us')) continue;
    await chatSettings.set(instance, u.id, {
      archived: u.archived,
      pinned: u.pinned,
      muteUntil: u.muteEndTime,
      markedUnread: u.unreadCount === -1 ? true : u.unreadCount === 0 ? false : undefined,
    });
  }
}
