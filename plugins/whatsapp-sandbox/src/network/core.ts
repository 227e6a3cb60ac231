import type { BinaryNode } from './baileys.js';
import type { Conn, NetworkLogger } from './conn.js';
import type { Groups } from './groups.js';
import type { MediaServer } from './media.js';
import type { VirtualPhone } from './phones.js';
import type { Account, Device, NetworkState } from './state.js';

/** The network's behaviour switches (NetworkOptions with their defaults). */
export interface NetworkSwitches {
  host: string;
  port: number;
  phoneSenderReceipts: boolean;
  normalizeReceiptFrom: boolean;
  offlineAttr: boolean;
  oneTimePreKeys: boolean;
  firstFrameDelayMs: number;
  traceLimit: number;
}

/**
 * What the parts of the network (linking, login, IQs, relay, presence) share: the state, the
 * open connections by device, sending on a connection, and each other's entry points. The
 * network implements it and hands itself to each part.
 */
export interface NetworkCore {
  readonly state: NetworkState;
  readonly opts: NetworkSwitches;
  readonly log: NetworkLogger;
  /** The connection each device is logged in on. */
  readonly live: Map<string, Conn>;
  readonly media?: MediaServer;
  readonly groups: Groups;
  send(conn: Conn, n: BinaryNode): boolean;
  close(conn: Conn, delayMs?: number): void;
  /** Sends a server IQ and resolves with the client's reply. */
  query(conn: Conn, iq: BinaryNode, timeoutMs?: number): Promise<BinaryNode>;
  result(conn: Conn, req: BinaryNode, content?: BinaryNode[]): void;
  iqError(conn: Conn, req: BinaryNode, code: string, text: string): void;
  save(): void;
  emit(event: string, payload: unknown): boolean;
  getOrCreateAccount(phone: string, opts?: { name?: string; business?: boolean }): Account;
  /** The linked devices of a number, in device order. */
  companions(phone: string): Device[];
  phone(phone: string): VirtualPhone | undefined;
  deliver(device: Device, n: BinaryNode): void;
  accountOnline(phone: string): boolean;
  pushPresence(phone: string): void;
  removeDevice(jid: string): void;
  /** Notes that device `by` asked for `phone`'s device list. */
  deviceListRead(phone: string, by: string): void;
  /** Tells the devices that asked for the list that `device` joined or left its number's devices. */
  announceDevices(change: 'add' | 'remove', device: Device): void;
}
