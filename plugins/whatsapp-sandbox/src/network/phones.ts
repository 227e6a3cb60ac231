import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { Baileys, proto, type BinaryNode } from './baileys.js';
import { GroupError, groupJid, type Groups } from './groups.js';
import type { MediaServer } from './media.js';
import type { Account, PhoneCall, PhoneMessage, PhoneState } from './state.js';
import { bytes, child, deviceJid, messageId, node, now, parseJid, userJid } from './stanza.js';

const require = createRequire(import.meta.url);
const { makeLibSignalRepository } = require('@whiskeysockets/baileys/lib/Signal/libsignal.js') as {
  makeLibSignalRepository: (auth: unknown) => {
    decryptMessage(o: { jid: string; type: 'pkmsg' | 'msg'; ciphertext: Buffer }): Promise<Uint8Array>;
    decryptGroupMessage(o: { group: string; authorJid: string; msg: Buffer }): Promise<Uint8Array>;
    processSenderKeyDistributionMessage(o: { authorJid: string; item: { groupId?: string | null; axolotlSenderKeyDistributionMessage?: Uint8Array | null } }): Promise<void>;
    encryptGroupMessage(o: { group: string; meId: string; data: Uint8Array }): Promise<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }>;
    encryptMessage(o: { jid: string; data: Uint8Array }): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Buffer }>;
    injectE2ESession(o: { jid: string; session: unknown }): Promise<void>;
  };
};

type AnyContent = import('@whiskeysockets/baileys').AnyMessageContent;

/** What the network lends the phones: its state and its delivery. */
export interface PhoneHost {
  account(phone: string): Account | undefined;
  getOrCreateAccount(phone: string, o?: { name?: string }): Account;
  phoneState(phone: string): PhoneState | undefined;
  setPhoneState(state: PhoneState): void;
  companions(phone: string): { jid: string; queue: BinaryNode[] }[];
  deliverTo(jid: string, n: BinaryNode): void;
  bundleFor(jid: string): BinaryNode;
  setPhoneOnline(phone: string, online: boolean): void;
  save(): void;
  media?: MediaServer;
  groups: Groups;
  phone(phone: string): VirtualPhone | undefined;
  emit(event: string, payload: unknown): void;
}

const PAD = Baileys.writeRandomPadMax16;

function summarize(msg: ReturnType<typeof proto.Message.decode>): Pick<PhoneMessage, 'kind' | 'text' | 'caption' | 'fileName' | 'mimetype' | 'options' | 'mentions' | 'link'> {
  const m = Baileys.normalizeMessageContent(msg) ?? msg;
  if (m.conversation) return { kind: 'text', text: m.conversation };
  if (m.extendedTextMessage) {
    const t = m.extendedTextMessage;
    const mentions = t.contextInfo?.mentionedJid ?? [];
    const link = t.matchedText ? { url: t.matchedText, title: t.title ?? undefined, description: t.description ?? undefined, thumbnail: !!t.jpegThumbnail?.length } : undefined;
    return { kind: 'text', text: t.text ?? undefined, ...(mentions.length ? { mentions } : {}), ...(link ? { link } : {}) };
  }
  if (m.stickerMessage) return { kind: 'sticker', mimetype: m.stickerMessage.mimetype ?? undefined };
  if (m.imageMessage) return { kind: 'image', caption: m.imageMessage.caption ?? undefined, mimetype: m.imageMessage.mimetype ?? undefined };
  if (m.videoMessage) return { kind: m.videoMessage.gifPlayback ? 'gif' : 'video', caption: m.videoMessage.caption ?? undefined, mimetype: m.videoMessage.mimetype ?? undefined };
  if (m.ptvMessage) return { kind: 'ptv', mimetype: m.ptvMessage.mimetype ?? undefined };
  if (m.audioMessage) return { kind: m.audioMessage.ptt ? 'voice' : 'audio', mimetype: m.audioMessage.mimetype ?? undefined };
  if (m.documentMessage) return { kind: 'document', fileName: m.documentMessage.fileName ?? undefined, caption: m.documentMessage.caption ?? undefined, mimetype: m.documentMessage.mimetype ?? undefined };
  if (m.locationMessage) return { kind: 'location', text: `${m.locationMessage.degreesLatitude},${m.locationMessage.degreesLongitude}` };
  if (m.contactMessage) return { kind: 'contact', text: m.contactMessage.displayName ?? undefined };
  if (m.contactsArrayMessage) return { kind: 'contacts', text: (m.contactsArrayMessage.contacts ?? []).map((c) => c.displayName ?? '').join(', ') };
  if (m.reactionMessage) return { kind: 'reaction', text: m.reactionMessage.text ?? undefined };
  const poll = m.pollCreationMessage ?? m.pollCreationMessageV2 ?? m.pollCreationMessageV3;
  if (poll) return { kind: 'poll', text: poll.name ?? undefined, options: (poll.options ?? []).map((o) => o.optionName ?? '') };
  if (m.pollUpdateMessage) return { kind: 'pollVote' };
  if (m.protocolMessage) return { kind: 'protocol' };
  return { kind: Object.keys(m)[0] ?? 'unknown' };
}

