import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SandboxNetwork } from '../src/network/index.js';
import { pairClient, proto, useTwoClients } from './support/client.js';
import { handshakenSocket } from './support/rawClient.js';

const { DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;

function rawSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin: 'https://web.whatsapp.com' });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const closed = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve())));

describe('the core flow, repeated', () => {
  let network: SandboxNetwork;
  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
  });
  afterAll(async () => network?.stop());

  it('pairs, sends, delivers and reads 20 times in a row', async () => {
    for (let i = 0; i < 20; i++) {
      const n = String(i).padStart(2, '0');
      const biz = await pairClient(network, `55119555${n}001`, `Biz ${n}`);
      const customer = await pairClient(network, `55119555${n}002`, `Cust ${n}`);
      const text = `run ${n}`;
      const sent = await biz.sendText(customer.userJid, text);
      const got = await customer.waitFor(() => customer.received(text), `delivery in run ${n}`);
      await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(DELIVERY_ACK), `delivery ack in run ${n}`);
      await customer.sock!.readMessages([got.msg.key]);
      await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(READ), `read in run ${n}`);
      biz.stop();
      customer.stop();
    }
  }, 180_000);
});

describe('hostile input', () => {
  const pair = useTwoClients({ beforeAll, afterAll }, ['5511966660001', '5511966660002'], ['Acme', 'Clara']);

  it.each([
    ['a bad intro', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['garbage after a valid intro', Buffer.concat([Buffer.from([0x57, 0x41, 0x06, 0x02]), Buffer.from([0, 0, 5, 1, 2, 3, 4, 5])])],
    ['a huge declared frame', Buffer.concat([Buffer.from([0x57, 0x41, 0x06, 0x02]), Buffer.from([0xff, 0xff, 0xff]), Buffer.alloc(1024)])],
    ['a clientHello without a key', Buffer.concat([Buffer.from([0x57, 0x41, 0x06, 0x02]), Buffer.from([0, 0, 2, 0x12, 0x00])])],
  ])('closes only the connection that sent %s', async (_what, bytes) => {
    const ws = await rawSocket(pair.network.url);
    ws.send(bytes);
    if (bytes.length > 1000) ws.send(Buffer.alloc(20 * 1024 * 1024));
    await closed(ws);
    const text = `still fine after ${_what}`;
    await pair.biz.sendText(pair.customer.userJid, text);
    await pair.customer.waitFor(() => pair.customer.received(text), 'a message after the attack');
  });

  it('survives a text frame and an abrupt close mid-handshake', async () => {
    const a = await rawSocket(pair.network.url);
    a.send('hello');
    await closed(a);
    const b = await rawSocket(pair.network.url);
    b.send(Buffer.from([0x57, 0x41, 0x06, 0x02, 0, 0]));
    b.terminate();
    await pair.biz.sendText(pair.customer.userJid, 'still here');
    await pair.customer.waitFor(() => pair.customer.received('still here'), 'a message');
    expect(pair.network.devices().filter((d) => d.online)).toHaveLength(2);
  });

  it('closes only the connection that sends undecodable or malformed stanzas after the handshake', async () => {
    const garbage = await handshakenSocket(pair.network.url);
    expect((garbage.firstStanza as { tag: string }).tag).toBe('iq'); // pair-device: the QR is offered
    garbage.sendPlain(Buffer.from([0, 0xf8, 0xff, 0xff, 0xff, 0x13, 0x37]));
    await garbage.closed;

    const bad = await handshakenSocket(pair.network.url);
    bad.sendNode({ tag: 'iq', attrs: { id: 'x', type: 'result' }, content: [{ tag: 'pair-device-sign', attrs: {} }] });
    bad.sendNode({ tag: 'message', attrs: {}, content: [] });
    bad.sendNode({ tag: 'receipt', attrs: { to: 'not a jid' } });
    // Unauthenticated stanzas are ignored; the connection stays until the client misbehaves at the framing level.
    bad.sendPlain(Buffer.alloc(0));
    await bad.closed;

    await pair.biz.sendText(pair.customer.userJid, 'after the malformed stanzas');
    await pair.customer.waitFor(() => pair.customer.received('after the malformed stanzas'), 'a message');
  });

  it('never serves a one-time prekey twice', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const bundle = pair.network.bundleFor(pair.customer.jid!);
      const key = (bundle.content as { tag: string; content: { tag: string; content: Uint8Array }[] }[]).find((c) => c.tag === 'key');
      if (!key) break;
      const id = Buffer.from(key.content.find((c) => c.tag === 'id')!.content).toString('hex');
      expect(seen.has(id)).toBe(false);
      seen.add(id);
    }
    expect(seen.size).toBeGreaterThan(0);
    // The client is asked to refill, and messages still flow.
    await pair.biz.sendText(pair.customer.userJid, 'after the prekeys ran low');
    await pair.customer.waitFor(() => pair.customer.received('after the prekeys ran low'), 'a message');
  });
});
