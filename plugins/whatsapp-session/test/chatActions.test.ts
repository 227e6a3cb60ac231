import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const HELO = '5521990000021';
const heloJid = `${HELO}@s.whatsapp.net`;

interface Chat {
  phone: string;
  unread: string;
  isMuted: string;
  muteEndTime: string | null;
  archived: string;
  pinned: string;
}

describe.each(STORAGE_MODES)('modify-chat and profile-name: app-state patches WhatsApp keeps, and the chat list here (%s)', (mode) => {
  let h: Harness;
  let inst: { id: string; token: string };

  beforeAll(async () => {
    h = await harness(mode);
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: HELO, name: 'Helô' });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const chat = async () => ((await api().get('/chats')).body as Chat[]).find((c) => c.phone === HELO);
  /** What the business account's devices told WhatsApp of this chat. */
  const onWhatsApp = () => h.sandbox().network().account(BIZ)?.chats?.[heloJid];
  const modify = async (action: string) => expect((await api().post('/modify-chat', { phone: HELO, action })).body).toEqual({ value: true });
  const say = (text: string) => h.owner.post(`/api/whatsapp-sandbox/phones/${HELO}/messages`, { to: BIZ, text });

  it('reads a chat: the unread count goes to 0 and the customer sees blue ticks; unread marks it again', async () => {
    const first = (await say('Oi')).body.id as string;
    const second = (await say('Tudo bem?')).body.id as string;
    await waitFor(async () => (await chat())?.unread === '2', 20_000, 'two unread');
    await modify('read');
    expect((await chat())?.unread).toBe('0');
    expect(onWhatsApp()?.read).toBe(true);
    const mine = async () => ((await h.owner.get(`/api/whatsapp-sandbox/phones/${HELO}`)).body.messages as { id: string; status?: string }[]).filter((m) => m.id === first || m.id === second);
    await waitFor(async () => (await mine()).every((m) => m.status === 'read'), 20_000, 'the phone sees both read');
    await modify('unread');
    expect((await chat())?.unread).toBe('1');
    expect(onWhatsApp()?.read).toBe(false);
  });

  it('archives, mutes and pins, and undoes each, on WhatsApp and in the chat list', async () => {
    await modify('archive');
    await modify('mute');
    await modify('pin');
    expect(await chat()).toMatchObject({ archived: 'true', isMuted: '1', muteEndTime: '-1', pinned: 'true' });
    expect(onWhatsApp()).toMatchObject({ archived: true, mutedUntil: -1, pinned: true });
    await modify('unarchive');
    await modify('unmute');
    await modify('unpin');
    expect(await chat()).toMatchObject({ archived: 'false', isMuted: '0', muteEndTime: null, pinned: 'false' });
    expect(onWhatsApp()).toMatchObject({ archived: false, pinned: false });
    expect(onWhatsApp()?.mutedUntil).toBeUndefined();
  });

  it('clears a chat (its messages go, here and on WhatsApp), and deletes it from the list', async () => {
    await modify('clear');
    expect(onWhatsApp()?.cleared).toBeGreaterThan(0);
    expect((await api().get(`/chat-messages/${HELO}`)).body).toEqual([]);
    await say('Voltei');
    await waitFor(async () => (await chat()) !== undefined, 20_000, 'the chat back');
    await modify('delete');
    expect(onWhatsApp()?.deleted).toBeGreaterThan(0);
    expect(await chat()).toBeUndefined();
  });

  it("changes the number's push name on WhatsApp, and says which field is wrong", async () => {
    expect((await api().put('/profile-name', { value: 'Loja Matriz' })).body).toEqual({ value: true });
    expect(h.sandbox().network().account(BIZ)?.name).toBe('Loja Matriz');
    const long = await api().put('/profile-name', { value: 'x'.repeat(26) });
    expect([long.status, long.body.error.details.issues[0].path]).toEqual([400, 'body.value']);
    const bad = await api().post('/modify-chat', { phone: HELO, action: 'hide' });
    expect([bad.status, bad.body.error.details.issues[0].path]).toEqual([400, 'body.action']);
  });
});