const STATUS_RANK = { sent: 0, delivered: 1, read: 2, played: 3 } as const;

/**
 * A customer's phone on the sandbox network (§11): it owns the account's
 * device-0 Signal keys, so it decrypts what a business sends and sends real
 * end-to-end encrypted messages back.
 */
export class VirtualPhone {
  private chain: Promise<unknown> = Promise.resolve();
  /** Messages that reached this phone again under an id it already had (a sender's retry; the customer sees them once). */
  repeats = 0;
  private readonly repo;

  constructor(
    private readonly host: PhoneHost,
    readonly phone: string,
  ) {
    const account = host.account(phone)!;
    const sessions = (account.signalSessions ??= {});
    const senderKeys = (account.senderKeys ??= {});
    const keys = {
      get: async (type: string, ids: string[]) => {
        const out: Record<string, unknown> = {};
        for (const id of ids) {
          if (type === 'session' && sessions[id]) out[id] = sessions[id];
          if (type === 'sender-key' && senderKeys[id]) out[id] = senderKeys[id];
          if (type === 'pre-key') {
            const kp = account.preKeys[Number(id)];
            if (kp) out[id] = kp;
          }
        }
        return out;
      },
      set: async (data: Record<string, Record<string, unknown>>) => {
        for (const [id, v] of Object.entries(data.session ?? {})) {
          if (v) sessions[id] = v;
          else delete sessions[id];
        }
        for (const [id, v] of Object.entries(data['pre-key'] ?? {})) if (!v) delete account.preKeys[Number(id)];
        for (const [id, v] of Object.entries(data['sender-key'] ?? {})) {
          if (v) senderKeys[id] = v;
          else delete senderKeys[id];
        }
        host.save();
      },
    };
    this.repo = makeLibSignalRepository({
      creds: { signedIdentityKey: account.accountKey, signedPreKey: account.signedPreKey, registrationId: account.registrationId },
      keys,
    });
  }

  private get state(): PhoneState {
    return this.host.phoneState(this.phone)!;
  }

  get name(): string | undefined {
    return this.state.name;
  }

  get owner(): string | undefined {
    return this.state.owner;
  }

  get online(): boolean {
    return this.state.online;
  }

  messages(): readonly PhoneMessage[] {
    return this.state.messages;
  }

