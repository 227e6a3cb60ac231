import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import { DisconnectReason, pairClient, TestClient } from './support/client.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'sandbox-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('sessions across restarts, drops and faults', () => {
  it('logs in again with saved credentials after both sides restart, without a QR', async () => {
    const stateFile = path.join(tmp(), 'state.json');
    let network = new SandboxNetwork({ stateFile });
    await network.start();
    const biz = await pairClient(network, '5511911110001', 'Acme');
    const customer = await pairClient(network, '5511911110002', 'Caio');
    biz.stop();
    customer.stop();
    const port = Number(new URL(network.url).port);
    await network.stop();

    network = new SandboxNetwork({ stateFile, port });
    await network.start();
    const biz2 = new TestClient(network, biz.auth).start();
    const customer2 = new TestClient(network, customer.auth).start();
    await biz2.waitOpen();
    await customer2.waitOpen();
    expect(biz2.qr).toBeUndefined();
    await biz2.sendText(customer2.userJid, 'after restart');
    await customer2.waitFor(() => customer2.received('after restart'), 'message after restart');
    biz2.stop();
    customer2.stop();
    await network.stop();
  });

  it('keeps undelivered messages across a network restart', async () => {
    const stateFile = path.join(tmp(), 'state.json');
    let network = new SandboxNetwork({ stateFile });
    await network.start();
    const biz = await pairClient(network, '5511912120001', 'Acme');
    const customer = await pairClient(network, '5511912120002', 'Cora');
    customer.autoReconnect = false;
    customer.stop();
    await biz.waitFor(() => network.devices().find((d) => d.jid === customer.jid)?.online === false, 'the customer to go away');
    await biz.sendText(customer.userJid, 'kept on disk');
    await biz.waitFor(() => network.devices().find((d) => d.jid === customer.jid)?.queued === 1, 'the message to be queued');
    biz.stop();
    await network.stop();

    network = new SandboxNetwork({ stateFile });
    await network.start();
    const back = new TestClient(network, customer.auth).start();
    const got = await back.waitFor(() => back.received('kept on disk'), 'the kept message');
    expect(got.type).toBe('append');
    back.stop();
    await network.stop();
  });

  it('queues while a client is away and delivers on reconnect as "append"', async () => {
    const network = new SandboxNetwork();
    await network.start();
    const biz = await pairClient(network, '5511922220001', 'Acme');
    const customer = await pairClient(network, '5511922220002', 'Cida');
    customer.autoReconnect = false;
    network.drop(customer.jid!);
    await customer.waitFor(() => customer.closes.includes(DisconnectReason.connectionClosed), 'the drop (428)');
    await biz.sendText(customer.userJid, 'while you were away');
    await biz.waitFor(() => network.devices().find((d) => d.jid === customer.jid)?.queued === 1, 'the message to be queued');
    customer.start();
    const got = await customer.waitFor(() => customer.received('while you were away'), 'the queued message');
    expect(got.type).toBe('append');
    biz.stop();
    customer.stop();
    await network.stop();
  });

  it('reports presence and chatstate to subscribers', async () => {
    const network = new SandboxNetwork();
    await network.start();
    const biz = await pairClient(network, '5511933330001', 'Acme');
    const customer = await pairClient(network, '5511933330002', 'Cris');
    await biz.sock!.presenceSubscribe(customer.userJid);
    await biz.waitFor(() => biz.presences.some((p) => p.presences[customer.userJid]?.lastKnownPresence === 'available'), 'available presence');
    await customer.sock!.sendPresenceUpdate('composing', biz.userJid);
    await biz.waitFor(() => biz.presences.some((p) => p.presences[customer.userJid]?.lastKnownPresence === 'composing'), 'composing');
    await customer.sock!.sendPresenceUpdate('unavailable');
    await biz.waitFor(() => biz.presences.some((p) => p.presences[customer.userJid]?.lastKnownPresence === 'unavailable'), 'unavailable presence');
    biz.stop();
    customer.stop();
    await network.stop();
  });

  it('gives the right disconnect reasons: conflict 440, logout 401, unlink 401, partition 408', async () => {
    const network = new SandboxNetwork();
    await network.start();
    const a = await pairClient(network, '5511944440001', 'A');
    const b = await pairClient(network, '5511944440002', 'B');
    const c = await pairClient(network, '5511944440003', 'C');
    const d = await pairClient(network, '5511944440004', 'D');

    network.replace(a.jid!);
    await a.waitFor(() => a.closes.includes(DisconnectReason.connectionReplaced), 'conflict');

    await b.sock!.logout();
    await b.waitFor(() => b.closes.includes(DisconnectReason.loggedOut), 'logout');
    const again = new TestClient(network, b.auth);
    again.autoReconnect = false;
    again.start();
    await again.waitFor(() => again.closes.includes(401), 'login refused after logout');

    network.unlink(c.jid!);
    await c.waitFor(() => c.closes.includes(DisconnectReason.loggedOut), 'unlink');

    d.autoReconnect = false;
    network.partition(d.jid!, 30_000);
    await d.waitFor(() => d.closes.includes(DisconnectReason.timedOut), 'keepalive timeout', 20_000);

    for (const x of [a, b, c, d, again]) x.stop();
    await network.stop();
  });
});
