import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Baileys, proto, type BinaryNode } from './baileys.js';
import { GroupError, groupJid, type Groups } from './groups.js';
import type { MediaServer } from './media.js';
import type { Account, PhoneCall, PhoneMessage, PhoneState } from './state.js';
import { mediaTypeOf, pollVoteMessage, summarize, votedOptions } from './phoneContent.js';
import { phoneSignal, startSession, type PhoneSignal } from './phoneSignal.js';
import { bytes, deviceJid, messageId, node, now, parseJid, userJid } from './stanza.js';

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
  private readonly repo: PhoneSignal;

  constructor(
    private readonly host: PhoneHost,
    readonly phone: string,
  ) {
    this.repo = phoneSignal(host.account(phone)!, () => host.save());
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
    const selected = update && poll && votedOptions(update, poll, userJid(this.phone), userJid(parseJid(from)!.user));
    return selected ? { selected } : {};
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

  /** Votes on a poll this phone received, as WhatsApp does (phoneContent.ts); an empty list takes the vote back. */
  vote(pollId: string, options: string[]): Promise<PhoneMessage> {
    return this.serial(async () => {
      const poll = this.state.messages.find((m) => m.id === pollId && m.direction === 'in' && m.kind === 'poll');
      if (!poll) throw new Error(`no poll ${pollId} on ${this.phone}`);
      const unknown = options.find((o) => !poll.options?.includes(o));
      if (unknown !== undefined) throw new Error(`"${unknown}" is not an option of this poll`);
      const secret = proto.Message.decode(poll.raw).messageContextInfo?.messageSecret;
      if (!secret) throw new Error('the poll carries no message secret');
      return this.deliver(poll.chat, pollVoteMessage({ id: pollId, creator: poll.chat, secret }, userJid(this.phone), options), 'poll');
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
      const mediatype = mediaTypeOf(message);
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

  private injectSession(jid: string): Promise<void> {
    return startSession(this.repo, jid, this.host.bundleFor(jid));
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