  /** Messages are handled one at a time: the Signal ratchet needs order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Called by the network for a message addressed to this phone. */
  receive(from: string, id: string, enc: BinaryNode[]): Promise<void> {
    return this.serial(async () => {
      const e = enc[0];
      const ciphertext = bytes(e);
      const type = e?.attrs.type;
      if (!ciphertext || (type !== 'pkmsg' && type !== 'msg')) return;
      const plain = Buffer.from(await this.repo.decryptMessage({ jid: from, type, ciphertext }));
      const raw = Buffer.from(Baileys.unpadRandomMax16(plain));
      const message = proto.Message.decode(raw);
      const chat = userJid(parseJid(from)!.user);
      // A sender retrying after a crash reuses the message id: the customer sees it once.
      if (this.state.messages.some((m) => m.id === id && m.chat === chat && m.direction === 'in')) {
        this.repeats++;
        if (this.state.online) this.receipt(from, id);
        return;
      }
      this.record({ id, chat, direction: 'in', at: now(), raw, ...summarize(message), ...this.voteIn(message, from) }, from);
    });
  }

  /**
   * Called by the network for a message in a group this phone is in: the sender's key (pairwise
   * encrypted, when this phone does not hold it yet) comes before the content encrypted with it.
   */
  receiveGroup(group: string, from: string, id: string, enc: BinaryNode[]): Promise<void> {
    return this.serial(async () => {
      const author = userJid(parseJid(from)!.user);
      let message: ReturnType<typeof proto.Message.decode> | undefined;
      let raw: Buffer | undefined;
      for (const e of enc) {
        const ciphertext = bytes(e);
        const type = e.attrs.type;
        if (!ciphertext) continue;
        if (type === 'pkmsg' || type === 'msg') {
          const plain = Buffer.from(Baileys.unpadRandomMax16(Buffer.from(await this.repo.decryptMessage({ jid: from, type, ciphertext }))));
          const m = proto.Message.decode(plain);
          if (m.senderKeyDistributionMessage) await this.repo.processSenderKeyDistributionMessage({ authorJid: from, item: m.senderKeyDistributionMessage });
        } else if (type === 'skmsg') {
          raw = Buffer.from(Baileys.unpadRandomMax16(Buffer.from(await this.repo.decryptGroupMessage({ group, authorJid: from, msg: ciphertext }))));
          message = proto.Message.decode(raw);
        }
      }
      if (!message || !raw) return;
      if (this.state.messages.some((m) => m.id === id && m.chat === group && m.direction === 'in')) return;
      this.record({ id, chat: group, author, direction: 'in', at: now(), raw, ...summarize(message) }, from);
    });
  }

  /** A vote in one of this phone's polls, decrypted: the names of the options chosen. */
  private voteIn(message: ReturnType<typeof proto.Message.decode>, from: string): { selected?: string[] } {
    const update = message.pollUpdateMessage;
    const pollId = update?.pollCreationMessageKey?.id;
    const poll = pollId ? this.state.messages.find((m) => m.id === pollId && m.direction === 'out' && m.kind === 'poll') : undefined;
    const secret = poll && proto.Message.decode(poll.raw).messageContextInfo?.messageSecret;
    if (!update?.vote || !poll || !secret) return {};
    const vote = Baileys.decryptPollVote(update.vote, { pollCreatorJid: userJid(this.phone), pollMsgId: pollId!, pollEncKey: secret, voterJid: userJid(parseJid(from)!.user) });
    const chosen = (vote.selectedOptions ?? []).map((h) => Buffer.from(h).toString('hex'));
    return { selected: (poll.options ?? []).filter((o) => chosen.includes(Baileys.sha256(Buffer.from(o)).toString('hex'))) };
  }

  /** Keeps a received message, acknowledges it (now or when the phone comes online) and tells the network. */
  private record(entry: PhoneMessage, from: string) {
    this.state.messages.push(entry);
    const group = entry.author ? entry.chat : undefined;
    if (this.state.online) this.receipt(from, entry.id, undefined, group);
    else this.state.pendingReceipts.push({ id: entry.id, to: from, group });
    this.host.save();
    this.host.emit('phone-received', { phone: this.phone, message: entry });
  }

