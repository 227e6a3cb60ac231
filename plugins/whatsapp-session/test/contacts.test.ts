import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../../core/test/support/app.js';
import type { ReceivedMessageEvent } from '../src/api.js';
import { harness, pairedInstance, sandboxDownload, waitFor, BIZ, type Harness } from './support.js';

const ELIS = '5521970000001';
const FABIO = '5521970000002';

describe('contacts, pictures, blocking and one chat through the Z-API routes', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  const received: ReceivedMessageEvent[] = [];
  const picture = Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), randomBytes(3_000)]);

  beforeAll(async () => {
    h = await harness();
    h.app.events.on('test', 'whatsapp-session.message.received', (e) => void received.push(e as ReceivedMessageEvent));
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: ELIS, name: 'Elis' });
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: FABIO, name: 'Fabio' });
    expect((await h.owner.put(`/api/whatsapp-sandbox/phones/${ELIS}/picture`, { base64: picture.toString('base64') })).status).toBe(200);
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const say = async (phone: string, text: string) => {
    expect((await h.owner.post(`/api/whatsapp-sandbox/phones/${phone}/messages`, { to: BIZ, text })).status).toBe(201);
  };
  const arrived = (text: string) => waitFor(async () => received.find((e) => e.text === text), 20_000, text);
  const download = (url: string) => sandboxDownload(h, url);

  it('lists the people the instance talked with, newest first, with their WhatsApp names, in pages', async () => {
    await say(ELIS, 'Oi, aqui é a Elis');
    await arrived('Oi, aqui é a Elis');
    await say(FABIO, 'Fabio falando');
    await arrived('Fabio falando');
    const all = (await api().get('/contacts?page=1&pageSize=20')).body;
    expect(all).toEqual([
      { name: null, short: null, notify: 'Fabio', vname: null, phone: FABIO },
      { name: null, short: null, notify: 'Elis', vname: null, phone: ELIS },
    ]);
    expect((await api().get('/contacts?page=2&pageSize=1')).body).toEqual([all[1]]);
  });

  it("answers a contact's picture and About, and the picture link serves the picture", async () => {
    const elis = (await api().get(`/contacts/${ELIS}`)).body;
    expect(elis).toMatchObject({ phone: ELIS, notify: 'Elis', about: 'Hey there! I am using WhatsApp.', imgUrl: expect.stringMatching(/^https:\/\//) });
    expect((await download(elis.imgUrl)).equals(picture)).toBe(true);
    expect((await api().get(`/profile-picture?phone=${ELIS}`)).body).toEqual({ link: elis.imgUrl });
    // No picture: a null link, not an error.
    expect((await api().get(`/profile-picture?phone=${FABIO}`)).body).toEqual({ link: null });
    expect((await api().get(`/contacts/${FABIO}`)).body).toMatchObject({ phone: FABIO, notify: 'Fabio', imgUrl: null });
  });

  it('blocks a number: what it sends no longer arrives, until it is unblocked', async () => {
    expect((await api().post('/contacts/modify-blocked', { phone: FABIO, action: 'block' })).body).toEqual({ value: true });
    expect(h.sandbox().network().account(BIZ)?.blocked).toEqual([FABIO]);
    await say(FABIO, 'Ninguém me responde?');
    expect((await api().post('/contacts/modify-blocked', { phone: FABIO, action: 'unblock' })).body).toEqual({ value: true });
    await say(FABIO, 'Agora sim');
    await arrived('Agora sim');
    expect(received.find((e) => e.text === 'Ninguém me responde?')).toBeUndefined();
    const bad = await api().post('/contacts/modify-blocked', { phone: FABIO, action: 'ban' });
    expect([bad.status, bad.body.error.details.issues[0].path]).toEqual([400, 'body.action']);
  });

  it("answers one chat's metadata, and 404 for a chat that never was", async () => {
    const chat = (await api().get(`/chats/${ELIS}`)).body;
    expect(chat).toMatchObject({ phone: ELIS, name: 'Elis', unread: '1', isGroup: false, isMuted: '0', about: 'Hey there! I am using WhatsApp.', profileThumbnail: expect.stringMatching(/^https:\/\//), notes: null });
    const none = await api().get('/chats/5521979999999');
    expect([none.status, none.body.error.code]).toEqual([404, 'not_found']);
  });

  it('without webhooks or billing, the integrator API says which plugin a field or route needs', async () => {
    const hooks = await new Client(h.app.url).req('POST', '/instances/integrator/on-demand', { name: 'Sem webhooks', receivedCallbackUrl: 'https://hooks.example.com/x' }, { 'client-token': h.key });
    expect([hooks.status, hooks.body.error.code, hooks.body.error.details.issues[0].path]).toEqual([422, 'webhooks_disabled', 'body.receivedCallbackUrl']);
    const sub = await api().post('/integrator/on-demand/subscription', {});
    expect([sub.status, sub.body.error.code]).toEqual([409, 'billing_disabled']);
  });
});
