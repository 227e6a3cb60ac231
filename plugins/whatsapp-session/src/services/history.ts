import type { Store } from '../store.js';
import { isGroupJid, jidOf, phoneOf } from './jids.js';
import type { ChatSettings } from './chatSettings.js';
import { toMessage, type Message } from './messages.js';
import type { Instance } from './instances.js';

/** What the instance's stored messages say: a chat's messages, the chat list, the latest messages, one message. */
export class History {
  constructor(
    private readonly store: Store,
    private readonly settings: ChatSettings,
    private readonly now: () => number,
  ) {}

  async chatMessages(instance: Instance, phone: string, limit = 50): Promise<Message[]> {
    return (await this.store.messages().where({ instance_id: instance.id, chat: jidOf(phone) }).orderBy('seq', 'desc').limit(limit)).map(toMessage);
  }

  async chats(instance: Instance) {
    const id = instance.id;
    // Each chat once, by a walk over the (instance, chat, seq) index: a few seeks per chat rather
    // than a pass over every message, so the list costs the same with a year of history. Its
    // latest message, and the latest from the customer: what it says the sender (a group) is called.
    // The literals ('in', 'RECEIVED') let both databases use the partial indexes (migration 0013).
    const walked = rowsOf<{ chat: string; last: number | string; content: string | null }>(
      await this.store.knex.raw(
        `with recursive walk(chat) as (
           select min(chat) from whatsapp_session_messages where instance_id = ?
           union all
           select (select min(m.chat) from whatsapp_session_messages m where m.instance_id = ? and m.chat > walk.chat) from walk where walk.chat is not null
         )
         select walk.chat as chat,
           (select max(seq) from whatsapp_session_messages where instance_id = ? and chat = walk.chat) as last,
           (select content from whatsapp_session_messages where instance_id = ? and chat = walk.chat and direction = 'in' order by seq desc limit 1) as content
         from walk where walk.chat is not null`,
        [id, id, id, id],
      ),
    );
    const unread = rowsOf<{ chat: string; n: number | string }>(
      await this.store.knex.raw(`select chat, count(*) as n from whatsapp_session_messages where instance_id = ? and direction = 'in' and status = 'RECEIVED' group by chat`, [id]),
    );
    const unreadOf = new Map(unread.map((u) => [u.chat, Number(u.n)]));
    const rows = walked.map((r) => ({ chat: r.chat, last: r.last, unread: unreadOf.get(r.chat) ?? 0 }));
    const names = new Map(
      walked
        .filter((n) => n.content)
        .map((n) => {
          const c = JSON.parse(n.content!) as { senderName?: string; chatName?: string };
          return [n.chat, isGroupJid(n.chat) ? c.chatName : c.senderName];
        }),
    );
    const flags = await this.settings.flags(instance);
    // Chats of the phone's history that have no message here yet are listed from what the history said.
    const seen = new Set(rows.map((r) => r.chat));
    for (const [chat, f] of flags) if (f.lastAt !== undefined && !seen.has(chat)) rows.push({ chat, last: 0, unread: 0 });
    // Z-API's shape, numbers and flags as strings included; spam marks and pictures are not kept here.
    // Newest first by the exact time (the listed time is whole seconds, as Z-API gives it).
    return rows
      .map((r) => ({ ...r, at: Math.max(Number(r.last) / 1000, flags.get(r.chat)?.lastAt ?? 0) }))
      .sort((a, b) => b.at - a.at)
      .map((r) => {
        const f = flags.get(r.chat);
        const unread = Number(r.unread ?? 0) + (f?.unread ?? 0);
        const muted = f?.muteUntil !== null && f?.muteUntil !== undefined && (f.muteUntil === -1 || f.muteUntil > this.now());
        return {
          name: names.get(r.chat) ?? f?.name ?? phoneOf(r.chat),
          phone: phoneOf(r.chat),
          // A chat marked unread shows one unread message, as WhatsApp shows it.
          unread: String(unread || (f?.markedUnread ? 1 : 0)),
          // In seconds (a message's seq is microseconds since the epoch).
          lastMessageTime: String(Math.floor(r.at / 1000)),
          isMuted: muted ? '1' : '0',
          muteEndTime: muted ? String(f!.muteUntil) : null,
          archived: String(!!f?.archived),
          pinned: String(!!f?.pinned),
          isMarkedSpam: 'false',
          profileThumbnail: null,
          isGroupAnnouncement: false,
          isGroup: isGroupJid(r.chat),
          messagesUnread: 0,
        };
      });
  }

  async recent(instance: Instance, limit = 30): Promise<Message[]> {
    return (await this.store.messages().where({ instance_id: instance.id }).orderBy('seq', 'desc').limit(limit)).map(toMessage);
  }

  /** Our message (or theirs) by WhatsApp id. */
  async byWaId(instance: Instance, waId: string): Promise<Message | undefined> {
    const row = await this.store.messages().where({ instance_id: instance.id, wa_id: waId }).first();
    return row && toMessage(row);
  }

  async byIds(instance: Instance, ids: string[]): Promise<Message[]> {
    return ids.length ? (await this.store.messages().where({ instance_id: instance.id }).whereIn('id', ids)).map(toMessage) : [];
  }
}

/** A raw query's rows: node-sqlite3 answers with them, pg with a result holding them. */
function rowsOf<T>(raw: unknown): T[] {
  return (Array.isArray(raw) ? raw : (raw as { rows: T[] }).rows) as T[];
}