  /** A receipt to the sender's devices; for a group message it comes from the group and names this phone. */
  private receipt(to: string, id: string, type?: 'read' | 'played', group?: string) {
    const n = group ? node('receipt', { from: group, participant: userJid(this.phone), id, t: now(), type }) : node('receipt', { from: userJid(this.phone), id, t: now(), type });
    const target = parseJid(to)!;
    if (target.device) this.host.deliverTo(deviceJid(target.user, target.device), n);
    else for (const d of this.host.companions(target.user)) this.host.deliverTo(d.jid, n);
  }

  /** Called by the network when a business device acknowledges one of this phone's messages. */
  onReceipt(id: string, type: string | undefined) {
    const msg = this.state.messages.find((m) => m.id === id && m.direction === 'out');
    if (!msg) return;
    // "inactive" is the delivery receipt of a device that is not in the foreground (a linked WhatsApp Web, an API).
    const status = type === 'read' ? 'read' : type === 'played' ? 'played' : type === undefined || type === 'delivery' || type === 'inactive' ? 'delivered' : undefined;
    if (status && STATUS_RANK[status] > STATUS_RANK[msg.status ?? 'sent']) {
      msg.status = status;
      this.host.save();
      this.host.emit('phone-status', { phone: this.phone, id, status });
    }
  }

  setOnline(online: boolean): void {
    this.state.online = online;
    this.host.setPhoneOnline(this.phone, online);
    if (online) {
      for (const r of this.state.pendingReceipts.splice(0)) this.receipt(r.to, r.id, undefined, r.group);
    }
    this.host.save();
    this.host.emit('phone-changed', { phone: this.phone });
  }

  /** Marks received messages read (all unread ones from `chat` when no ids are given). */
  markRead(opts: { chat?: string; ids?: string[]; played?: boolean } = {}): string[] {
    const targets = this.state.messages.filter(
      (m) => m.direction === 'in' && !m.read && (!opts.ids || opts.ids.includes(m.id)) && (!opts.chat || m.chat === opts.chat),
    );
    for (const m of targets) {
      m.read = true;
      if (m.author) this.receipt(m.author, m.id, opts.played ? 'played' : 'read', m.chat);
      else this.receipt(m.chat, m.id, opts.played ? 'played' : 'read');
    }
    this.host.save();
    if (targets.length) this.host.emit('phone-changed', { phone: this.phone });
    return targets.map((m) => m.id);
  }

  /**
   * Sends a message to `to` (a phone number or user JID), encrypted for each of
   * its linked devices. Content takes Baileys' shapes: { text }, { image: Buffer,
   * caption }, { document, mimetype, fileName }, { audio, ptt }, { location },
   * { contacts }, { react }.
   */
  send(to: string, content: AnyContent): Promise<PhoneMessage> {
    return this.serial(async () => {
      const message = await Baileys.generateWAMessageContent(content, { upload: (stream: Readable, o: { mediaType: string }) => this.upload(stream, o.mediaType) } as never);
      return this.deliver(to, message, message.pollCreationMessage || message.pollCreationMessageV2 || message.pollCreationMessageV3 ? 'poll' : 'text');
    });
  }

