import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { Curve, NOISE_MODE, NOISE_WA_HEADER, proto, generateKeyPair, type KeyPair } from './baileys.js';

/** A protocol violation on one connection: it closes that connection, nothing else. */
export class NoiseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoiseError';
  }
}

const ivFor = (counter: number) => {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(counter, 8);
  return iv;
};

const sha256 = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/**
 * The responder side of WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake and
 * its 3-byte length framing (the mirror of Baileys' noise-handler).
 */
export class NoiseResponder {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private ephemeral?: KeyPair;
  private sendKey?: Buffer;
  private recvKey?: Buffer;
  private sendCounter = 0;
  private recvCounter = 0;
  private buffer = Buffer.alloc(0);
  private introSeen = false;
  finished = false;

  constructor(private readonly staticKey: KeyPair) {
    const mode = Buffer.from(NOISE_MODE);
    this.hash = mode.length === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
  }

  private mixHash(data: Buffer) {
    this.hash = sha256(this.hash, data);
  }

  private mixKey(ikm: Buffer) {
    const okm = Buffer.from(hkdfSync('sha256', ikm, this.salt, Buffer.alloc(0), 64));
    this.salt = okm.subarray(0, 32);
    this.key = okm.subarray(32, 64);
    this.counter = 0;
  }

  private encryptHandshake(plain: Buffer): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, ivFor(this.counter++));
    cipher.setAAD(this.hash);
    const out = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    this.mixHash(out);
    return out;
  }

  private decryptHandshake(data: Buffer): Buffer {
    if (data.length < 16) throw new NoiseError('handshake ciphertext too short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, ivFor(this.counter++));
    decipher.setAAD(this.hash);
    decipher.setAuthTag(data.subarray(data.length - 16));
    let out: Buffer;
    try {
      out = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    } catch {
      throw new NoiseError('handshake decryption failed');
    }
    this.mixHash(data);
    return out;
  }

  /** Splits incoming bytes into frames; strips the client's intro from the first message. */
  feed(data: Buffer): Buffer[] {
    this.buffer = Buffer.concat([this.buffer, data]);
    if (!this.introSeen) {
      if (this.buffer.length < 4) return [];
      let offset = 0;
      if (this.buffer[0] === 0x45 && this.buffer[1] === 0x44) {
        // 'ED' 0 1 + 3-byte routing length + routing info, then the WA header.
        if (this.buffer.length < 7) return [];
        const len = (this.buffer[4]! << 16) | this.buffer.readUInt16BE(5);
        offset = 7 + len;
        if (this.buffer.length < offset + 4) return [];
      }
      const header = this.buffer.subarray(offset, offset + 4);
      if (!header.equals(Buffer.from(NOISE_WA_HEADER))) throw new NoiseError('bad intro header');
      this.buffer = this.buffer.subarray(offset + 4);
      this.introSeen = true;
    }
    const frames: Buffer[] = [];
    while (this.buffer.length >= 3) {
      const size = (this.buffer[0]! << 16) | this.buffer.readUInt16BE(1);
      if (this.buffer.length < size + 3) break;
      const frame = this.buffer.subarray(3, size + 3);
      this.buffer = this.buffer.subarray(size + 3);
      frames.push(this.finished ? this.decrypt(frame) : Buffer.from(frame));
    }
    if (this.buffer.length > 16 * 1024 * 1024) throw new NoiseError('frame larger than 16 MiB');
    return frames;
  }

  /** clientHello → serverHello frame (bytes to send). */
  onClientHello(frame: Buffer): Buffer {
    let hello: ReturnType<typeof proto.HandshakeMessage.decode>;
    try {
      hello = proto.HandshakeMessage.decode(frame);
    } catch {
      throw new NoiseError('malformed HandshakeMessage');
    }
    const clientEphemeral = hello.clientHello?.ephemeral;
    if (!clientEphemeral || clientEphemeral.length !== 32) throw new NoiseError('clientHello without a 32-byte ephemeral key');
    this.mixHash(Buffer.from(NOISE_WA_HEADER));
    this.mixHash(Buffer.from(clientEphemeral));
    this.ephemeral = generateKeyPair();
    this.mixHash(this.ephemeral.public);
    this.mixKey(Curve.sharedKey(this.ephemeral.private, Buffer.from(clientEphemeral)));
    const staticEnc = this.encryptHandshake(this.staticKey.public);
    this.mixKey(Curve.sharedKey(this.staticKey.private, Buffer.from(clientEphemeral)));
    const Details = proto.CertChain.NoiseCertificate.Details;
    const cert = proto.CertChain.encode({
      leaf: { details: Details.encode({ serial: 1, issuerSerial: 0, key: this.staticKey.public }).finish(), signature: Buffer.alloc(64) },
      intermediate: { details: Details.encode({ serial: 0, issuerSerial: 0 }).finish(), signature: Buffer.alloc(64) },
    }).finish();
    const certEnc = this.encryptHandshake(Buffer.from(cert));
    const reply = proto.HandshakeMessage.encode({ serverHello: { ephemeral: this.ephemeral.public, static: staticEnc, payload: certEnc } }).finish();
    return this.frame(Buffer.from(reply));
  }

  /** clientFinish → the client's static noise key and its ClientPayload bytes; switches to transport keys. */
  onClientFinish(frame: Buffer): { clientStatic: Buffer; payload: Buffer } {
    let msg: ReturnType<typeof proto.HandshakeMessage.decode>;
    try {
      msg = proto.HandshakeMessage.decode(frame);
    } catch {
      throw new NoiseError('malformed HandshakeMessage');
    }
    const fin = msg.clientFinish;
    if (!fin?.static || !fin.payload || !this.ephemeral) throw new NoiseError('expected clientFinish');
    const clientStatic = this.decryptHandshake(Buffer.from(fin.static));
    if (clientStatic.length !== 32) throw new NoiseError('client static key must be 32 bytes');
    this.mixKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payload = this.decryptHandshake(Buffer.from(fin.payload));
    const okm = Buffer.from(hkdfSync('sha256', Buffer.alloc(0), this.salt, Buffer.alloc(0), 64));
    this.recvKey = okm.subarray(0, 32);
    this.sendKey = okm.subarray(32, 64);
    this.finished = true;
    return { clientStatic, payload };
  }

  private decrypt(data: Buffer): Buffer {
    if (data.length < 16) throw new NoiseError('frame too short');
    const decipher = createDecipheriv('aes-256-gcm', this.recvKey!, ivFor(this.recvCounter++));
    decipher.setAAD(Buffer.alloc(0));
    decipher.setAuthTag(data.subarray(data.length - 16));
    try {
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    } catch {
      throw new NoiseError('frame decryption failed');
    }
  }

  /** Frames (and, after the handshake, encrypts) a payload for the client. */
  frame(plain: Buffer): Buffer {
    let data = plain;
    if (this.finished) {
      const cipher = createCipheriv('aes-256-gcm', this.sendKey!, ivFor(this.sendCounter++));
      cipher.setAAD(Buffer.alloc(0));
      data = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    }
    const header = Buffer.alloc(3);
    header.writeUInt8(data.length >> 16, 0);
    header.writeUInt16BE(data.length & 0xffff, 1);
    return Buffer.concat([header, data]);
  }
}
