import { createRequire } from 'node:module';

/**
 * The network reuses the Baileys client's own codec, protobufs and crypto, so
 * what it speaks is byte-for-byte what the client expects. Baileys is CommonJS;
 * requiring it keeps both the runtime object and its types exact.
 */
const require = createRequire(import.meta.url);

export type BaileysModule = typeof import('@whiskeysockets/baileys');
export const Baileys: BaileysModule = require('@whiskeysockets/baileys');
export type { BinaryNode } from '@whiskeysockets/baileys';

/** The pinned Baileys version this network was checked against (see the self-test). */
export const SUPPORTED_BAILEYS_VERSION = '6.17.16';
export const installedBaileysVersion = (): string => require('@whiskeysockets/baileys/package.json').version;

export const { proto, Curve, encodeBinaryNode, decodeBinaryNode, signedKeyPair, S_WHATSAPP_NET } = Baileys;
export const NOISE_MODE: string = Baileys.NOISE_MODE;
export const NOISE_WA_HEADER: Uint8Array = Baileys.NOISE_WA_HEADER;

export interface KeyPair {
  public: Buffer;
  private: Buffer;
}

export function generateKeyPair(): KeyPair {
  const kp = Curve.generateKeyPair();
  return { public: Buffer.from(kp.public), private: Buffer.from(kp.private) };
}