  /**
   * Votes on a poll this phone received, as WhatsApp does: the chosen options' SHA-256 hashes,
   * AES-GCM encrypted with a key derived from the poll's message secret, in a pollUpdateMessage.
   * An empty list takes the vote back.
   */
  vote(pollId: string, options: string[]): Promise<PhoneMessage> {
    return this.serial(async () => {
      const poll = this.state.messages.find((m) => m.id === pollId && m.direction === 'in' && m.kind === 'poll');
      if (!poll) throw new Error(`no poll ${pollId} on ${this.phone}`);
      const unknown = options.find((o) => !poll.options?.includes(o));
      if (unknown !== undefined) throw new Error(`"${unknown}" is not an option of this poll`);
      const secret = proto.Message.decode(poll.raw).messageContextInfo?.messageSecret;
      if (!secret) throw new Error('the poll carries no message secret');
      const creator = poll.chat;
      const voter = userJid(this.phone);
      const sign = Buffer.concat([Buffer.from(pollId), Buffer.from(creator), Buffer.from(voter), Buffer.from('Poll Vote'), Buffer.from([1])]);
      const key = Baileys.hmacSign(sign, Baileys.hmacSign(Buffer.from(secret), Buffer.alloc(32), 'sha256'), 'sha256');
      const iv = randomBytes(12);
      const vote = proto.Message.PollVoteMessage.encode({ selectedOptions: options.map((o) => Baileys.sha256(Buffer.from(o))) }).finish();
      const encPayload = Baileys.aesEncryptGCM(Buffer.from(vote), key, iv, Buffer.from(`${pollId}\u0000${voter}`));
      const message = proto.Message.fromObject({
        pollUpdateMessage: { pollCreationMessageKey: { remoteJid: creator, fromMe: false, id: pollId }, vote: { encPayload, encIv: iv }, senderTimestampMs: Date.now() },
      });
      return this.deliver(creator, message, 'poll');
    });
  }

  private async deliver(to: string, message: ReturnType<typeof proto.Message.decode>, stanzaType: 'text' | 'poll' = 'text'): Promise<PhoneMessage> {
    const target = parseJid(to.includes('@') ? to : userJid(to));
    if (!target) throw new Error(`"${to}" is not a phone number or JID`);
    if (target.server === 'g.us') return this.deliverToGroup(target.user, message, stanzaType);
    const raw = Buffer.from(proto.Message.encode(message).finish());
    const id = messageId();
    // A number that blocked this phone never gets what it sends (one tick, as on WhatsApp).
    const devices = this.host.account(target.user)?.blocked?.includes(this.phone) ? [] : this.host.companions(target.user);
    const account = this.host.account(this.phone);
    for (const d of devices) {
      const sessions = this.host.account(this.phone)!.signalSessions ?? {};
      const address = `${parseJid(d.jid)!.user}.${parseJid(d.jid)!.device}`;
      if (!sessions[address]) await this.injectSession(d.jid);
      const { type, ciphertext } = await this.repo.encryptMessage({ jid: d.jid, data: PAD(raw) });
      const mediatype = message.imageMessage ? 'image' : message.videoMessage ? 'video' : message.audioMessage ? (message.audioMessage.ptt ? 'ptt' : 'audio') : message.documentMessage ? 'document' : undefined;
      this.host.deliverTo(
        d.jid,
        node('message', { from: userJid(this.phone), id, t: now(), type: stanzaType, notify: account?.name ?? this.state.name }, [
          node('enc', { v: '2', type, mediatype }, ciphertext),
        ]),
      );
    }
    const entry: PhoneMessage = { id, chat: userJid(target.user), direction: 'out', at: now(), raw, status: 'sent', ...summarize(message) };
    this.state.messages.push(entry);
    this.host.save();
    this.host.emit('phone-sent', { phone: this.phone, message: entry });
    return entry;
  }

