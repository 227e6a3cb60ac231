import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedMessageEvent } from '../src/api.js';
import { DEVICE_LIST_TTL_MS, DeviceLists } from '../src/transport/deviceLists.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

/** Ana has PlugChat linked to her number too; Bruno has only his phone. */
const ANA = '5521960000011';
const BRUNO = '5521960000012';
/** Carla links PlugChat to her number only after the first message. */
const CARLA = '5521960000013';

// Device lists are the session's memory, the same on either database: the embedded default is enough.
describe('device lists: WhatsApp is asked once per contact, and each kind of send gets the devices it needs', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  let anaInst: { id: string; token: string };
  const received: ReceivedMessageEvent[] = [];

  beforeAll(async () => {
    h = await harness('embedded');
    h.app.events.on('test', 'whatsapp-session.message.received', (e) => void received.push(e as ReceivedMessageEvent));
    for (const [phone, name] of [
      [ANA, 'Ana'],
      [BRUNO, 'Bruno'],
      [CARLA, 'Carla'],
    ]) await h.owner.post('/api/whatsapp-sandbox/phones', { phone, name });
    // Ana's PlugChat is linked before the first send; Carla's after one (the last test).
    inst = await pairedInstance(h);
    anaInst = await pairedInstance(h, ANA);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  /** The device-list queries our number's PlugChat sent that name the user. */
  const deviceQueriesFor = (phone: string) =>
    h
      .sandbox()
      .network()
      .trace()
      .filter((e) => e.dir === 'in' && e.jid?.startsWith(`${BIZ}:`) && e.xml.includes('<usync') && e.xml.includes('<devices') && e.xml.includes(`${phone}@s.whatsapp.net`)).length;
  const onPhone = (phone: string, id: string) =>
    waitFor(async () => ((await h.owner.get(`/api/whatsapp-sandbox/phones/${phone}`)).body.messages as { id: string }[]).find((m) => m.id === id), 20_000, `message ${id} on ${phone}`);
  const onPlugChat = (inst: { id: string }, id: string) => waitFor(async () => received.find((e) => e.instanceId === inst.id && e.messageId === id), 20_000, `message ${id} on ${inst.id}`);
  const onAnasPlugChat = (id: string) => onPlugChat(anaInst, id);
  const send = async (phone: string, message: string) => {
    const sent = await api().post('/send-text', { phone, message });
    expect(sent.status).toBe(200);
    return sent.body.messageId as string;
  };

  it('sends three messages to a contact with only a phone after one query, which also covers our own number', async () => {
    for (const text of ['Olá Bruno', 'Seu pedido saiu', 'Chega amanhã']) await onPhone(BRUNO, await send(BRUNO, text));
    expect(deviceQueriesFor(BRUNO)).toBe(1);
    expect(deviceQueriesFor(BIZ)).toBe(1);
  });

  it('reaches a contact on her phone and her linked device, asking for her devices once', async () => {
    for (const text of ['Olá Ana', 'Tudo certo?']) {
      const id = await send(ANA, text);
      await onPhone(ANA, id);
      expect(await onAnasPlugChat(id)).toMatchObject({ phone: BIZ, fromMe: false, text });
    }
    expect(deviceQueriesFor(ANA)).toBe(1);
    expect(deviceQueriesFor(BIZ)).toBe(1);
  });

  it('a group send after them reaches every member phone and linked device from the same lists', async () => {
    const created = await api().post('/create-group', { groupName: 'Entregas', phones: [ANA, BRUNO], autoInvite: false });
    expect(created.status).toBe(200);
    const id = await send(created.body.phone, 'Entregas de hoje confirmadas');
    await onPhone(ANA, id);
    await onPhone(BRUNO, id);
    expect(await onAnasPlugChat(id)).toMatchObject({ isGroup: true, participantPhone: BIZ, text: 'Entregas de hoje confirmadas' });
    expect([deviceQueriesFor(ANA), deviceQueriesFor(BRUNO), deviceQueriesFor(BIZ)]).toEqual([1, 1, 1]);
  });

  it('a contact who links a device after a message gets the next one there too: WhatsApp says her devices changed', async () => {
    await onPhone(CARLA, await send(CARLA, 'Olá Carla'));
    const carlaInst = await pairedInstance(h, CARLA);
    const id = await send(CARLA, 'Agora no computador também');
    await onPhone(CARLA, id);
    expect(await onPlugChat(carlaInst, id)).toMatchObject({ phone: BIZ, text: 'Agora no computador também' });
    expect(deviceQueriesFor(CARLA)).toBe(2);
  });
});

describe('device lists over time', () => {
  it('trusts a list for Baileys five minutes by the injected clock, then asks again', async () => {
    let now = Date.UTC(2026, 11, 1, 12);
    const lists = new DeviceLists(() => now);
    // A one-to-one send that asked for Bruno and learnt nothing: he has only his phone.
    await lists.oneToOne(async () => expect(lists.get('5521960000012')).toBeUndefined());
    // A group send that asked for Ana: her phone and one linked device.
    lists.set('5521960000011', [
      { user: '5521960000011', device: 0 },
      { user: '5521960000011', device: 3 },
    ]);
    await lists.oneToOne(async () => {
      expect(lists.get('5521960000012')).toEqual([]);
      expect(lists.get('5521960000011')).toEqual([{ user: '5521960000011', device: 3 }]);
    });
    expect(lists.get('5521960000012')).toEqual([{ user: '5521960000012', device: 0 }]);
    now += DEVICE_LIST_TTL_MS - 1;
    expect(lists.get('5521960000011')).toHaveLength(2);
    now += 1;
    expect(lists.get('5521960000011')).toBeUndefined();
    await lists.oneToOne(async () => expect(lists.get('5521960000012')).toBeUndefined());
  });

  it('learns nothing from a send that failed', async () => {
    const lists = new DeviceLists();
    await expect(
      lists.oneToOne(async () => {
        lists.get('5521960000012');
        throw new Error('socket closed');
      }),
    ).rejects.toThrow('socket closed');
    await lists.oneToOne(async () => expect(lists.get('5521960000012')).toBeUndefined());
  });
});
