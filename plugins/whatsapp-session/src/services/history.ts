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
    const rows: { chat: string; last: number | string; unread: number | string }[] = await this.store
      .messages()
      .where({ instance_id: instance.id })
      .groupBy('chat')
      .select('chat')
      .max({ last: 'seq' })
      .sum({ unread: this.store.knex.raw("case when direction = 'in' and status = 'RECEIVED' then 1 else 0 end") });
    // Each chat's name: what its latest message from the customer says the sender is called (a group's: its name).
    const latestIn = this.store.messages().where({ instance_id: instance.id, direction: 'in' }).groupBy('chat').select('chat').max({ s: 'seq' });
    const named: { chat: string; content: string }[] = await this.store
      .messages()
      .join(latestIn.as('l'), (j) => j.on('l.chat', '=', 'whatsapp_session_messages.chat').andOn('l.s', '=', 'whatsapp_session_messages.seq'))
      .where('whatsapp_session_messages.instance_id', instance.id)
      .select('whatsapp_session_messages.chat as chat', 'whatsapp_session_messages.content as content');
    const names = new Map(
      named.map((n) => {
        const c = JSON.parse(n.content) as { senderName?: string; chatName?: string };
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