  /**
   * A message to a group, as a phone sends one: the content encrypted once with this phone's sender
   * key, and the key itself pairwise encrypted for each member device that has not had it yet.
   * Other virtual phones in the group are simulated alongside, so they get the content directly.
   */
  private async deliverToGroup(id: string, message: ReturnType<typeof proto.Message.decode>, stanzaType: string): Promise<PhoneMessage> {
    const group = this.host.groups.member(id, this.phone);
    if (group.announce && !this.host.groups.isAdmin(group, this.phone)) throw new GroupError('401', 'not-authorized');
    const jid = groupJid(id);
    const me = userJid(this.phone);
    const raw = Buffer.from(proto.Message.encode(message).finish());
    const msgId = messageId();
    const { ciphertext, senderKeyDistributionMessage } = await this.repo.encryptGroupMessage({ group: jid, meId: me, data: PAD(raw) });
    const sent = ((this.state.senderKeysSent ??= {})[jid] ??= []);
    const keyMessage = PAD(proto.Message.encode({ senderKeyDistributionMessage: { groupId: jid, axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage } }).finish());
    const account = this.host.account(this.phone);
    const entry: PhoneMessage = { id: msgId, chat: jid, author: me, direction: 'out', at: now(), raw, status: 'sent', ...summarize(message) };
    for (const p of group.participants) {
      if (p.phone === this.phone) continue;
      const other = this.host.phone(p.phone);
      if (other) other.copyFromGroup({ ...entry, direction: 'in', status: undefined });
      for (const d of this.host.companions(p.phone)) {
        const content: BinaryNode[] = [];
        if (!sent.includes(d.jid)) {
          const address = `${parseJid(d.jid)!.user}.${parseJid(d.jid)!.device}`;
          if (!(this.host.account(this.phone)!.signalSessions ?? {})[address]) await this.injectSession(d.jid);
          const { type, ciphertext: keyCipher } = await this.repo.encryptMessage({ jid: d.jid, data: keyMessage });
          content.push(node('enc', { v: '2', type }, keyCipher));
          sent.push(d.jid);
        }
        content.push(node('enc', { v: '2', type: 'skmsg' }, Buffer.from(ciphertext)));
        this.host.deliverTo(d.jid, node('message', { from: jid, participant: me, id: msgId, t: now(), type: stanzaType, notify: account?.name ?? this.state.name }, content));
      }
    }
    this.state.messages.push(entry);
    this.host.save();
    this.host.emit('phone-sent', { phone: this.phone, message: entry });
    return entry;
  }

  /** Another virtual phone's group message, handed over inside the simulation. */
  copyFromGroup(entry: PhoneMessage): void {
    if (this.state.messages.some((m) => m.id === entry.id && m.direction === 'in')) return;
    this.state.messages.push(entry);
    this.host.save();
    this.host.emit('phone-received', { phone: this.phone, message: entry });
  }

  /** Creates a group with the given numbers, this phone its creator and admin. */
  createGroup(subject: string, phones: string[]) {
    return this.host.groups.create(this.phone, subject, phones);
  }

  calls(): readonly PhoneCall[] {
    return this.state.calls ?? [];
  }

  /** Calls a number (voice, or video): its linked devices get the offer and may reject it. */
  call(to: string, opts: { video?: boolean } = {}): PhoneCall {
    const target = parseJid(to.includes('@') ? to : userJid(to))!;
    const call: PhoneCall = { id: randomBytes(16).toString('hex').toUpperCase(), to: target.user, video: !!opts.video, at: now(), status: 'ringing' };
    (this.state.calls ??= []).push(call);
    const me = userJid(this.phone);
    const media = [node('audio', { enc: 'opus', rate: '16000' }), ...(call.video ? [node('video', { enc: 'vp8', dec: 'vp8' })] : [])];
    const offer = node('call', { from: me, id: messageId(), t: call.at, notify: this.state.name }, [node('offer', { 'call-id': call.id, 'call-creator': me }, media)]);
    if (!this.host.account(target.user)?.blocked?.includes(this.phone)) for (const d of this.host.companions(target.user)) this.host.deliverTo(d.jid, offer);
    this.host.save();
    this.host.emit('phone-call', { phone: this.phone, call });
    return call;
  }

  /** Gives up on a ringing call (the callee's devices see it end). */
  hangUp(callId: string): void {
    const call = this.state.calls?.find((c) => c.id === callId);
    if (!call || call.status !== 'ringing') return;
    call.status = 'ended';
    const me = userJid(this.phone);
    const end = node('call', { from: me, id: messageId(), t: now() }, [node('terminate', { 'call-id': call.id, 'call-creator': me })]);
    for (const d of this.host.companions(call.to)) this.host.deliverTo(d.jid, end);
    this.host.save();
    this.host.emit('phone-call', { phone: this.phone, call });
  }

