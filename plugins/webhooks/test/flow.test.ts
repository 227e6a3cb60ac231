import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace } from '../../../core/test/support/app.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from '../../whatsapp-session/test/support.js';
import { config, Receiver, verify } from './receiver.js';

const CUSTOMER = '5521980000002';

describe('webhooks for the PlugMessage flow', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    h = await harness(undefined, await createWorkspace({ config: config() }));
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Gabi' });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('delivers DeliveryCallback, then RECEIVED, then READ, each signed and verifiable', async () => {
    const api = h.api(inst);
    for (const route of ['update-webhook-delivery', 'update-webhook-message-status', 'update-webhook-received']) {
      expect((await api.put(`/${route}`, { value: receiver.url })).body).toEqual({ value: true });
    }
    const endpoints = (await h.owner.get(`/api/webhooks/endpoints?instanceId=${inst.id}`)).body.endpoints as { id: string; zapiKind: string }[];
    expect(endpoints.map((e) => e.zapiKind).sort()).toEqual(['delivery', 'message-status', 'received']);
    const secrets = new Map<string, string>();
    for (const e of endpoints) secrets.set(e.zapiKind, (await h.owner.get(`/api/webhooks/endpoints/${e.id}/secret`)).body.secret);

    const sent = await api.post('/send-text', { phone: CUSTOMER, message: 'Pedido confirmado' });
    const mine = () => receiver.requests.filter((r) => r.json.messageId === sent.body.messageId || r.json.ids?.includes(sent.body.messageId));
    await waitFor(async () => mine().some((r) => r.json.status === 'RECEIVED'), 20_000, 'RECEIVED');
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/read`, {});
    await waitFor(async () => mine().some((r) => r.json.status === 'READ'), 20_000, 'READ');

    const seq = mine().map((r) => (r.json.type === 'DeliveryCallback' ? 'DELIVERY' : r.json.status));
    const order = ['DELIVERY', 'RECEIVED', 'READ'].map((s) => seq.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const delivery = mine().find((r) => r.json.type === 'DeliveryCallback')!;
    expect(delivery.json).toMatchObject({ phone: CUSTOMER, zaapId: sent.body.zaapId, messageId: sent.body.messageId, type: 'DeliveryCallback', instanceId: inst.id });
    expect(verify(secrets.get('delivery')!, delivery)).toBe(true);
    const read = mine().find((r) => r.json.status === 'READ')!;
    expect(read.json).toMatchObject({ ids: [sent.body.messageId], phone: CUSTOMER, type: 'MessageStatusCallback', instanceId: inst.id });
    expect(verify(secrets.get('message-status')!, read)).toBe(true);
    // A tampered body does not verify.
    expect(verify(secrets.get('message-status')!, { ...read, body: read.body.replace('READ', 'SENT') })).toBe(false);
  });

  it('delivers ReceivedCallback with the Z-API fields for an inbound message', async () => {
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'Chegou, obrigada!' });
    const got = await waitFor(async () => receiver.requests.find((r) => r.json.type === 'ReceivedCallback' && r.json.text?.message === 'Chegou, obrigada!'), 20_000, 'ReceivedCallback');
    expect(got.json).toMatchObject({
      type: 'ReceivedCallback',
      instanceId: inst.id,
      phone: CUSTOMER,
      fromMe: false,
      connectedPhone: BIZ,
      waitingMessage: false,
      isGroup: false,
      status: 'RECEIVED',
      senderName: 'Gabi',
      text: { message: 'Chegou, obrigada!' },
    });
    expect(typeof got.json.momment).toBe('number');
    expect(got.json.messageId).toEqual(expect.any(String));
    // The customer's phone shows its message delivered (PlugChat's receipt is of type "inactive").
    const mine = () => h.sandbox().network().phone(CUSTOMER)!.messages().find((m) => m.direction === 'out' && m.text === 'Chegou, obrigada!');
    await waitFor(async () => mine()?.status === 'delivered', 10_000, 'the delivered ticks on the phone');
  });

  it('delivers ReceivedCallback for a location, a contact and a reaction with the content objects Z-API documents', async () => {
    const phone = h.sandbox().network().phone(CUSTOMER)!;
    const received = (pick: (j: any) => unknown, what: string) => waitFor(async () => receiver.requests.find((r) => r.json.type === 'ReceivedCallback' && pick(r.json))?.json, 20_000, what);
    await phone.send(BIZ, { location: { degreesLatitude: -22.9711, degreesLongitude: -43.1822, name: 'Copacabana', address: 'Av. Atlântica, 1702', url: 'https://maps.example.com/copa' } });
    const loc = await received((j) => j.location, 'the location');
    expect(loc.location).toEqual({ longitude: -43.1822, latitude: -22.9711, address: 'Av. Atlântica, 1702', url: 'https://maps.example.com/copa', name: 'Copacabana', thumbnailUrl: null });
    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Marido\nTEL;type=CELL;waid=5521999990000:+55 21 99999-0000\nEND:VCARD';
    await phone.send(BIZ, { contacts: { displayName: 'Marido', contacts: [{ displayName: 'Marido', vcard }] } });
    const contact = await received((j) => j.contact, 'the contact');
    expect(contact.contact).toEqual({ displayName: 'Marido', vCard: vcard, phones: ['5521999990000'] });
    // The customer reacts to a message of ours.
    const ours = (await h.api(inst).post('/send-text', { phone: CUSTOMER, message: 'Pode avaliar?' })).body.messageId as string;
    await waitFor(async () => phone.messages().find((m) => m.id === ours), 20_000, 'our message on the phone');
    await phone.send(BIZ, { react: { text: '❤️', key: { remoteJid: `${BIZ}@s.whatsapp.net`, fromMe: false, id: ours } } });
    const reaction = await received((j) => j.reaction, 'the reaction');
    expect(reaction.reaction).toEqual({ value: '❤️', time: reaction.momment, reactionBy: CUSTOMER, referencedMessage: { messageId: ours, fromMe: true, phone: CUSTOMER, participant: null } });
    for (const r of [loc, contact, reaction]) expect(r).toMatchObject({ phone: CUSTOMER, fromMe: false, instanceId: inst.id, status: 'RECEIVED', isGroup: false });
  });

  it('sends a poll and delivers the customer\'s vote as ReceivedCallback with pollVote', async () => {
    const phone = h.sandbox().network().phone(CUSTOMER)!;
    const api = h.api(inst);
    const one = await api.post('/send-poll', { phone: CUSTOMER, message: 'Qual horário?', poll: [{ name: 'Manhã' }] });
    expect(one.status).toBe(400);
    expect(one.body.error.details.issues[0].path).toBe('body.poll');
    const sent = await api.post('/send-poll', { phone: CUSTOMER, message: 'Qual horário?', poll: [{ name: 'Manhã' }, { name: 'Tarde' }, { name: 'Noite' }], pollMaxOptions: 1 });
    expect(sent.status).toBe(200);
    const poll = await waitFor(async () => phone.messages().find((m) => m.id === sent.body.messageId), 20_000, 'the poll on the phone');
    expect(poll).toMatchObject({ kind: 'poll', text: 'Qual horário?', options: ['Manhã', 'Tarde', 'Noite'] });
    // The vote travels encrypted with the poll's secret; PlugChat decrypts it and names the option.
    const bad = await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/votes`, { messageId: sent.body.messageId, options: ['Madrugada'] });
    expect(bad.status).toBe(400);
    expect((await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/votes`, { messageId: sent.body.messageId, options: ['Tarde'] })).status).toBe(201);
    const vote = await waitFor(async () => receiver.requests.find((r) => r.json.type === 'ReceivedCallback' && r.json.pollVote)?.json, 20_000, 'the vote');
    expect(vote.pollVote).toEqual({ pollMessageId: sent.body.messageId, options: [{ name: 'Tarde' }] });
    expect(vote).toMatchObject({ phone: CUSTOMER, fromMe: false, instanceId: inst.id, status: 'RECEIVED', isGroup: false, connectedPhone: BIZ, senderName: 'Gabi' });
    expect(vote.messageId).not.toBe(sent.body.messageId);
  });

  it('delivers a group member\'s message as a group ReceivedCallback: the group as phone, the member as participantPhone', async () => {
    const api = h.api(inst);
    const created = await api.post('/create-group', { groupName: 'Entregas', phones: [CUSTOMER], autoInvite: false });
    expect(created.status).toBe(200);
    const group = created.body.phone as string;
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: group, text: 'Oi grupo' });
    const got = await waitFor(async () => receiver.requests.find((r) => r.json.type === 'ReceivedCallback' && r.json.text?.message === 'Oi grupo'), 20_000, 'the group ReceivedCallback');
    expect(got.json).toMatchObject({ isGroup: true, phone: group, participantPhone: CUSTOMER, senderName: 'Gabi', chatName: 'Entregas', fromMe: false, instanceId: inst.id });
  });

  it('delivers a missed call as a ReceivedCallback with CALL_MISSED_VOICE and the call id', async () => {
    const call = (await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/calls`, { to: BIZ })).body;
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/calls/${call.id}/hang-up`, {});
    const got = await waitFor(async () => receiver.requests.find((r) => r.json.callId === call.id), 20_000, 'the missed-call callback');
    expect(got.json).toMatchObject({ type: 'ReceivedCallback', notification: 'CALL_MISSED_VOICE', notificationParameters: [], callId: call.id, phone: CUSTOMER, fromMe: false, isGroup: false, instanceId: inst.id });
  });

  it('answers /me with the callback URLs and flags, /device and /chats in the shapes Z-API clients read', async () => {
    const api = h.api(inst);
    const me = (await api.get('/me')).body;
    expect(me).toMatchObject({ id: inst.id, token: inst.token, connected: true, due: null, paymentStatus: null, receivedCallbackUrl: receiver.url, deliveryCallbackUrl: receiver.url, messageStatusCallbackUrl: receiver.url });
    for (const k of ['connectedCallbackUrl', 'disconnectedCallbackUrl', 'presenceChatCallbackUrl', 'receiveCallbackSentByMe', 'callRejectAuto', 'callRejectMessage', 'autoReadMessage']) expect(me).toHaveProperty(k);
    expect(me.receiveCallbackSentByMe).toBe(false);
    expect((await api.put('/update-notify-sent-by-me', { notifySentByMe: true })).status).toBe(200);
    expect((await api.get('/me')).body.receiveCallbackSentByMe).toBe(true);
    await api.put('/update-notify-sent-by-me', { notifySentByMe: false });
    const device = (await api.get('/device')).body;
    expect(device).toMatchObject({ phone: BIZ, sessionId: inst.id, imgUrl: null, about: expect.any(String) });
    expect(device).toHaveProperty('device.sessionName');
    expect(device).toHaveProperty('originalDevice');
    const chats = (await api.get('/chats')).body as any[];
    expect(chats.find((c) => c.phone === CUSTOMER)).toMatchObject({ name: 'Gabi', phone: CUSTOMER, unread: expect.any(String), lastMessageTime: expect.any(String), isMuted: '0', isGroup: false, profileThumbnail: null });
  });

  it('fires exactly one DeliveryCallback and one MessageStatusCallback per status reached, for 50 messages of mixed kinds', async () => {
    const api = h.api(inst);
    const png = `data:image/png;base64,${Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(600, 7)]).toString('base64')}`;
    const sends: string[] = [];
    for (let i = 0; i < 50; i++) {
      const kind = i % 5;
      const res =
        kind === 0 ? await api.post('/send-image', { phone: CUSTOMER, image: png, caption: `foto ${i}` })
        : kind === 1 ? await api.post('/send-location', { phone: CUSTOMER, title: `Loja ${i}`, address: 'Rua A, 1', latitude: -23.5, longitude: -46.6 })
        : kind === 2 ? await api.post('/send-contact', { phone: CUSTOMER, contactName: `Suporte ${i}`, contactPhone: '5511988887777' })
        : await api.post('/send-text', { phone: CUSTOMER, message: `texto ${i}` });
      expect(res.status).toBe(200);
      sends.push(res.body.messageId as string);
    }
    const about = (id: string) => receiver.requests.filter((r) => r.json.messageId === id || r.json.ids?.includes(id));
    await waitFor(async () => sends.every((id) => about(id).some((r) => r.json.status === 'RECEIVED')), 60_000, 'RECEIVED for all 50');
    await new Promise((r) => setTimeout(r, 1_000));
    for (const id of sends) {
      const got = about(id);
      expect(got.filter((r) => r.json.type === 'DeliveryCallback')).toHaveLength(1);
      const statuses = got.filter((r) => r.json.type === 'MessageStatusCallback').map((r) => r.json.status);
      expect(statuses.sort()).toEqual([...new Set(statuses)].sort());
      expect(new Set(got.map((r) => r.eventId)).size).toBe(got.length);
    }
  }, 120_000);

  it('sends one DisconnectedCallback when a client disconnects the instance with GET /disconnect', async () => {
    const other = await pairedInstance(h, '5511980000077');
    await h.owner.post('/api/webhooks/endpoints', { instanceId: other.id, url: receiver.url, events: ['disconnected'] });
    expect((await h.api(other).get('/disconnect')).status).toBe(200);
    const got = await waitFor(async () => receiver.requests.find((r) => r.json.type === 'DisconnectedCallback' && r.json.instanceId === other.id), 20_000, 'DisconnectedCallback');
    expect(got.json).toMatchObject({ type: 'DisconnectedCallback', instanceId: other.id, disconnected: true, error: 'disconnected by a user' });
    expect(typeof got.json.momment).toBe('number');
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests.filter((r) => r.json.type === 'DisconnectedCallback' && r.json.instanceId === other.id)).toHaveLength(1);
  });
});
