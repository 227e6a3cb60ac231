import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import type { VirtualPhone } from '../src/network/phones.js';
import { pairClient, proto, type TestClient } from './support/client.js';

const { DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;

describe('a Baileys client and a virtual customer phone', () => {
  let network: SandboxNetwork;
  let biz: TestClient;
  let phone: VirtualPhone;
  const PHONE = '5521988880001';
  const phoneJid = `${PHONE}@s.whatsapp.net`;

  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
    phone = network.createPhone(PHONE, { name: 'Vitória' });
    biz = await pairClient(network, '5511988880000', 'Acme');
  });
  afterAll(async () => {
    biz?.stop();
    await network?.stop();
  });

  const lastFromPhone = (kind: (m: import('@whiskeysockets/baileys').proto.IMessage) => unknown) => biz.waitFor(() => [...biz.upserts].reverse().find((u) => u.msg.key.remoteJid === phoneJid && !u.msg.key.fromMe && kind(u.msg.message ?? {})), 'a message from the phone');

  it('decrypts what the business sends and reports delivered and read', async () => {
    const sent = await biz.sendText(phoneJid, 'Oi Vitória!');
    await biz.waitFor(() => phone.messages().find((m) => m.id === sent.key.id && m.text === 'Oi Vitória!'), 'the text on the phone');
    await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(DELIVERY_ACK), 'delivered');
    phone.markRead({ chat: biz.userJid });
    await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(READ), 'read');
  });

  it('sends text back, encrypted, with its push name', async () => {
    const out = await phone.send(biz.userJid, { text: 'Quero saber do pedido' });
    const got = await lastFromPhone((m) => (m.conversation || m.extendedTextMessage?.text) === 'Quero saber do pedido');
    expect(got.type).toBe('notify');
    expect(got.msg.pushName).toBe('Vitória');
    await biz.sock!.readMessages([got.msg.key]);
    await biz.waitFor(() => phone.messages().find((m) => m.id === out.id)?.status === 'read', 'the phone to see its message read');
  });

  it('sends an image, a document, a voice note, a location, a contact and a reaction', async () => {
    const image = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), randomBytes(20_000)]);
    await phone.send(biz.userJid, { image, caption: 'foto do produto', mimetype: 'image/jpeg' });
    const img = await lastFromPhone((m) => m.imageMessage);
    expect(img.msg.message!.imageMessage!.caption).toBe('foto do produto');
    expect((await biz.download(img.msg)).equals(image)).toBe(true);

    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(10_000)]);
    await phone.send(biz.userJid, { document: pdf, mimetype: 'application/pdf', fileName: 'nota.pdf' });
    const doc = await lastFromPhone((m) => m.documentMessage);
    expect(doc.msg.message!.documentMessage!.fileName).toBe('nota.pdf');
    expect((await biz.download(doc.msg)).equals(pdf)).toBe(true);

    const voice = randomBytes(8_000);
    await phone.send(biz.userJid, { audio: voice, ptt: true, mimetype: 'audio/ogg; codecs=opus', seconds: 3 });
    const ptt = await lastFromPhone((m) => m.audioMessage);
    expect(ptt.msg.message!.audioMessage!.ptt).toBe(true);
    expect((await biz.download(ptt.msg)).equals(voice)).toBe(true);

    await phone.send(biz.userJid, { location: { degreesLatitude: -23.55, degreesLongitude: -46.63, name: 'Loja Centro' } });
    const loc = await lastFromPhone((m) => m.locationMessage);
    expect(loc.msg.message!.locationMessage).toMatchObject({ degreesLatitude: -23.55, degreesLongitude: -46.63, name: 'Loja Centro' });

    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ana Souza\nTEL;type=CELL;waid=5511999990000:+55 11 99999-0000\nEND:VCARD';
    await phone.send(biz.userJid, { contacts: { displayName: 'Ana Souza', contacts: [{ vcard }] } });
    const contact = await lastFromPhone((m) => m.contactMessage);
    expect(contact.msg.message!.contactMessage!.vcard).toBe(vcard);

    await phone.send(biz.userJid, { react: { text: '👍', key: img.msg.key } });
    const reaction = await lastFromPhone((m) => m.reactionMessage);
    expect(reaction.msg.message!.reactionMessage!.text).toBe('👍');
  });

  it('receives media from the business byte-identical', async () => {
    const image = Buffer.concat([Buffer.from('89504e47', 'hex'), randomBytes(30_000)]);
    const sent = await biz.send(phoneJid, { image, caption: 'boleto', mimetype: 'image/png' });
    const onPhone = await biz.waitFor(() => phone.messages().find((m) => m.id === sent.key.id), 'the image on the phone');
    expect(onPhone).toMatchObject({ kind: 'image', caption: 'boleto' });
    expect((await phone.download(onPhone.id)).equals(image)).toBe(true);
  });

  it('delivers only when the phone is online, and shows its presence', async () => {
    await biz.sock!.presenceSubscribe(phoneJid);
    await biz.waitFor(() => biz.presences.some((p) => p.presences[phoneJid]?.lastKnownPresence === 'available'), 'available');
    phone.setOnline(false);
    await biz.waitFor(() => biz.presences.some((p) => p.presences[phoneJid]?.lastKnownPresence === 'unavailable'), 'unavailable');
    const sent = await biz.sendText(phoneJid, 'está aí?');
    await biz.waitFor(() => phone.messages().find((m) => m.id === sent.key.id), 'the message held for the phone');
    await new Promise((r) => setTimeout(r, 300));
    expect(biz.statusOf(sent.key.id!)).not.toContain(DELIVERY_ACK);
    phone.setOnline(true);
    await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(DELIVERY_ACK), 'delivered once online');
  });

  it('queues for a dropped business device and delivers as "append" after it reconnects', async () => {
    biz.autoReconnect = false;
    network.drop(biz.jid!);
    await biz.waitFor(() => !biz.open, 'the drop');
    await phone.send(biz.userJid, { text: 'mensagem enquanto offline' });
    biz.start();
    const got = await biz.waitFor(() => biz.received('mensagem enquanto offline'), 'the queued message');
    expect(got.type).toBe('append');
    biz.autoReconnect = true;
  });

  it('runs the core flow with the phone 20 times in a row', async () => {
    for (let i = 0; i < 20; i++) {
      const sent = await biz.sendText(phoneJid, `rodada ${i}`);
      await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(DELIVERY_ACK), `delivered ${i}`);
      phone.markRead({ ids: [sent.key.id!] });
      await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(READ), `read ${i}`);
      const back = await phone.send(biz.userJid, { text: `resposta ${i}` });
      await biz.waitFor(() => biz.received(`resposta ${i}`), `reply ${i}`);
      expect(back.status).toBe('sent');
    }
  });
});
