import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import path from 'node:path';
import type { PluginContext } from '@plugchat/core';
import type { Logger } from 'pino';
import { Baileys, type WAMessage } from '../baileys.js';
import type { ReceivedMessageEvent } from '../api.js';
import type { Outbox } from '../outbox.js';
import { nextSeq, type MessageStatus, type Store } from '../store.js';
import type { SessionHooks } from '../transport/session.js';
import { summarizeInbound, votedOptions, type InboundSummary } from './content.js';
import { rawOf, toMessage, type Message } from './messages.js';
import { pollOptions } from './polls.js';
import { isGroupJid, jidOf, phoneOf } from './jids.js';
import type { Settings } from './settings.js';
import type { Instance } from './instances.js';
import type { OptOuts } from './optOuts.js';

/**
 * What the instances receive: each message (or poll vote) stored with its received event in one
 * transaction (the outbox), media downloaded, opt-out keywords honoured.
 */
export class Receiving {
  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    private readonly outbox: Outbox,
    private readonly deps: {
      optOuts: OptOuts;
      log: () => Logger;
      phoneOfInstance: (id: string) => string | null;
      mediaAgent: (id: string) => Agent | undefined;
      /** Whether this process sends or just sent the message (it is stored as ours). */
      sentHere: (instanceId: string, waId: string) => boolean;
      /** A group's name, as its chat name (undefined when WhatsApp cannot tell now). */
      groupName: (instanceId: string, jid: string) => Promise<string | undefined>;
    },
  ) {}

  async onMessages(instance: Instance, messages: WAMessage[], type: 'notify' | 'append') {
    for (const msg of messages) {
      const jid = msg.key.remoteJid;
      if (!jid || !(jid.endsWith('@s.whatsapp.net') || isGroupJid(jid))) continue; // status posts and newsletters are out of scope here
      const phone = phoneOf(jid);
      // In a group, who wrote it; the chat is the group.
      const participant = isGroupJid(jid) && msg.key.participant ? phoneOf(msg.key.participant) : undefined;
      if (instance.phone && phone === instance.phone) continue; // our own phone's bootstrap and notes to self
      const waId = msg.key.id!;
      const fromMe = !!msg.key.fromMe;
      // Our own send echoed back (known here when this process sent it; else the row tells).
      if (fromMe && (this.deps.sentHere(instance.id, waId) || (await this.store.messages().where({ instance_id: instance.id, wa_id: waId }).first()))) continue;
      const waiting = msg.messageStubType === Baileys.proto.WebMessageInfo.StubType.CIPHERTEXT;
      const summary = waiting ? { type: 'waiting', hasMedia: false } : summarizeInbound(msg);
      if (!summary) continue;
      const stored = await this.store.messages().where({ instance_id: instance.id, wa_id: waId, direction: fromMe ? 'out' : 'in' }).first();
      const existing = stored && toMessage(stored);
      if (existing && !(existing.waiting && !waiting)) continue;
      let mediaPath: string | null = null;
      if (summary.hasMedia) mediaPath = await this.saveMedia(instance, msg).catch((err) => {
        this.deps.log().warn({ err, instance: instance.id, messageId: waId }, 'could not download received media');
        return null;
      });
      const at = Number(msg.messageTimestamp ?? Math.floor(Date.now() / 1000)) * 1000;
      const chatName = participant ? await this.deps.groupName(instance.id, jid) : undefined;
      await this.storeInbound(instance, { waId, phone, fromMe, summary, waiting, existing, mediaPath, pushName: msg.pushName ?? undefined, at, upsertType: type, participant, chatName, raw: msg.message ? rawOf(msg.message) : null });
    }
  }

  /** A vote on one of our polls: stored and announced like a message, with the options' names. */
  async onPollVote(instance: Instance, v: Parameters<SessionHooks['onPollVote']>[0]) {
    const poll = await this.store.messages().where({ instance_id: instance.id, wa_id: v.pollId }).first();
    const options = poll ? pollOptions(toMessage(poll)) : undefined;
    if (!options) return;
    if (await this.store.messages().where({ instance_id: instance.id, wa_id: v.voteId, direction: v.fromMe ? 'out' : 'in' }).first()) return;
    const summary: InboundSummary = { type: 'pollVote', pollVote: { pollMessageId: v.pollId, options: votedOptions(options, v.selected) }, hasMedia: false };
    // A vote's update carries no push name: the customer's name is the one of their latest message.
    const latest = v.fromMe ? undefined : await this.store.messages().where({ instance_id: instance.id, chat: jidOf(phoneOf(v.remoteJid)), direction: 'in' }).orderBy('seq', 'desc').first();
    const pushName = latest ? (toMessage(latest).content as { senderName?: string }).senderName : undefined;
    await this.storeInbound(instance, { waId: v.voteId, phone: phoneOf(v.remoteJid), fromMe: v.fromMe, summary, waiting: false, mediaPath: null, pushName, at: v.at, upsertType: 'notify' });
  }

  /** Stores a received message (or completes one that was waiting) and records its event in the same transaction. */
  private async storeInbound(
    instance: Instance,
    m: {
      waId: string;
      phone: string;
      fromMe: boolean;
      summary: InboundSummary;
      waiting: boolean;
      existing?: Message;
      mediaPath: string | null;
      pushName?: string;
      at: number;
      upsertType: 'notify' | 'append';
      participant?: string;
      chatName?: string;
      raw?: string | null;
    },
  ) {
    const { waId, phone, fromMe, summary, waiting, existing, mediaPath } = m;
    const now = new Date();
    const values = {
      account_id: instance.accountId,
      instance_id: instance.id,
      wa_id: waId,
      chat: jidOf(phone),
      direction: (fromMe ? 'out' : 'in') as 'out' | 'in',
      type: summary.type,
      // The customer's name as their phone sends it, for the chat list; in a group, who wrote it too.
      content: JSON.stringify({ ...summary, ...(!fromMe && m.pushName ? { senderName: m.pushName } : {}), ...(m.participant ? { participantPhone: m.participant, chatName: m.chatName } : {}) }),
      status: (fromMe ? 'SENT' : 'RECEIVED') as MessageStatus,
      error: null,
      from_me: fromMe,
      waiting,
      media_path: mediaPath,
      delay_ms: null,
      attempts: 0,
      updated_at: now,
      sent_at: null,
      raw: m.raw ?? null,
    };
    const text = 'text' in summary ? summary.text : undefined;
    const rowId = existing?.id ?? randomUUID().replace(/-/g, '').toUpperCase();
    await this.store.knex.transaction(async (trx) => {
      if (existing) await trx('whatsapp_session_messages').where({ id: existing.id }).update(values);
      else await trx('whatsapp_session_messages').insert({ id: rowId, seq: nextSeq(), created_at: now, ...values });
      await this.outbox.add(
        'whatsapp-session.message.received',
        {
          rowId,
          instanceId: instance.id,
          accountId: instance.accountId,
          messageId: waId,
          phone,
          fromMe,
          type: summary.type,
          text,
          caption: 'caption' in summary ? summary.caption : undefined,
          fileName: 'fileName' in summary ? summary.fileName : undefined,
          mimetype: 'mimetype' in summary ? summary.mimetype : undefined,
          mediaPath: mediaPath ?? undefined,
          waitingMessage: waiting,
          senderName: m.pushName,
          ...(m.participant ? { isGroup: true, participantPhone: m.participant, chatName: m.chatName } : {}),
          connectedPhone: this.deps.phoneOfInstance(instance.id) ?? instance.phone ?? null,
          replyTo: 'replyTo' in summary ? summary.replyTo : undefined,
          ...inboundDetails(summary),
          momment: m.at,
          upsertType: m.upsertType,
        },
        trx,
      );
    });
    await this.outbox.dispatch();
    // A keyword said in a group opts nobody out: it was not said to us alone.
    if (!fromMe && text && !m.participant) await this.checkOptOut(instance, phone, text);
  }

  private async checkOptOut(instance: Instance, phone: string, text: string) {
    const word = text.trim().toUpperCase();
    const keyword = this.ctx.settings.get('whatsapp-session.optOutKeywords').find((k) => k.toUpperCase() === word);
    if (!keyword) return;
    await this.deps.optOuts.add(instance.accountId, phone, 'keyword');
    await this.ctx.events.emit('whatsapp-session.optout', { instanceId: instance.id, accountId: instance.accountId, phone, keyword });
  }

  private async saveMedia(instance: Instance, msg: WAMessage): Promise<string> {
    const agent = this.deps.mediaAgent(instance.id);
    const data = (await Baileys.downloadMediaMessage(msg, 'buffer', { options: agent ? { httpsAgent: agent } : {} } as never)) as Buffer;
    const dir = path.join(this.ctx.dataDir, 'media', instance.id);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, msg.key.id!.replace(/[^A-Za-z0-9_-]/g, '_'));
    writeFileSync(file, data);
    return file;
  }
}

/** The parts of a received location, contact or reaction that its event carries. */
function inboundDetails(s: { type: string } & Partial<InboundSummary>): Pick<ReceivedMessageEvent, 'location' | 'contact' | 'reaction' | 'poll' | 'pollVote'> {
  if (s.type === 'location') return { location: { latitude: s.latitude, longitude: s.longitude, name: s.name, address: s.address, url: s.url } };
  if (s.type === 'contact') return { contact: { name: s.name, vcard: s.vcard } };
  if (s.type === 'reaction' && s.reaction) return { reaction: s.reaction };
  if (s.type === 'poll' && s.poll) return { poll: s.poll };
  if (s.type === 'pollVote' && s.pollVote) return { pollVote: s.pollVote };
  return {};
}
