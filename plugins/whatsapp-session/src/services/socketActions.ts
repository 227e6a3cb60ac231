import type { Store } from '../store.js';
import type { ChatAction, ChatSettings } from './chatSettings.js';
import type { ContactOp } from './contacts.js';
import type { GroupOp } from './groups.js';
import type { Instance } from './instances.js';
import { isGroupJid, jidOf } from './jids.js';
import type { SocketOp } from './socketOps.js';

/** Numbers per contact query in a batch check. */
const EXISTS_BATCH = 500;

/** What the actions need of the service that routes them. */
export interface SocketActionDeps {
  /** Runs an operation on the instance's socket, here or on the process that holds it. */
  onOwner(instance: Instance, op: SocketOp, args: unknown[]): Promise<unknown>;
  connected(instance: Instance): Promise<boolean>;
  /** A group was renamed through the API: its cached name goes, in every process. */
  groupRenamed(instanceId: string, jid: string): Promise<void>;
}

/**
 * What the API asks of an instance's WhatsApp that needs its open socket (read receipts, typing,
 * deleting, number checks, profile, chats, contacts, groups), each run where the socket is.
 */
export class SocketActions {
  constructor(
    private readonly store: Store,
    private readonly chatSettings: ChatSettings,
    private readonly deps: SocketActionDeps,
  ) {}

  /** Read receipts for received messages; in a group each goes to the member who wrote it. */
  async readMessage(instance: Instance, phone: string, messageId: string | string[]) {
    const chat = jidOf(phone);
    const ids = Array.isArray(messageId) ? messageId : [messageId];
    const authors = new Map<string, string>();
    if (isGroupJid(chat)) {
      const rows: { wa_id: string; content: string }[] = await this.store.messages().where({ instance_id: instance.id, chat, direction: 'in' }).whereIn('wa_id', ids).select('wa_id', 'content');
      for (const r of rows) {
        const author = (JSON.parse(r.content) as { participantPhone?: string }).participantPhone;
        if (author) authors.set(r.wa_id, jidOf(author));
      }
    }
    const keys = ids.map((id) => ({ remoteJid: chat, id, fromMe: false as const, ...(authors.has(id) ? { participant: authors.get(id) } : {}) }));
    await this.deps.onOwner(instance, 'read', [keys]);
  }

  async typing(instance: Instance, phone: string, state: 'composing' | 'paused') {
    await this.deps.onOwner(instance, 'typing', [phone, state]);
  }

  async deleteMessage(instance: Instance, phone: string, messageId: string, owner: boolean) {
    await this.deps.onOwner(instance, 'delete', [phone, messageId, owner]);
  }

  async phoneExists(instance: Instance, phone: string): Promise<boolean> {
    return (await this.deps.onOwner(instance, 'exists', [phone])) as boolean;
  }

  /** Which of many numbers are on WhatsApp, as WhatsApp writes them: one contact query per few hundred. */
  async existingPhones(instance: Instance, phones: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < phones.length; i += EXISTS_BATCH) {
      for (const p of (await this.deps.onOwner(instance, 'existing', [phones.slice(i, i + EXISTS_BATCH)])) as string[]) found.add(p);
    }
    return found;
  }

  /** The number's profile picture (Baileys makes it the 640 px square JPEG WhatsApp keeps). */
  async profilePicture(instance: Instance, image: Buffer) {
    await this.deps.onOwner(instance, 'profilePicture', [image.toString('base64')]);
  }

  async profileName(instance: Instance, name: string) {
    await this.deps.onOwner(instance, 'profileName', [name]);
  }

  /** The profile's About text (Z-API's profile description), on WhatsApp. */
  async setAbout(instance: Instance, text: string) {
    await this.deps.onOwner(instance, 'setAbout', [text]);
  }

  /** The About text WhatsApp holds for the connected number, or null (none, or not connected). */
  async about(instance: Instance): Promise<string | null> {
    if (!(await this.deps.connected(instance))) return null;
    return ((await this.deps.onOwner(instance, 'about', [])) as string | null) ?? null;
  }

  /**
   * Z-API's modify-chat: the app-state patch on WhatsApp (so the phone shows it too), then here:
   * read also sends the read receipts and clears the unread count, clear and delete drop the
   * chat's stored messages (not those still queued).
   */
  async modifyChat(instance: Instance, phone: string, action: ChatAction): Promise<void> {
    const jid = jidOf(phone);
    await this.deps.onOwner(instance, 'chat', [jid, action, await this.chatSettings.lastMessages(instance, jid)]);
    if (action === 'read') {
      const unread = await this.store.messages().where({ instance_id: instance.id, chat: jid, direction: 'in', status: 'RECEIVED' }).orderBy('seq', 'desc').limit(500).pluck('wa_id');
      if (unread.length) await this.readMessage(instance, phone, unread);
    }
    await this.chatSettings.applyLocally(instance, jid, action);
  }

  /** A contact operation (block, unblock, picture, About) on the instance's WhatsApp. */
  async contact(instance: Instance, op: ContactOp): Promise<unknown> {
    return this.deps.onOwner(instance, 'contact', [op]);
  }

  /** A group operation (create, metadata, participants, settings, invitations) on the instance's WhatsApp. */
  async group(instance: Instance, op: GroupOp): Promise<unknown> {
    const result = await this.deps.onOwner(instance, 'group', [op]);
    if (op.op === 'subject') await this.deps.groupRenamed(instance.id, jidOf(op.group));
    return result;
  }
}
