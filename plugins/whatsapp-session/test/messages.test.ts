import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createAccount, createWorkspace } from '../../../core/test/support/app.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const CUSTOMER = '5521950000002';

interface PhoneMsg {
  id: string;
  kind: string;
  text?: string;
  caption?: string;
  fileName?: string;
  mimetype?: string;
  direction: string;
  status?: string;
}

describe('sending every message type and receiving', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  let files: Server;
  let filesUrl = '';
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(20_000)]);
  const received: unknown[] = [];
  const optouts: unknown[] = [];

  beforeAll(async () => {
    // A real HTTP server the API downloads media from, as a customer's app would host it.
    files = createServer((req, res) => {
      if (req.url === '/nota.pdf') {
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.end(pdf);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    const ws = await createWorkspace({
      config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox'], plugins: { 'whatsapp-session': { settings: { maxMediaBytes: 200_000 } } } },
    });
    h = await harness(undefined, ws);
    h.app.events.on('test', 'whatsapp-session.message.received', (e) => void received.push(e));
    h.app.events.on('test', 'whatsapp-session.optout', (e) => void optouts.push(e));
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Dora' });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    files?.close();
    await h?.stop();
    await h?.ws.cleanup();
  });

  const phoneMessages = async () => (await h.owner.get(`/api/whatsapp-sandbox/phones/${CUSTOMER}`)).body.messages as PhoneMsg[];
  const onPhone = (id: string) => waitFor(async () => (await phoneMessages()).find((m) => m.id === id), 20_000, `message ${id} on the phone`);
  const chat = async () => (await h.api(inst).get(`/chat-messages/${CUSTOMER}`)).body as { messageId: string; status: string; type: string; fromMe: boolean; content: Record<string, unknown> }[];
  const statusOf = async (id: string) => (await chat()).find((m) => m.messageId === id)?.status;
  const network = () => h.sandbox().network();

  it('sends image, document (from a URL), voice note, video, GIF, video note, location, contact, several contacts and reaction (and removes the reaction) with the right content', async () => {
    const api = h.api(inst);
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(5_000)]);
    const img = await api.post('/send-image', { phone: CUSTOMER, image: `data:image/png;base64,${image.toString('base64')}`, caption: 'catálogo' });
    expect(img.status).toBe(200);
    expect(await onPhone(img.body.messageId)).toMatchObject({ kind: 'image', caption: 'catálogo' });
    expect((await network().phone(CUSTOMER)!.download(img.body.messageId)).equals(image)).toBe(true);

    const doc = await api.post('/send-document/pdf', { phone: CUSTOMER, document: `${filesUrl}/nota.pdf`, fileName: 'nota-fiscal' });
    expect(await onPhone(doc.body.messageId)).toMatchObject({ kind: 'document', fileName: 'nota-fiscal.pdf', mimetype: 'application/pdf' });
    expect((await network().phone(CUSTOMER)!.download(doc.body.messageId)).equals(pdf)).toBe(true);

    const audio = await api.post('/send-audio', { phone: CUSTOMER, audio: `data:audio/ogg;base64,${randomBytes(3_000).toString('base64')}` });
    expect(await onPhone(audio.body.messageId)).toMatchObject({ kind: 'voice' });

    const video = await api.post('/send-video', { phone: CUSTOMER, video: `data:video/mp4;base64,${randomBytes(4_000).toString('base64')}`, caption: 'demo' });
    expect(await onPhone(video.body.messageId)).toMatchObject({ kind: 'video', caption: 'demo' });

    const gif = await api.post('/send-gif', { phone: CUSTOMER, gif: `data:video/mp4;base64,${randomBytes(3_000).toString('base64')}`, caption: 'oba' });
    expect(gif.status).toBe(200);
    expect(await onPhone(gif.body.messageId)).toMatchObject({ kind: 'gif', caption: 'oba', mimetype: 'video/mp4' });
    const ptv = await api.post('/send-ptv', { phone: CUSTOMER, ptv: `data:video/mp4;base64,${randomBytes(3_000).toString('base64')}` });
    expect(ptv.status).toBe(200);
    expect(await onPhone(ptv.body.messageId)).toMatchObject({ kind: 'ptv', mimetype: 'video/mp4' });

    const loc = await api.post('/send-location', { phone: CUSTOMER, title: 'Loja Centro', address: 'Rua A, 1', latitude: '-23.55', longitude: '-46.63' });
    expect(await onPhone(loc.body.messageId)).toMatchObject({ kind: 'location', text: '-23.55,-46.63' });

    const contact = await api.post('/send-contact', { phone: CUSTOMER, contactName: 'Suporte', contactPhone: '5511988887777' });
    expect(await onPhone(contact.body.messageId)).toMatchObject({ kind: 'contact', text: 'Suporte' });

    // Several cards in one message, Z-API's send-contacts body; an empty list says which field.
    const cards = await api.post('/send-contacts', { phone: CUSTOMER, contacts: [{ name: 'Suporte', phones: ['5511988887777', '5511977776666'] }, { name: 'Vendas', businessDescription: 'Loja Centro', phones: ['5511966665555'] }] });
    expect(cards.status).toBe(200);
    expect(cards.body).toEqual({ zaapId: expect.any(String), messageId: expect.any(String), id: cards.body.messageId });
    expect(await onPhone(cards.body.messageId)).toMatchObject({ kind: 'contacts', text: 'Suporte, Vendas' });
    const none = await api.post('/send-contacts', { phone: CUSTOMER, contacts: [] });
    expect(none.status).toBe(400);
    expect(none.body.error.details.issues[0].path).toBe('body.contacts');

    const reaction = await api.post('/send-reaction', { phone: CUSTOMER, reaction: '❤️', messageId: img.body.messageId });
    expect(await onPhone(reaction.body.messageId)).toMatchObject({ kind: 'reaction', text: '❤️' });
    // Removing it sends an empty reaction to the same message.
    const removed = await api.post('/send-remove-reaction', { phone: CUSTOMER, messageId: img.body.messageId });
    expect(removed.status).toBe(200);
    const onPhoneRemoved = await onPhone(removed.body.messageId);
    expect(onPhoneRemoved).toMatchObject({ kind: 'reaction' });
    expect(onPhoneRemoved.text ?? '').toBe('');

    // Statuses progress: delivered for all, READ after reading, PLAYED for the voice note.
    for (const id of [img.body.messageId, doc.body.messageId, loc.body.messageId]) await waitFor(async () => (await statusOf(id)) === 'RECEIVED', 20_000, 'RECEIVED');
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/read`, { ids: [img.body.messageId] });
    await waitFor(async () => (await statusOf(img.body.messageId)) === 'READ', 20_000, 'READ');
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/read`, { ids: [audio.body.messageId], played: true });
    await waitFor(async () => (await statusOf(audio.body.messageId)) === 'PLAYED', 20_000, 'PLAYED');
  });

  it('checks many numbers at once, in the order asked', async () => {
    const api = h.api(inst);
    const res = await api.post('/phone-exists-batch', { phones: [CUSTOMER, '5511900000001', BIZ, CUSTOMER] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { exists: true, inputPhone: CUSTOMER, outputPhone: CUSTOMER, lid: null },
      { exists: false, inputPhone: '5511900000001', outputPhone: '5511900000001', lid: null },
      { exists: true, inputPhone: BIZ, outputPhone: BIZ, lid: null },
      { exists: true, inputPhone: CUSTOMER, outputPhone: CUSTOMER, lid: null },
    ]);
    const bad = await api.post('/phone-exists-batch', { phones: ['55 11 9999'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.phones.0');
  });

  it("changes the profile's About on WhatsApp and reads it back through /device", async () => {
    const api = h.api(inst);
    expect((await api.get('/device')).body.about).toBe('Hey there! I am using WhatsApp.');
    const set = await api.put('/profile-description', { value: 'Atendimento de segunda a sexta, 8h às 18h' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ value: true });
    // The network holds it for the number (what every contact's WhatsApp shows), and usync answers it.
    expect(h.sandbox().network().account(BIZ)?.about?.text).toBe('Atendimento de segunda a sexta, 8h às 18h');
    expect((await api.get('/device')).body.about).toBe('Atendimento de segunda a sexta, 8h às 18h');
    const long = await api.put('/profile-description', { value: 'x'.repeat(140) });
    expect(long.status).toBe(400);
    expect(long.body.error.details.issues[0].path).toBe('body.value');
  });

  it('replies to a message', async () => {
    const first = await h.api(inst).post('/send-text', { phone: CUSTOMER, message: 'primeira' });
    await onPhone(first.body.messageId);
    const reply = await h.api(inst).post('/send-text', { phone: CUSTOMER, message: 'em resposta', messageId: first.body.messageId });
    expect(await onPhone(reply.body.messageId)).toMatchObject({ kind: 'text', text: 'em resposta' });
  });

  it('receives text and media from the phone, stores the media and emits events', async () => {
    const image = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), randomBytes(6_000)]);
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'Oi, tudo bem?' });
    const sent = await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, image: { base64: image.toString('base64'), mimetype: 'image/jpeg', caption: 'olha isso' } });
    await waitFor(async () => (await chat()).find((m) => m.messageId === sent.body.id), 20_000, 'the image in the chat');
    const msgs = await chat();
    expect(msgs.find((m) => m.content.text === 'Oi, tudo bem?')).toMatchObject({ fromMe: false, type: 'text', status: 'RECEIVED' });
    expect(msgs.find((m) => m.messageId === sent.body.id)).toMatchObject({ type: 'image', content: expect.objectContaining({ caption: 'olha isso' }) });
    const event = await waitFor(async () => received.find((e) => (e as { messageId: string }).messageId === sent.body.id) as { mediaPath: string; phone: string; type: string } | undefined, 10_000, 'the event');
    expect(event).toMatchObject({ phone: CUSTOMER, type: 'image', instanceId: inst.id, upsertType: 'notify' });
    expect(readFileSync(event.mediaPath).equals(image)).toBe(true);
  });

  it('marks incoming messages read as they arrive once auto-read is on (update-auto-read-message)', async () => {
    const onPhoneStatus = async (id: string) => (await phoneMessages()).find((m) => m.id === id)?.status;
    const before = await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'antes da leitura automática' });
    await waitFor(async () => (await onPhoneStatus(before.body.id)) === 'delivered', 20_000, 'the first text delivered');
    const bad = await h.api(inst).put('/update-auto-read-message', { value: 'sim' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.value');
    expect((await h.api(inst).put('/update-auto-read-message', { value: true })).body).toEqual({ value: true });
    const after = await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'com leitura automática' });
    await waitFor(async () => (await onPhoneStatus(after.body.id)) === 'read', 20_000, 'blue ticks on the phone');
    // Only what arrived with it on: the earlier text keeps its grey ticks.
    expect(await onPhoneStatus(before.body.id)).toBe('delivered');
    expect((await h.api(inst).put('/update-auto-read-message', { value: false })).body).toEqual({ value: true });
    expect((await h.api(inst).get('/me')).body.autoReadMessage).toBe(false);
  });

  it('honours an opt-out keyword: the number is refused afterwards and nothing is queued', async () => {
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'sair' });
    await waitFor(async () => optouts.length > 0, 20_000, 'the opt-out');
    expect(optouts[0]).toMatchObject({ phone: CUSTOMER, keyword: 'SAIR' });
    const before = (await h.api(inst).get('/queue/count')).body.count;
    const res = await h.api(inst).post('/send-text', { phone: CUSTOMER, message: 'promoção!' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('opted_out');
    expect((await h.api(inst).get('/queue/count')).body.count).toBe(before);
  });

  it('refuses bad input with clear errors and enqueues nothing', async () => {
    const api = h.api(inst);
    const bad = await api.post('/send-text', { phone: '+55 (11) 9999', message: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.phone');
    const missing = await api.post('/send-text', { phone: '5511999999999' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues[0].path).toBe('body.message');
    const big = await api.post('/send-image', { phone: '5511999999999', image: `data:image/png;base64,${randomBytes(300_000).toString('base64')}` });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('media_too_large');
    const notImage = await api.post('/send-image', { phone: '5511999999999', image: `data:text/plain;base64,${Buffer.from('hi').toString('base64')}` });
    expect(notImage.status).toBe(415);

    const wrongToken = h.api({ id: inst.id, token: 'WRONGTOKEN123' });
    expect((await wrongToken.post('/send-text', { phone: '5511999999999', message: 'x' })).status).toBe(403);
    const noClientToken = new Client(`${h.app.url}/instances/${inst.id}/token/${inst.token}`);
    const r401 = await noClientToken.post('/send-text', { phone: '5511999999999', message: 'x' });
    expect(r401.status).toBe(401);
    const badClientToken = await noClientToken.post('/send-text', { phone: '5511999999999', message: 'x' }, { 'client-token': 'pck_nope' });
    expect(badClientToken.status).toBe(401);

    const other = await createAccount(h.owner, 'Outra', 'x@outra.test');
    const otherKey = (await other.client.post('/api/api-keys', { name: 'k' })).body.key;
    const theirs = new Client(`${h.app.url}/instances/${inst.id}/token/${inst.token}`);
    expect((await theirs.post('/send-text', { phone: '5511999999999', message: 'x' }, { 'client-token': otherKey })).status).toBe(404);
    expect((await other.client.get(`/api/whatsapp-session/instances/${inst.id}`)).status).toBe(404);
    expect((await h.api(inst).get('/queue/count')).body.count).toBe(0);
  });

  it('holds sends while disconnected and sends them in order after the reconnect; receives what came meanwhile', async () => {
    const dev = network().devices().find((d) => d.phone === BIZ)!;
    network().failNextLogin(dev.jid, '503');
    network().drop(dev.jid);
    await waitFor(async () => !(await h.api(inst).get('/status')).body.connected, 10_000, 'the drop');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await h.api(inst).post('/send-text', { phone: '5521950000099', message: `fila ${n}` })).body.messageId);
    const other = network().createPhone('5521950000099', { name: 'Eva' });
    await other.send(BIZ, { text: 'enquanto você estava fora' });
    await waitFor(async () => (await h.api(inst).get('/status')).body.connected, 30_000, 'the reconnect');
    await waitFor(async () => other.messages().filter((m) => m.direction === 'in').length === 3, 20_000, 'the queued messages');
    expect(other.messages().filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['fila 1', 'fila 2', 'fila 3']);
    await waitFor(async () => received.find((e) => (e as { text?: string }).text === 'enquanto você estava fora'), 20_000, 'the message sent while away');
  });

  it('keeps a message it could not decrypt as "waiting for this message"', async () => {
    const id = network().phone(CUSTOMER)!.sendUndecryptable(BIZ);
    const waiting = await waitFor(async () => (await h.api(inst).get(`/chat-messages/${CUSTOMER}`)).body.find((m: { messageId: string }) => m.messageId === id), 20_000, 'the waiting message');
    expect(waiting).toMatchObject({ waitingMessage: true, type: 'waiting', fromMe: false });
    const event = await waitFor(async () => received.find((e) => (e as { messageId: string }).messageId === id), 10_000, 'the event');
    expect(event).toMatchObject({ waitingMessage: true, eventId: expect.any(String) });
  });
});
