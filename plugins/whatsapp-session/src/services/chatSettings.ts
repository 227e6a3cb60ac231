import { insertAll } from '@plugchat/core';
import type { WASocket } from '../baileys.js';
import type { ChatRow, Store } from '../store.js';
import type { Instance } from './instances.js';
import { isGroupJid, jidOf } from './jids.js';
import { toMessage } from './messages.js';

/** Z-API's modify-chat actions. */
export const CHAT_ACTIONS = ['read', 'unread', 'archive', 'unarchive', 'mute', 'unmute', 'pin', 'unpin', 'clear', 'delete'] as const;
export type ChatAction = (typeof CHAT_ACTIONS)[number];

/** A chat's latest message as WhatsApp's chat patches name it (its key and time). */
export interface LastMessage {
  key: { remoteJid: string; id: string; fromMe: boolean; participant?: string };
  messageTimestamp: number;
}

/** A chat of the phone's history, as the instance keeps it. */
export interface HistoryChat {
  jid: string;
  name?: string;
  /** Its last message (ms); absent for a name alone (the phone's push names). */
  lastAt?: number;
  unread?: number;
  archived?: boolean;
  pinned?: boolean;
  muteUntil?: number | null;
}

/** What the list of chats shows of a chat's settings. */
export interface ChatFlags {
  archived: boolean;
  pinned: boolean;
  /** When the mute ends (ms), -1 for always, null when not muted. */
  muteUntil: number | null;
  markedUnread: boolean;
  /** What the phone's history said of the chat (name, last message time in ms, unread count). */
  name?: string;
  lastAt?: number;
  unread?: number;
}

/** The app-state patch an action writes, run on the instance's socket (the owner process). */
export async function runChatModify(sock: WASocket, jid: string, action: ChatAction, last: LastMessage[]): Promise<void> {
  const lastMessages = last.length ? last : undefined;
  const mod =
    action === 'read' || action === 'unread'
      ? { markRead: action === 'read', lastMessages }
      : action === 'archive' || action === 'unarchive'
        ? { archive: action === 'archive', lastMessages }
        : action === 'mute' || action === 'unmute'
          ? // Z-API's mute has no end: muted until unmuted, as WhatsApp's "always" (-1).
            { mute: action === 'mute' ? -1 : null }
          : action === 'pin' || action === 'unpin'
            ? { pin: action === 'pin' }
            : action === 'clear'
              ? { clear: 'all' }
              : { delete: true, lastMessages };
  await sock.chatModify(mod as never, jid);
}

/**
 * A chat's settings kept here, in step with WhatsApp: what modify-chat set, and what the phone or
 * another device set (app state reaches us as chat updates).
 */
export class ChatSettings {
  constructor(private readonly store: Store) {}

  async flags(instance: Instance): Promise<Map<string, ChatFlags>> {
    const rows: ChatRow[] = await this.store.chats().where({ instance_id: instance.id });
    return new Map(
      rows.map((r) => [
        r.chat,
        {
          archived: !!r.archived,
          pinned: !!r.pinned,
          muteUntil: r.mute_until === null ? null : Number(r.mute_until),
          markedUnread: !!r.marked_unread,
          name: r.name ?? undefined,
          lastAt: r.last_at === null || r.last_at === undefined ? undefined : Number(r.last_at),
          unread: Number(r.unread ?? 0),
        },
      ]),
    );
  }

  async set(instance: Instance, chat: string, patch: Partial<ChatFlags>): Promise<void> {
    const columns = Object.fromEntries(
      Object.entries({ archived: patch.archived, pinned: patch.pinned, mute_until: patch.muteUntil, marked_unread: patch.markedUnread }).filter(([, v]) => v !== undefined),
    );
    if (!Object.keys(columns).length) return;
    const row = { instance_id: instance.id, account_id: instance.accountId, chat, archived: false, pinned: false, mute_until: null, marked_unread: false, ...columns, updated_at: new Date() };
    await this.store.chats().insert(row).onConflict(['instance_id', 'chat']).merge({ ...columns, updated_at: row.updated_at });
  }

