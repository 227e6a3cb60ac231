import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import type { VirtualPhone } from '../src/network/phones.js';
import { pairClient, type TestClient } from './support/client.js';

const textOf = (m: import('@whiskeysockets/baileys').proto.IMessage | null | undefined) => m?.conversation || m?.extendedTextMessage?.text;

describe('groups: a Baileys client and virtual phones in one group', () => {
  let network: SandboxNetwork;
  let biz: TestClient;
  let ana: VirtualPhone;
  let bruno: VirtualPhone;
  const ANA = '5521977770001';
  const BRUNO = '5521977770002';
  let gid = '';

  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
    ana = network.createPhone(ANA, { name: 'Ana' });
    bruno = network.createPhone(BRUNO, { name: 'Bruno' });
    biz = await pairClient(network, '5511977770000', 'Acme');
  });
  afterAll(async () => {
    biz?.stop();
    await network?.stop();
  });

  it('creates a group with the numbers that exist and answers its metadata', async () => {
    const meta = await biz.sock!.groupCreate('Pedidos', [`${ANA}@s.whatsapp.net`, `${BRUNO}@s.whatsapp.net`, '5521900000000@s.whatsapp.net']);
    gid = meta.id;
    expect(gid).toMatch(/^120363\d+@g\.us$/);
    expect(meta.subject).toBe('Pedidos');
    expect(meta.participants.map((p) => [p.id, p.admin]).sort()).toEqual([
      ['5511977770000@s.whatsapp.net', 'superadmin'],
      [`${ANA}@s.whatsapp.net`, null],
      [`${BRUNO}@s.whatsapp.net`, null],
    ]);
    await biz.sock!.groupUpdateDescription(gid, 'Só pedidos');
    await biz.sock!.groupSettingUpdate(gid, 'locked');
    const again = await biz.sock!.groupMetadata(gid);
    expect(again.desc).toBe('Só pedidos');
    expect(again.restrict).toBe(true);
    expect(Object.keys(await biz.sock!.groupFetchAllParticipating())).toEqual([gid]);
  });

  it('delivers a message to the group to every member phone, and their replies come back from the group', async () => {
    const sent = await biz.sendText(gid, 'Bom dia, grupo!');
    for (const p of [ana, bruno]) await biz.waitFor(() => p.messages().find((m) => m.id === sent.key.id && m.chat === gid && m.text === 'Bom dia, grupo!'), 'the text on each phone');
    // A second message uses the sender key the phones already hold.
    const second = await biz.sendText(gid, 'Segunda mensagem');
    await biz.waitFor(() => bruno.messages().find((m) => m.id === second.key.id && m.text === 'Segunda mensagem'), 'the second text');

    await ana.send(gid, { text: 'Oi, sou a Ana' });
    await bruno.send(gid, { text: 'E eu o Bruno' });
    await ana.send(gid, { text: 'De novo a Ana' });
    const fromGroup = (text: string) => biz.waitFor(() => biz.upserts.find((u) => u.msg.key.remoteJid === gid && textOf(u.msg.message) === text), text);
    const a = await fromGroup('Oi, sou a Ana');
    expect(a.msg.key.participant).toBe(`${ANA}@s.whatsapp.net`);
    expect(a.msg.pushName).toBe('Ana');
    expect((await fromGroup('E eu o Bruno')).msg.key.participant).toBe(`${BRUNO}@s.whatsapp.net`);
    await fromGroup('De novo a Ana');
    // Members see each other's messages too.
    expect(bruno.messages().find((m) => m.text === 'Oi, sou a Ana')?.author).toBe(`${ANA}@s.whatsapp.net`);
  });

  it('changes participants and admins as an admin only, and joins by invitation code', async () => {
    const removed = await biz.sock!.groupParticipantsUpdate(gid, [`${BRUNO}@s.whatsapp.net`], 'remove');
    expect(removed[0]!.status).toBe('200');
    const sent = await biz.sendText(gid, 'Sem o Bruno');
    await biz.waitFor(() => ana.messages().find((m) => m.id === sent.key.id), 'Ana gets it');
    expect(bruno.messages().find((m) => m.id === sent.key.id)).toBeUndefined();

    const code = await biz.sock!.groupInviteCode(gid);
    expect(bruno.joinGroup(code!).joined).toBe(true);
    const revoked = await biz.sock!.groupRevokeInvite(gid);
    expect(revoked).not.toBe(code);
    expect(() => ana.joinGroup(code!)).toThrow();

    const promoted = await biz.sock!.groupParticipantsUpdate(gid, [`${ANA}@s.whatsapp.net`], 'promote');
    expect(promoted[0]!.status).toBe('200');
    expect((await biz.sock!.groupMetadata(gid)).participants.find((p) => p.id === `${ANA}@s.whatsapp.net`)?.admin).toBe('admin');
    // A non-member is refused.
    const other = network.createPhone('5521977770003', { name: 'Carla' });
    expect(() => other.leaveGroup(gid)).toThrow();

    await biz.sock!.groupLeave(gid);
    await expect(biz.sock!.groupMetadata(gid)).rejects.toThrow();
    expect(network.groups.get(gid.split('@')[0]!)?.participants.find((p) => p.phone === ANA)?.admin).toBe('admin');
  });
});
