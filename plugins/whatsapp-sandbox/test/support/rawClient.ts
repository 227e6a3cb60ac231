import { createRequire } from 'node:module';
import { pino } from 'pino';
import WebSocket from 'ws';

const require = createRequire(import.meta.url);
const B: typeof import('@whiskeysockets/baileys') = require('@whiskeysockets/baileys');
const { makeNoiseHandler } = require('@whiskeysockets/baileys/lib/Utils/noise-handler.js');
const { generateRegistrationNode } = require('@whiskeysockets/baileys/lib/Utils/validate-connection.js');

/**
 * A hand-driven client: Baileys' own noise handler completes the real handshake
 * with a registration payload, then the test writes whatever frames it likes.
 */
export async function handshakenSocket(url: string) {
  const ws = new WebSocket(url, { origin: 'https://web.whatsapp.com' });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const creds = B.initAuthCreds();
  const ephemeral = B.Curve.generateKeyPair();
  const noise = makeNoiseHandler({ keyPair: ephemeral, NOISE_HEADER: B.NOISE_WA_HEADER, logger: pino({ level: 'silent' }) });
  const frames: unknown[] = [];
  let resolveNext: ((f: unknown) => void) | undefined;
  ws.on('message', (data: Buffer) =>
    noise.decodeFrame(data, (f: unknown) => {
      if (resolveNext) {
        resolveNext(f);
        resolveNext = undefined;
      } else frames.push(f);
    }),
  );
  const next = () => new Promise((resolve) => (frames.length ? resolve(frames.shift()) : (resolveNext = resolve)));
  ws.send(noise.encodeFrame(B.proto.HandshakeMessage.encode({ clientHello: { ephemeral: ephemeral.public } }).finish()));
  const hello = B.proto.HandshakeMessage.decode((await next()) as Buffer);
  const keyEnc = await noise.processHandshake(hello, creds.noiseKey);
  const payload = noise.encrypt(B.proto.ClientPayload.encode(generateRegistrationNode(creds, { version: [2, 3000, 1019707846], browser: ['PlugChat', 'Chrome', '1.0'], countryCode: 'BR', syncFullHistory: false })).finish());
  ws.send(noise.encodeFrame(B.proto.HandshakeMessage.encode({ clientFinish: { static: keyEnc, payload } }).finish()));
  await noise.finishInit();
  const firstStanza = await next();
  return {
    ws,
    firstStanza,
    next,
    /** Sends raw plaintext bytes as an encrypted transport frame. */
    sendPlain: (bytes: Buffer) => ws.send(noise.encodeFrame(bytes)),
    sendNode: (n: import('@whiskeysockets/baileys').BinaryNode) => ws.send(noise.encodeFrame(B.encodeBinaryNode(n))),
    closed: new Promise<void>((resolve) => ws.once('close', () => resolve())),
  };
}