  /** Called by the network when the callee's device rejects or accepts one of this phone's calls. */
  onCallAnswer(callId: string, answer: 'rejected' | 'accepted'): void {
    const call = this.state.calls?.find((c) => c.id === callId);
    if (!call || call.status !== 'ringing') return;
    call.status = answer;
    this.host.save();
    this.host.emit('phone-call', { phone: this.phone, call });
  }

  /** Sets (or, with undefined, removes) this phone's profile picture, which linked devices can fetch. */
  setPicture(jpeg: Buffer | undefined): void {
    const account = this.host.account(this.phone)!;
    if (!jpeg) delete account.picture;
    else {
      if (!this.host.media) throw new Error('the sandbox runs without a media server');
      const { url, directPath } = this.host.media.put(jpeg);
      account.picture = { id: String(now()), url, directPath };
    }
    this.host.save();
    this.host.emit('phone-changed', { phone: this.phone });
  }

  /** Joins a group by its invitation code (or asks to, when the group wants approval). */
  joinGroup(code: string) {
    return this.host.groups.join(code, this.phone);
  }

  leaveGroup(id: string): void {
    this.host.groups.leave(id, this.phone);
  }

  /**
   * Fault injection: a message whose ciphertext no device can decrypt, as when
   * keys went out of sync. The client shows "waiting for this message".
   */
  sendUndecryptable(to: string): string {
    const target = parseJid(to.includes('@') ? to : userJid(to))!;
    const id = messageId();
    for (const d of this.host.companions(target.user)) {
      this.host.deliverTo(d.jid, node('message', { from: userJid(this.phone), id, t: now(), type: 'text', notify: this.state.name }, [node('enc', { v: '2', type: 'msg' }, randomBytes(80))]));
    }
    return id;
  }

  private async injectSession(jid: string) {
    const bundle = this.host.bundleFor(jid);
    const key = (n: BinaryNode | undefined, withSig: boolean) =>
      n
        ? {
            keyId: bytes(child(n, 'id'))!.readUIntBE(0, 3),
            publicKey: Baileys.generateSignalPubKey(bytes(child(n, 'value'))!),
            ...(withSig ? { signature: bytes(child(n, 'signature')) } : {}),
          }
        : undefined;
    await this.repo.injectE2ESession({
      jid,
      session: {
        registrationId: bytes(child(bundle, 'registration'))!.readUInt32BE(0),
        identityKey: Baileys.generateSignalPubKey(bytes(child(bundle, 'identity'))!),
        signedPreKey: key(child(bundle, 'skey'), true),
        preKey: key(child(bundle, 'key'), false),
      },
    });
  }

  private async upload(stream: Readable, _mediaType: string): Promise<{ mediaUrl: string; directPath: string }> {
    if (!this.host.media) throw new Error('the sandbox runs without a media server');
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
    const { url, directPath } = this.host.media.put(Buffer.concat(chunks));
    return { mediaUrl: url, directPath };
  }

  /** The decrypted media of a message this phone received. */
  async download(id: string): Promise<Buffer> {
    const msg = this.state.messages.find((m) => m.id === id);
    if (!msg) throw new Error(`no message ${id}`);
    const message = proto.Message.decode(msg.raw);
    const { Agent } = await import('node:https');
    const agent = new Agent({ ca: this.host.media?.cert });
    return (await Baileys.downloadMediaMessage({ key: { id }, message } as never, 'buffer', { options: { httpsAgent: agent } } as never)) as Buffer;
  }
}

export function newPhoneState(phone: string, name?: string, owner?: string): PhoneState {
  return { phone, name, owner, online: true, messages: [], pendingReceipts: [] };
}

export const randomPhoneId = () => randomBytes(4).toString('hex');
