import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const CUSTOMER = '5521990000031';

interface Chat {
  name: string;
  phone: string;
  unread: string;
  lastMessageTime: string;
  isMuted: string;
  archived: string;
  pinned: string;
}

describe.each(STORAGE_MODES)('history sync: an instance linked to a phone with a past lists its chats and contacts (%s)', (mode) => {
  let h: Harness;
  let inst: { id: string; token: string };

  beforeAll(async () => {
    h = await harness(mode);
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Dora' });
    inst = await pairedInstance(h, BIZ, { chats: 30, messages: 200 });
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const chats = async () => (await api().get('/chats')).body as Chat[];

  it('lists every chat of the phone with its name, last activity, unread count and settings', async () => {
    await waitFor(async () => (await chats()).filter((c) => /^Contact \d+$/.test(c.name)).length === 30, 20_000, 'the 30 chats of the history');
    const list = await chats();
    const settings = h.sandbox().network().account(BIZ)!.chats!;
    for (const c of list) {
      const onPhone = settings[`${c.phone}@s.whatsapp.net`] ?? {};
      expect(c.archived).toBe(String(!!onPhone.archived));
      expect(c.pinned).toBe(String(!!onPhone.pinned));
      expect(c.isMuted).toBe(onPhone.mutedUntil === -1 ? '1' : '0');
    }
    await waitFor(async () => (await chats()).filter((c) => c.archived === 'true').length === 3, 20_000, 'the archived chats');
    expect((await chats()).filter((c) => c.pinned === 'true')).toHaveLength(3);
    // Newest first, in seconds as Z-API gives it: chat n was last active n hours before the link.
    const times = list.map((c) => Number(c.lastMessageTime));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(Math.abs(times[0]! - Date.now() / 1000)).toBeLessThan(600);
    expect(times[0]! - times[29]!).toBe(29 * 3600);
    expect(list.filter((c) => c.unread === '1').map((c) => c.name).sort()).toEqual(['Contact 1', 'Contact 15', 'Contact 22', 'Contact 29', 'Contact 8']);
  });

  it('names the contacts from the phone, and a new message joins its chat at the top', async () => {
    const contacts = (await api().get('/contacts?pageSize=100')).body as { notify: string | null; phone: string }[];
    expect(contacts).toHaveLength(30);
    expect(new Set(contacts.map((c) => c.notify)).size).toBe(30);
    const before = (await chats()).length;
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'Oi, sou nova aqui' });
    await waitFor(async () => (await chats())[0]?.phone === CUSTOMER, 20_000, 'the new chat first');
    expect((await chats()).length).toBe(before + 1);
    expect((await chats())[0]).toMatchObject({ name: 'Dora', unread: '1' });
  });

  it('reading a history chat clears the unread count it came with', async () => {
    const unread = (await chats()).find((c) => c.name === 'Contact 8')!;
    expect((await api().post('/modify-chat', { phone: unread.phone, action: 'read' })).body).toEqual({ value: true });
    expect((await chats()).find((c) => c.phone === unread.phone)!.unread).toBe('0');
  });
});
