import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import { pairClient, type TestClient } from './support/client.js';

const BIZ = '5511955550000';

describe('history sync: a phone with a past hands it to every device linked to it', () => {
  let network: SandboxNetwork;
  let first: TestClient | undefined;
  let second: TestClient | undefined;

  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
  });
  afterAll(async () => {
    first?.stop();
    second?.stop();
    await network?.stop();
  });

  // Baileys' event buffer may fold both syncs into one messaging-history.set: read them together.
  const history = (c: TestClient) => {
    const contacts = new Map<string, { name?: string; notify?: string }>();
    for (const h of c.histories) for (const x of h.contacts) contacts.set(x.id, { ...contacts.get(x.id), ...x });
    return { chats: c.histories.flatMap((h) => h.chats), messages: c.histories.flatMap((h) => h.messages), contacts };
  };
  const complete = (c: TestClient, chats: number, messages: number) => {
    const h = history(c);
    return h.chats.length >= chats && h.messages.length >= messages && [...h.contacts.values()].filter((x) => x.notify).length >= chats;
  };

  it('downloads and decrypts the chats, their messages and the contacts’ names', async () => {
    first = await pairClient(network, BIZ, 'Loja', { history: { chats: 40, messages: 250 } });
    const c = first;
    await c.waitFor(() => complete(c, 40, 250), 'both history syncs');
    const h = history(c);
    expect(h.chats).toHaveLength(40);
    expect(h.messages).toHaveLength(250);
    // 250 over 40 chats: the first ten have seven messages, the rest six; each message names its chat.
    const perChat = new Map<string, number>();
    for (const m of h.messages) perChat.set(m.key.remoteJid!, (perChat.get(m.key.remoteJid!) ?? 0) + 1);
    expect([...perChat.values()].sort()).toEqual([...Array(30).fill(6), ...Array(10).fill(7)].sort());
    expect(h.messages.every((m) => /^(Message|Reply) \d+ (from|to) Contact \d+$/.test(m.message?.conversation ?? ''))).toBe(true);
    expect(h.messages.filter((m) => m.key.fromMe).length).toBeGreaterThan(50);
    expect(h.contacts.size).toBe(40);
    expect(new Set([...h.contacts.values()].map((n) => n.notify)).size).toBe(40);
    expect([...h.contacts.keys()].sort()).toEqual([...perChat.keys()].sort());
  });

  it('carries the chats the phone archived, pinned and muted as app state', async () => {
    const c = first!;
    const chats = network.account(BIZ)!.chats!;
    const archived = Object.entries(chats).filter(([, s]) => s.archived).map(([j]) => j);
    const pinned = Object.entries(chats).filter(([, s]) => s.pinned).map(([j]) => j);
    const muted = Object.entries(chats).filter(([, s]) => s.mutedUntil === -1).map(([j]) => j);
    expect([archived.length, pinned.length, muted.length]).toEqual([4, 3, 2]);
    // Applied during the first sync, they reach the device folded into the history's chats (Baileys' conditional
    // chat updates) or, when the history came first, as chat updates.
    await c.waitFor(() => c.auth.state.creds.accountSyncCounter, 'the initial app-state sync');
    type Flags = { archived?: boolean | null; pinned?: number | null; muteEndTime?: number | null };
    const synced = new Map(history(c).chats.map((x) => [(x as { id: string }).id, { ...(x as Flags) }]));
    for (const u of c.chatUpdates) if (u.id) synced.set(u.id, { ...synced.get(u.id), ...u });
    expect([...synced].filter(([, x]) => x.archived).map(([j]) => j).sort()).toEqual(archived.sort());
    expect([...synced].filter(([, x]) => x.pinned).map(([j]) => j).sort()).toEqual(pinned.sort());
    expect([...synced].filter(([, x]) => x.muteEndTime === -1).map(([j]) => j).sort()).toEqual(muted.sort());
  });

  it('gives the same history to a second device, and none to a number linked without one', async () => {
    second = await pairClient(network, BIZ, 'Loja');
    const s = second;
    await s.waitFor(() => complete(s, 40, 250), 'the history on the second device');
    expect(history(s).messages.map((m) => m.key.id).sort()).toEqual(history(first!).messages.map((m) => m.key.id).sort());
    const plain = await pairClient(network, '5511955550009', 'Sem passado');
    await plain.waitFor(() => plain.auth.state.creds.accountSyncCounter, 'the initial app-state sync');
    expect(plain.histories).toEqual([]);
    plain.stop();
  });

  it('refuses a history it cannot make, linking nothing', async () => {
    await expect(network.scan('a,b,c,d', '5511955550008', { history: { chats: -1, messages: 10 } })).rejects.toMatchObject({ code: 'invalid_history' });
    expect(network.account('5511955550008')).toBeUndefined();
  });
});
