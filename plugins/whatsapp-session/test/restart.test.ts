import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxNetwork } from '../../whatsapp-sandbox/src/network/index.js';
import { Client, createWorkspace, OWNER, setupOwner, spawnServer, startApp, type ServerProcess, type Workspace } from '../../../core/test/support/app.js';
import { externalNetwork, harness, makeHarness, pairedInstance, waitFor, type Harness } from './support.js';

describe('instances across restarts', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.stop().catch(() => {});
    await h?.ws.cleanup();
    h = undefined;
  });

  it('reconnects after a PlugChat restart with no QR', async () => {
    h = await harness();
    const inst = await pairedInstance(h);
    const before = (await h.owner.get(`/api/whatsapp-session/instances/${inst.id}/history`)).body.history.length as number;
    await h.stop();
    const app = await startApp(h.ws);
    const owner = new Client(app.url);
    await owner.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    h = makeHarness(h.ws, app, owner, h.key);
    await waitFor(async () => (await h!.api(inst).get('/status')).body.connected, 30_000, 'the reconnect');
    const history = (await owner.get(`/api/whatsapp-session/instances/${inst.id}/history`)).body.history as { state: string }[];
    const afterRestart = history.slice(before).map((e) => e.state);
    expect(afterRestart).toContain('connected');
    expect(afterRestart).not.toContain('qr');
    const res = await h.api(inst).post('/send-text', { phone: '5521960000001', message: 'depois do restart' });
    expect(res.status).toBe(200);
  });
});

describe('SIGKILL in the middle of a batch', () => {
  let ws: Workspace | undefined;
  let server: ServerProcess | undefined;
  let network: SandboxNetwork | undefined;
  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    await network?.stop();
    await ws?.cleanup();
  });

  it('delivers every one of 200 messages exactly once after a restart', async () => {
    // The network lives outside the PlugChat process, as WhatsApp does.
    ws = await createWorkspace({});
    network = await externalNetwork(ws, ['@plugchat/whatsapp-session']);
    const phone = network.createPhone('5521970000001', { name: 'Fabi' });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    const key = (await owner.post('/api/api-keys', { name: 'k' })).body.key;
    const created = await owner.post('/api/whatsapp-session/instances', { name: 'Loja', delayMinMs: 15, delayMaxMs: 15 });
    const base = () => `${server!.url}/instances/${created.body.id}/token/${created.body.token}`;
    const api = () => {
      const c = new Client(base());
      const req = c.req.bind(c);
      c.req = (m, u, b, hd = {}) => req(m, u, b, { 'client-token': key, ...hd });
      return c;
    };
    const qr = (await api().get('/qr-code')).body.value;
    await network.scan(qr, '5511970000000', { name: 'Loja' });
    await waitFor(async () => (await api().get('/status')).body.connected, 20_000, 'connected');

    const sent: { messageId: string; text: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const text = `lote ${String(i).padStart(3, '0')}`;
      const res = await api().post('/send-text', { phone: '5521970000001', message: text });
      expect(res.status).toBe(200);
      sent.push({ messageId: res.body.messageId, text });
    }
    const inbox = () => phone.messages().filter((m) => m.direction === 'in');
    await waitFor(async () => inbox().length >= 60, 30_000, 'part of the batch');
    server.proc.kill('SIGKILL');
    await server.exited;
    const beforeRestart = inbox().length;
    expect(beforeRestart).toBeLessThan(200);

    server = await spawnServer(ws);
    await waitFor(async () => inbox().length >= 200, 60_000, 'the rest of the batch');
    await new Promise((r) => setTimeout(r, 1_000));
    const texts = inbox().map((m) => m.text);
    expect(texts).toHaveLength(200);
    expect(new Set(texts).size).toBe(200);
    expect(inbox().map((m) => m.id).sort()).toEqual(sent.map((s) => s.messageId).sort());
    // And in the order they were queued.
    expect(texts).toEqual(sent.map((s) => s.text));
  }, 180_000);
});
