import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedMessageEvent } from '../src/api.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const ANA = '5521960000001';
const BRUNO = '5521960000002';
const CARLA = '5521960000003';
const DANI = '5521960000004';
const NOT_ON_WHATSAPP = '5521960009999';
/** She asks to join and is turned down. */
const EVA = '5521960000005';

interface PhoneMsg {
  id: string;
  chat: string;
  text?: string;
  author?: string;
  mentions?: string[];
}
interface ZapiGroup {
  phone: string;
  subject: string;
  description: string | null;
  owner: string;
  invitationLink: string | null;
  adminOnlyMessage: boolean;
  adminOnlySettings: boolean;
  requireAdminApproval: boolean;
  participants: { phone: string; isAdmin: boolean; isSuperAdmin: boolean }[];
}

describe.each(STORAGE_MODES)('groups through the Z-API routes, with the members on their sandbox phones (%s)', (mode) => {
  let h: Harness;
  let inst: { id: string; token: string };
  let group = '';
  let link = '';
  const received: ReceivedMessageEvent[] = [];

  beforeAll(async () => {
    h = await harness(mode);
    h.app.events.on('test', 'whatsapp-session.message.received', (e) => void received.push(e as ReceivedMessageEvent));
    for (const [phone, name] of [
      [ANA, 'Ana'],
      [BRUNO, 'Bruno'],
      [CARLA, 'Carla'],
      [DANI, 'Dani'],
      [EVA, 'Eva'],
    ]) await h.owner.post('/api/whatsapp-sandbox/phones', { phone, name });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const messagesOf = async (phone: string) => (await h.owner.get(`/api/whatsapp-sandbox/phones/${phone}`)).body.messages as PhoneMsg[];
  const onPhone = (phone: string, id: string) => waitFor(async () => (await messagesOf(phone)).find((m) => m.id === id), 20_000, `message ${id} on ${phone}`);
  const metadata = async () => {
    const r = await api().get(`/group-metadata/${group}`);
    expect(r.status).toBe(200);
    return r.body as ZapiGroup;
  };
  const members = async () => (await metadata()).participants.map((p) => p.phone).sort();
  const phoneSays = (phone: string, text: string) => h.owner.post(`/api/whatsapp-sandbox/phones/${phone}/messages`, { to: group, text });

  it('creates a group: the members are on it on their phones, the number not on WhatsApp is reported', async () => {
    const created = await api().post('/create-group', { groupName: 'Clientes VIP', phones: [ANA, BRUNO, NOT_ON_WHATSAPP], autoInvite: false });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ phone: expect.stringMatching(/^120363\d+-group$/), invitationLink: expect.stringMatching(/^https:\/\/chat\.whatsapp\.com\/\S+$/), phonesNotAdded: [NOT_ON_WHATSAPP] });
    group = created.body.phone;
    link = created.body.invitationLink;
    for (const phone of [ANA, BRUNO]) {
      const groups = (await h.owner.get(`/api/whatsapp-sandbox/phones/${phone}/groups`)).body.groups as { id: string; subject: string; participants: { phone: string; admin?: string }[] }[];
      expect(groups).toEqual([{ id: group, subject: 'Clientes VIP', participants: expect.arrayContaining([{ phone: BIZ, admin: 'superadmin' }, { phone: ANA }, { phone: BRUNO }]) }]);
    }
    const meta = await metadata();
    expect(meta).toMatchObject({ phone: group, subject: 'Clientes VIP', owner: BIZ, invitationLink: link, adminOnlyMessage: false, requireAdminApproval: false });
    expect(meta.participants).toContainEqual({ phone: BIZ, isAdmin: true, isSuperAdmin: true });
    expect(meta.participants).toContainEqual({ phone: ANA, isAdmin: false, isSuperAdmin: false });
    // The light metadata is the same without the link.
    const light = (await api().get(`/light-group-metadata/${group}`)).body as ZapiGroup;
    expect(light).toEqual({ ...meta, invitationLink: null });
  });

  it('sends to the group: each member gets it; a member reply arrives as a group message naming who wrote it', async () => {
    const sent = await api().post('/send-text', { phone: group, message: 'Promoção de hoje: frete grátis' });
    expect(sent.status).toBe(200);
    for (const phone of [ANA, BRUNO]) expect(await onPhone(phone, sent.body.messageId)).toMatchObject({ chat: `${group.replace('-group', '')}@g.us`, text: 'Promoção de hoje: frete grátis' });
    // A mention names the member, and their phone sees it as one.
    const mention = await api().post('/send-text', { phone: group, message: `@${ANA} o seu pedido chegou`, mentioned: [ANA] });
    expect(await onPhone(BRUNO, mention.body.messageId)).toMatchObject({ text: `@${ANA} o seu pedido chegou`, mentions: [`${ANA}@s.whatsapp.net`] });
    // Members' receipts move it on: delivered once a member's phone has it.
    await waitFor(async () => ((await api().get(`/chat-messages/${group}`)).body as { messageId: string; status: string }[]).find((m) => m.messageId === sent.body.messageId)?.status === 'RECEIVED', 20_000, 'RECEIVED');

    expect((await phoneSays(ANA, 'Quero o meu!')).status).toBe(201);
    const reply = await waitFor(async () => received.find((e) => e.text === 'Quero o meu!'), 20_000, 'the reply');
    expect(reply).toMatchObject({ phone: group, isGroup: true, participantPhone: ANA, senderName: 'Ana', chatName: 'Clientes VIP', fromMe: false, type: 'text' });
    // Reading it in the group tells Ana, who wrote it.
    expect((await api().post('/read-message', { phone: group, messageId: reply.messageId })).status).toBe(200);
    await waitFor(async () => ((await h.owner.get(`/api/whatsapp-sandbox/phones/${ANA}`)).body.messages as { id: string; status?: string }[]).find((m) => m.id === reply.messageId)?.status === 'read', 20_000, 'Ana sees it read');
    // Bruno sees Ana's message in the group too.
    await waitFor(async () => (await messagesOf(BRUNO)).find((m) => m.text === 'Quero o meu!')?.author === `${ANA}@s.whatsapp.net`, 10_000, 'Bruno sees it');

    const chats = (await api().get('/chats')).body as { phone: string; name: string; isGroup: boolean }[];
    expect(chats.find((c) => c.phone === group)).toMatchObject({ name: 'Clientes VIP', isGroup: true });
    // Z-API's paging: the newest chat alone on page 1 of size 1.
    expect((await api().get('/chats?page=1&pageSize=1')).body).toEqual([chats[0]]);
    expect((await api().get(`/chats?page=${chats.length + 1}&pageSize=1`)).body).toEqual([]);
    const groups = (await api().get('/groups?page=1&pageSize=10')).body as { phone: string; name: string; isGroup: boolean; unread: string }[];
    expect(groups).toEqual([expect.objectContaining({ phone: group, name: 'Clientes VIP', isGroup: true, unread: '1' })]);
    expect((await api().get('/groups?page=2&pageSize=10')).body).toEqual([]);
  });

  it('renames, describes and sets the group; only admins may then send', async () => {
    expect((await api().post('/update-group-name', { groupId: group, groupName: 'Clientes Ouro' })).body).toEqual({ value: true });
    expect((await api().post('/update-group-description', { groupId: group, groupDescription: 'Ofertas exclusivas' })).body).toEqual({ value: true });
    expect((await api().post('/update-group-settings', { phone: group, adminOnlyMessage: true, adminOnlySettings: true })).body).toEqual({ value: true });
    expect(await metadata()).toMatchObject({ subject: 'Clientes Ouro', description: 'Ofertas exclusivas', adminOnlyMessage: true, adminOnlySettings: true });
    const refused = await phoneSays(BRUNO, 'posso falar?');
    expect(refused.status).toBe(403);
    expect((await api().post('/update-group-settings', { phone: group, adminOnlyMessage: false })).body).toEqual({ value: true });
    expect((await phoneSays(BRUNO, 'agora posso')).status).toBe(201);
    const named = await waitFor(async () => received.find((e) => e.text === 'agora posso'), 20_000, 'the message after the rename');
    expect(named).toMatchObject({ chatName: 'Clientes Ouro', participantPhone: BRUNO });
  });

  it('makes and unmakes admins, removes and adds participants', async () => {
    expect((await api().post('/add-admin', { groupId: group, phones: [ANA] })).body).toEqual({ value: true });
    expect((await metadata()).participants).toContainEqual({ phone: ANA, isAdmin: true, isSuperAdmin: false });
    expect((await api().post('/remove-admin', { groupId: group, phones: [ANA] })).body).toEqual({ value: true });
    expect((await metadata()).participants).toContainEqual({ phone: ANA, isAdmin: false, isSuperAdmin: false });

    expect((await api().post('/remove-participant', { groupId: group, phones: [BRUNO] })).body).toEqual({ value: true });
    expect(await members()).toEqual([BIZ, ANA].sort());
    const sent = await api().post('/send-text', { phone: group, message: 'Só para quem ficou' });
    await onPhone(ANA, sent.body.messageId);
    expect((await messagesOf(BRUNO)).find((m) => m.id === sent.body.messageId)).toBeUndefined();
    expect((await api().post('/add-participant', { groupId: group, phones: [BRUNO], autoInvite: false })).body).toEqual({ value: true });
    // Someone already in, or not on WhatsApp, is not added: value false.
    expect((await api().post('/add-participant', { groupId: group, phones: [BRUNO, NOT_ON_WHATSAPP] })).body).toEqual({ value: false });
    expect(await members()).toEqual([BIZ, ANA, BRUNO].sort());
  });

  it('invitation links: redefining kills the old one; with approval on, joiners wait for an admin', async () => {
    const got = await api().get(`/group-invitation-link/${group}`);
    expect(got.body).toEqual({ phone: group, invitationLink: link });
    const redefined = await api().post(`/redefine-invitation-link/${group}`, {});
    expect(redefined.body.invitationLink).toMatch(/^https:\/\/chat\.whatsapp\.com\/\S+$/);
    expect(redefined.body.invitationLink).not.toBe(link);
    link = redefined.body.invitationLink;

    expect((await api().post(`/group-invitation-link/${group}`, {})).body).toEqual({ phone: group, invitationLink: link });
    const seen = await api().get(`/group-invitation-metadata?url=${encodeURIComponent(link)}`);
    expect(seen.body).toMatchObject({ phone: group, subject: 'Clientes Ouro', owner: BIZ });
    const stale = await api().get(`/group-invitation-metadata?url=${encodeURIComponent(got.body.invitationLink)}`);
    expect(stale.status).toBe(404);
    expect(stale.body.error.code).toBe('invitation_not_found');

    expect((await h.owner.post(`/api/whatsapp-sandbox/phones/${CARLA}/groups/join`, { link: got.body.invitationLink })).status).toBe(404);
    expect((await h.owner.post(`/api/whatsapp-sandbox/phones/${CARLA}/groups/join`, { link })).body.joined).toBe(true);
    expect(await members()).toContain(CARLA);

    await api().post('/update-group-settings', { phone: group, requireAdminApproval: true });
    expect((await metadata()).requireAdminApproval).toBe(true);
    expect((await h.owner.post(`/api/whatsapp-sandbox/phones/${DANI}/groups/join`, { link })).body.joined).toBe(false);
    expect(await members()).not.toContain(DANI);
    expect((await api().post('/approve-participant', { groupId: group, phones: [DANI] })).body).toEqual({ value: true });
    expect(await members()).toContain(DANI);
    // A request turned down leaves the number out.
    expect((await h.owner.post(`/api/whatsapp-sandbox/phones/${EVA}/groups/join`, { link })).body.joined).toBe(false);
    expect((await api().post('/reject-participant', { groupId: group, phones: [EVA] })).body).toEqual({ value: true });
    expect(await members()).not.toContain(EVA);
    expect(h.sandbox().network().groups.get(group.replace('-group', ''))?.requests).toEqual([]);
    await api().post('/update-group-settings', { phone: group, requireAdminApproval: false });
  });

  it('leaves the group (then it is not the instance’s to read) and joins again by link', async () => {
    expect((await api().post('/leave-group', { groupId: group })).body).toEqual({ value: true });
    const after = await api().get(`/group-metadata/${group}`);
    expect(after.status).toBe(403);
    expect(after.body.error.code).toBe('not_group_participant');
    expect((await api().get('/groups')).body).toEqual([]);
    const joined = await api().get(`/accept-invite-group?url=${encodeURIComponent(link)}`);
    expect(joined.body).toEqual({ success: true });
    expect(await members()).toContain(BIZ);
    // No longer an admin (Ana took over when the creator left): admin routes are refused with why.
    const denied = await api().post('/update-group-name', { groupId: group, groupName: 'Tentativa' });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'not_group_admin']);
    const noLink = await metadata();
    expect(noLink.invitationLink).toBeNull();
  });

  it('answers bad input with the field at fault, and an unknown group with 404', async () => {
    const empty = await api().post('/create-group', { groupName: 'Vazio', phones: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.issues[0].path).toBe('body.phones');
    const badId = await api().get('/group-metadata/12345');
    expect(badId.status).toBe(400);
    expect(badId.body.error.details.issues[0].path).toBe('params.phone');
    const badTo = await api().post('/send-text', { phone: 'grupo', message: 'x' });
    expect(badTo.status).toBe(400);
    expect(badTo.body.error.details.issues[0].path).toBe('body.phone');
    const unknown = await api().get('/group-metadata/120363000000000000-group');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'group_not_found']);
  });
});
