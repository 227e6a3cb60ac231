import type { WebSocket } from 'ws';
import type { BinaryNode } from './baileys.js';
import type { NoiseResponder } from './noise.js';
import type { Device } from './state.js';

export interface NetworkLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silent: NetworkLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface TraceEntry {
  at: number;
  dir: 'in' | 'out';
  conn: number;
  jid?: string;
  xml: string;
}

export interface ScanOptions {
  name?: string;
  business?: boolean;
  platform?: 'smba' | 'android' | 'iphone' | 'smbi';
  /** The phone already has this history (contacts, chats, messages, chat settings): every device linked to it receives it. */
  history?: { chats: number; messages: number };
}

/** The keys a new device registers with before it is linked (§2). */
export interface Registration {
  registrationId: Buffer;
  identityKey: Buffer;
  signedPreKey: { id: Buffer; value: Buffer; signature: Buffer };
  platform?: string;
}

/** One WebSocket connection: handshake state, then the device it logged in as. */
export class Conn {
  stage: 'hello' | 'finish' | 'open' | 'closed' = 'hello';
  clientStatic?: Buffer;
  registration?: Registration;
  refs: string[] = [];
  device?: Device;
  /** The passive/active IQ arrived: pushes are safe from now on. */
  ready = false;
  available = false;
  partitionedUntil = 0;
  chain: Promise<void> = Promise.resolve();
  readonly pending = new Map<string, (n: BinaryNode) => void>();
  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly noise: NoiseResponder,
  ) {}
  get jid() {
    return this.device?.jid;
  }
}

export class SandboxError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

export function assertPhone(phone: string) {
  if (!/^\d{8,15}$/.test(phone)) throw new SandboxError('invalid_phone', `"${phone}" is not a phone number: 8 to 15 digits with country code, no +.`);
}
