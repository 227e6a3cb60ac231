import { createRequire } from 'node:module';
import { Baileys, type BinaryNode } from './baileys.js';
import type { Account } from './state.js';
import { bytes, child } from './stanza.js';

const require = createRequire(import.meta.url);
const { makeLibSignalRepository } = require('@whiskeysockets/baileys/lib/Signal/libsignal.js') as {
  makeLibSignalRepository: (auth: unknown) => PhoneSignal;
};

/** Baileys' own Signal repository (libsignal), as a virtual phone uses it with its account's keys. */
export interface PhoneSignal {
  decryptMessage(o: { jid: string; type: 'pkmsg' | 'msg'; ciphertext: Buffer }): Promise<Uint8Array>;
  decryptGroupMessage(o: { group: string; authorJid: string; msg: Buffer }): Promise<Uint8Array>;
  processSenderKeyDistributionMessage(o: { authorJid: string; item: { groupId?: string | null; axolotlSenderKeyDistributionMessage?: Uint8Array | null } }): Promise<void>;
  encryptGroupMessage(o: { group: string; meId: string; data: Uint8Array }): Promise<{ ciphertext: Uint8Array; senderKeyDistributionMessage: Uint8Array }>;
  encryptMessage(o: { jid: string; data: Uint8Array }): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Buffer }>;
  injectE2ESession(o: { jid: string; session: unknown }): Promise<void>;
}

/**
 * The phone's Signal state lives in its account (device 0's identity, prekeys, sessions and
 * sender keys), kept in the network's state file through `save`.
 */
export function phoneSignal(account: Account, save: () => void): PhoneSignal {
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
      save();
    },
  };
  return makeLibSignalRepository({
    creds: { signedIdentityKey: account.accountKey, signedPreKey: account.signedPreKey, registrationId: account.registrationId },
    keys,
  });
}

/** Starts a session with a device from its prekey bundle (as an encrypt IQ answers it), before the first message to it. */
export async function startSession(signal: PhoneSignal, jid: string, bundle: BinaryNode): Promise<void> {
  const key = (n: BinaryNode | undefined, withSig: boolean) =>
    n
      ? {
          keyId: bytes(child(n, 'id'))!.readUIntBE(0, 3),
          publicKey: Baileys.generateSignalPubKey(bytes(child(n, 'value'))!),
          ...(withSig ? { signature: bytes(child(n, 'signature')) } : {}),
        }
      : undefined;
  await signal.injectE2ESession({
    jid,
    session: {
      registrationId: bytes(child(bundle, 'registration'))!.readUInt32BE(0),
      identityKey: Baileys.generateSignalPubKey(bytes(child(bundle, 'identity'))!),
      signedPreKey: key(child(bundle, 'skey'), true),
      preKey: key(child(bundle, 'key'), false),
    },
  });
}
