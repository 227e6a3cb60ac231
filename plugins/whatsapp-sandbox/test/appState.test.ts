import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import { pairClient, type TestClient } from './support/client.js';

const BIZ = '5511966660000';
const CUSTOMER = '5521966660001';
const customerJid = `${CUSTOMER}@s.whatsapp.net`;

describe('app state: the patches an account’s devices write, kept in order and shared', () => {
  let network: SandboxNetwork;
  let first: TestClient;
  let second: TestClient | undefined;

  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
    network.createPhone(CUSTOMER, { name: 'Cliente' });
    first = await pairClient(network, BIZ, 'Acme');
    await first.waitFor(() => first.auth.state.creds.myAppStateKeyId, 'the app-state key');
  });
  afterAll(async () => {
    first?.stop();
    second?.stop();
    await network?.stop();
  });

  const versionOf = async (c: TestClient, name: string) => ((await c.auth.state.keys.get('app-state-sync-version', [name])) as Record<string, { version: number } | undefined>)[name]?.version ?? 0;
  const last = () => [{ key: { remoteJid: customerJid, id: '3A0000000000000001', fromMe: false }, messageTimestamp: Math.floor(Date.now() / 1000) }];

  it('applies archive, pin, mute, read and the push name a device sets', async () => {
    await first.sock!.chatModify({ archive: true, lastMessages: last() }, customerJid);
    await first.sock!.chatModify({ pin: true }, customerJid);
    const until = Date.now() + 8 * 3600_000;
    await first.sock!.chatModify({ mute: until }, customerJid);
    await first.sock!.chatModify({ markRead: false, lastMessages: last() }, customerJid);
    expect(network.account(BIZ)!.chats![customerJid]).toEqual({ archived: true, pinned: true, mutedUntil: until, read: false });
    await first.sock!.updateProfileName('Acme Matriz');
    expect(network.account(BIZ)!.name).toBe('Acme Matriz');
    await first.sock!.chatModify({ mute: null }, customerJid);
    await first.sock!.chatModify({ archive: false, lastMessages: last() }, customerJid);
    expect(network.account(BIZ)!.chats![customerJid]).toEqual({ archived: false, pinned: true, read: false });
    expect(await versionOf(first, 'regular_low')).toBe(4);
  });

  it('hands the patches to another device of the account, whose own patches the first then reads', async () => {
    second = await pairClient(network, BIZ, 'Acme Matriz');
    await second.waitFor(() => second!.auth.state.creds.myAppStateKeyId, 'the app-state key on the second device');
    await second.sock!.resyncAppState(['regular_low', 'regular_high', 'critical_block'], false);
    // Every patch's MAC checked out, or Baileys would have dropped the collection back to 0.
    expect(await versionOf(second, 'regular_low')).toBe(4);
    expect(await versionOf(second, 'regular_high')).toBe(2);
    expect(await versionOf(second, 'critical_block')).toBe(1);
    await second.sock!.chatModify({ pin: false }, customerJid);
    expect(network.account(BIZ)!.chats![customerJid]!.pinned).toBe(false);
    await first.sock!.resyncAppState(['regular_low'], false);
    expect(await versionOf(first, 'regular_low')).toBe(5);
  });
});
