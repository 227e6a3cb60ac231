import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { Baileys, Curve, generateKeyPair, proto, type KeyPair } from './baileys.js';
import type { Account } from './state.js';
import { now } from './stanza.js';

/**
 * The cryptography of linking a device, as the primary phone does it: the signed device identity
 * of pair-success (QR and pairing code alike) and the link-code exchange (WhatsApp's code-derived
 * wrapping of ephemeral keys, and the key bundle that proves both sides typed one code).
 */

/** The ADVSignedDeviceIdentityHMAC the phone hands a new companion: signed by the account, HMACed with the secret both share. */
export function signedDeviceIdentity(account: Account, companionIdentity: Buffer, keyIndex: number, advSecret: Buffer): Buffer {
  const details = Buffer.from(proto.ADVDeviceIdentity.encode({ rawId: randomInt(1, 2 ** 31), timestamp: now(), keyIndex }).finish());
  const accountSignature = Buffer.from(Curve.sign(account.accountKey.private, Buffer.concat([Buffer.from([6, 0]), details, companionIdentity])));
  const signed = Buffer.from(proto.ADVSignedDeviceIdentity.encode({ details, accountSignatureKey: account.accountKey.public, accountSignature }).finish());
  const hmac = createHmac('sha256', advSecret).update(signed).digest();
  return Buffer.from(proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish());
}

/** The phone's answer to a companion's wrapped ephemeral key, for the code the person typed. */
export async function primaryHello(wrappedCompanion: Buffer, code: string): Promise<{ companionEphemeral: Buffer; primaryEphemeral: KeyPair; wrappedPrimary: Buffer }> {
  const w = wrappedCompanion;
  const companionEphemeral = Buffer.from(Baileys.aesDecryptCTR(w.subarray(48, 80), await Baileys.derivePairingCodeKey(code, w.subarray(0, 32)), w.subarray(32, 48)));
  const primaryEphemeral = generateKeyPair();
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const wrappedPrimary = Buffer.concat([salt, iv, Baileys.aesEncryptCTR(primaryEphemeral.public, await Baileys.derivePairingCodeKey(code, salt), iv)]);
  return { companionEphemeral, primaryEphemeral, wrappedPrimary };
}

/**
 * Opens the companion's key bundle and derives the ADV secret. Undefined when the bundle does not
 * open: the two sides derived different keys, so the code typed is not the one the device showed.
 */
export async function companionFinish(
  hello: { companionEphemeral: Buffer; primaryEphemeral: KeyPair },
  bundle: Buffer,
  account: Account,
  companionIdentity: Buffer,
): Promise<{ advSecret: Buffer; names: { companion: Buffer; primary: Buffer } } | undefined> {
  const shared = Buffer.from(Curve.sharedKey(hello.primaryEphemeral.private, hello.companionEphemeral));
  const key = await Baileys.hkdf(shared, 32, { salt: bundle.subarray(0, 32), info: 'link_code_pairing_key_bundle_encryption_key' });
  let plain: Buffer;
  try {
    plain = Buffer.from(Baileys.aesDecryptGCM(bundle.subarray(44), key, bundle.subarray(32, 44), Buffer.alloc(0)));
  } catch {
    return undefined;
  }
  const identityShared = Buffer.from(Curve.sharedKey(account.accountKey.private, companionIdentity));
  const advSecret = Buffer.from(await Baileys.hkdf(Buffer.concat([shared, identityShared, plain.subarray(64, 96)]), 32, { info: 'adv_secret' }));
  return { advSecret, names: { companion: plain.subarray(0, 32), primary: plain.subarray(32, 64) } };
}