  /**
   * The chats the phone had when the instance was linked (history sync): one row each with its name,
   * last message time and unread count, merged into any row the instance already keeps; the
   * settings the phone synced with them (archived, pinned, muted) as the chat updates do.
   */
  async importHistory(instance: Instance, chats: HistoryChat[]): Promise<void> {
    const at = new Date();
    const row = (c: HistoryChat) => ({
      instance_id: instance.id,
      account_id: instance.accountId,
      chat: c.jid,
      archived: c.archived ?? false,
      pinned: c.pinned ?? false,
      mute_until: c.muteUntil ?? null,
      marked_unread: false,
      name: c.name ?? null,
      last_at: c.lastAt ?? null,
      unread: c.unread ?? 0,
      updated_at: at,
    });
    // Each group of rows updates only what it carries: a push name never clears a chat's time, nor a time its name.
    const groups: [HistoryChat[], string[]][] = [
      [chats.filter((c) => c.lastAt !== undefined && c.name), ['name', 'last_at', 'unread', 'updated_at']],
      [chats.filter((c) => c.lastAt !== undefined && !c.name), ['last_at', 'unread', 'updated_at']],
      [chats.filter((c) => c.lastAt === undefined && c.name), ['name', 'updated_at']],
    ];
    await this.store.knex.transaction(async (trx) => {
      for (const [list, merge] of groups) await insertAll(trx, 'whatsapp_session_chats', list.map(row), { mergeOnConflict: { on: ['instance_id', 'chat'], merge } });
    });
    for (const c of chats) {
      if (c.archived !== undefined || c.pinned !== undefined || c.muteUntil !== undefined) await this.set(instance, c.jid, { archived: c.archived, pinned: c.pinned, muteUntil: c.muteUntil });
    }
  }

  async forget(instance: Instance, chat: string): Promise<void> {
    await this.store.chats().where({ instance_id: instance.id, chat }).delete();
  }

  /** The chat's latest message, for the patches that name where the chat stood. */
  async lastMessages(instance: Instance, chat: string): Promise<LastMessage[]> {
    const row = await this.store.messages().where({ instance_id: instance.id, chat }).whereNotIn('status', ['QUEUED', 'SENDING', 'FAILED']).orderBy('seq', 'desc').first();
    if (!row) return [];
    const m = toMessage(row);
    const participant = isGroupJid(chat) && m.direction === 'in' ? (m.content as { participantPhone?: string }).participantPhone : undefined;
    return [{ key: { remoteJid: chat, id: m.waId, fromMe: m.direction === 'out', ...(participant ? { participant: jidOf(participant) } : {}) }, messageTimestamp: Math.floor(m.createdAt.getTime() / 1000) }];
  }

  /** What an action changes here once WhatsApp took it. */
  async applyLocally(instance: Instance, chat: string, action: ChatAction): Promise<void> {
    const removable = () => this.store.messages().where({ instance_id: instance.id, chat }).whereNotIn('status', ['QUEUED', 'SENDING']);
    switch (action) {
      case 'read':
        await this.store.messages().where({ instance_id: instance.id, chat, direction: 'in', status: 'RECEIVED' }).update({ status: 'READ', updated_at: new Date() });
        await this.store.chats().where({ instance_id: instance.id, chat }).update({ unread: 0 });
        return this.set(instance, chat, { markedUnread: false });
      case 'unread':
        return this.set(instance, chat, { markedUnread: true });
      case 'archive':
      case 'unarchive':
        return this.set(instance, chat, { archived: action === 'archive' });
      case 'pin':
      case 'unpin':
        return this.set(instance, chat, { pinned: action === 'pin' });
      case 'mute':
      case 'unmute':
        return this.set(instance, chat, { muteUntil: action === 'mute' ? -1 : null });
      case 'clear':
        await removable().delete();
        return;
      case 'delete':
        await removable().delete();
        return this.forget(instance, chat);
    }
  }
}
