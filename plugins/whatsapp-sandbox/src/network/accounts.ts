import { randomBytes, randomInt } from 'node:crypto';
import { generateKeyPair, signedKeyPair } from './baileys.js';
import type { Account } from './state.js';

/** A number's account as WhatsApp keeps it: its identity and signed prekey, and the counters for its devices and keys. */
export function newAccount(phone: string, opts: { name?: string; business?: boolean }): Account {
  const accountKey = generateKeyPair();
  const spk = signedKeyPair(accountKey, 1);
  return {
    phone,
    name: opts.name,
    business: !!opts.business,
    accountKey,
    registrationId: randomInt(1, 16380),
    signedPreKey: { keyId: 1, keyPair: { public: Buffer.from(spk.keyPair.public), private: Buffer.from(spk.keyPair.private) }, signature: Buffer.from(spk.signature) },
    preKeys: {},
    nextPreKeyId: 1,
    nextDeviceId: 2,
    nextKeyIndex: 1,
    appStateKey: { keyId: randomBytes(6), keyData: randomBytes(32) },
  };
}
