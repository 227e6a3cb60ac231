import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Baileys, type BinaryNode, type KeyPair } from './baileys.js';

export interface SignedPreKeyRecord {
  keyId: number;
  keyPair: KeyPair;
  signature: Buffer;
}

/** A phone number on the network; its device 0 is the simulated primary phone. */
export interface Account {
  phone: string;
  name?: string;
  business: boolean;
  /** The ADV account key, which is also the primary phone's Signal identity. */
  accountKey: KeyPair;
  registrationId: number;
  signedPreKey: SignedPreKeyRecord;
  preKeys: Record<number, KeyPair>;
  nextPreKeyId: number;
  nextDeviceId: number;
  nextKeyIndex: number;
  /** App-state sync key shared with every companion of the account (bootstrap). */
  appStateKey: { keyId: Buffer; keyData: Buffer };
  lastSeen?: number;
  /** The profile's About text and when it was set (seconds), as usync's status protocol answers it. */
  about?: { text: string; t: number };
  /** Signal sessions of the simulated phone (device 0), for virtual phones. */
  signalSessions?: Record<string, unknown>;
  /** App-state collections the account's devices wrote (push name, chat settings), by name. */
  appState?: Record<string, AppStateCollection>;
  /** What those patches said of each chat (JID). */
  chats?: Record<string, ChatSettings>;
  /** Numbers this account blocked: what they send it is not delivered. */
  blocked?: string[];
  /** The profile picture, as the media server serves it. */
  picture?: { id: string; url: string; directPath: string };
  /** The history a newly linked device receives (history sync): its spec and the notifications that point at its blobs. */
  history?: { spec: { chats: number; messages: number }; notifications: Buffer[] };
  /** Group sender keys of the simulated phone (its own and those other members gave it). */
  senderKeys?: Record<string, unknown>;
}

export interface LtState {
  version: number;
  hash: Buffer;
  indexValueMap: Record<string, { valueMac: Uint8Array }>;
}

/** One app-state collection of an account: its patches in order (patch n is version n) and where the hash stands. */
export interface AppStateCollection {
  patches: Buffer[];
  lt: LtState;
}

/** What an account's devices said through app state that the sandbox shows: chats archived, pinned, muted, read. */
export interface ChatSettings {
  archived?: boolean;
  pinned?: boolean;
  /** When the mute ends (ms), -1 for always; absent when not muted. */
  mutedUntil?: number;
  read?: boolean;
  cleared?: number;
  deleted?: number;
}

/** What a virtual phone received or sent, as a test or a person in the sandbox UI sees it. */
export interface PhoneMessage {
  id: string;
  /** The other party's user JID, or the group's JID. */
  chat: string;
  /** In a group: who wrote it (user JID). */
  author?: string;
  direction: 'in' | 'out';
  at: number;
  kind: string;
  text?: string;
  caption?: string;
  fileName?: string;
  mimetype?: string;
  /** A poll's options. */
  options?: string[];
  /** The JIDs a text mentions. */
  mentions?: string[];
  /** A text's link preview: the link, its title and description, whether it carries a thumbnail. */
  link?: { url: string; title?: string; description?: string; thumbnail: boolean };
  /** A vote in one of this phone's polls: the options chosen, decrypted with the poll's secret. */
  selected?: string[];
  /** The decrypted proto.Message bytes. */
  raw: Buffer;
  /** For sent messages: the furthest receipt seen (sent, delivered, read, played). */
  status?: 'sent' | 'delivered' | 'read' | 'played';
  /** For received messages: whether the phone marked it read. */
  read?: boolean;
}

export interface PhoneState {
  phone: string;
  name?: string;
  /** The PlugChat account that created it; only that account sees and drives it. */
  owner?: string;
  online: boolean;
  messages: PhoneMessage[];
  /** Delivery receipts held while the phone is offline (`group` when the message came in one). */
  pendingReceipts: { id: string; to: string; group?: string }[];
  /** The devices this phone gave its sender key for each group (JID → device JIDs). */
  senderKeysSent?: Record<string, string[]>;
  /** Calls this phone made: ringing until the callee rejects (or accepts) or the phone hangs up. */
  calls?: PhoneCall[];
}

export interface PhoneCall {
  id: string;
  /** The number called. */
  to: string;
  video: boolean;
  at: number;
  status: 'ringing' | 'rejected' | 'accepted' | 'ended';
}

/** A linked companion device (a Baileys client). */
export interface Device {
  jid: string;
  phone: string;
  deviceId: number;
  keyIndex: number;
  noiseKey: Buffer;
  identityKey: Buffer;
  registrationId: Buffer;
  signedPreKey: { id: Buffer; value: Buffer; signature: Buffer };
  preKeys: Record<number, Buffer>;
  /** ADVSignedDeviceIdentity with accountSignatureKey, as sent in pkmsg stanzas. */
  bootstrapped: boolean;
  platform?: string;
  /** Stanzas waiting while the device is offline, delivered with offline='1'. */
  queue: BinaryNode[];
}

/** A group chat: who is in it, who administers it, its settings and invitation code. */
export interface Group {
  /** The user part of its JID (`…@g.us`). */
  id: string;
  subject: string;
  subjectOwner: string;
  subjectTime: number;
  creator: string;
  creation: number;
  description?: { text: string; id: string };
  participants: { phone: string; admin?: 'admin' | 'superadmin' }[];
  /** Only admins send messages. */
  announce: boolean;
  /** Only admins change the group's settings. */
  locked: boolean;
  /** Joining by link waits for an admin's approval. */
  approval: boolean;
  /** Every member may add others (otherwise admins only). */
  memberAdd?: boolean;
  /** Numbers that asked to join and wait for an admin. */
  requests: string[];
  inviteCode: string;
  picture?: { id: string; url: string; directPath: string };
}

export interface NetworkState {
  version: 1;
  accounts: Record<string, Account>;
  devices: Record<string, Device>;
  phones: Record<string, PhoneState>;
  groups: Record<string, Group>;
}

export const emptyState = (): NetworkState => ({ version: 1, accounts: {}, devices: {}, phones: {}, groups: {} });

/** Keeps the network state in one JSON file, written atomically, debounced. */
export class StateFile {
  private timer?: NodeJS.Timeout;

  constructor(readonly file: string | undefined) {}

  load(): NetworkState {
    if (!this.file || !existsSync(this.file)) return emptyState();
    const parsed = JSON.parse(readFileSync(this.file, 'utf8'), Baileys.BufferJSON.reviver) as NetworkState;
    if (parsed.version !== 1) throw new Error(`${this.file}: unknown sandbox state version ${String((parsed as { version?: unknown }).version)}`);
    return { ...emptyState(), ...parsed };
  }

  scheduleSave(state: NetworkState): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.saveNow(state);
    }, 50);
    this.timer.unref();
  }

  saveNow(state: NetworkState): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, Baileys.BufferJSON.replacer), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
