import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createWorkspace, setupOwner, startApp } from '../../../core/test/support/app.js';
import { harness, pairedInstance, waitFor, type Harness } from './support.js';

// Baileys' per-frame timeout is off (it cost a tenth of the send path); the session keeps a
// deadline of its own for the handshake, and only for the handshake.

describe('a WhatsApp server that accepts the connection and goes silent', () => {
  let server: WebSocketServer;
  let connections = 0;
  let stop: () => Promise<void>;
  let owner: Awaited<ReturnType<typeof setupOwner>>;

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    // Takes the connection and never answers the client's hello.
    server.on('connection', () => void connections++);
    const port = (server.address() as { port: number }).port;
    const ws = await createWorkspace({
      config: { packages: ['@plugchat/whatsapp-session'], plugins: { 'whatsapp-session': { settings: { waWebSocketUrl: `ws://127.0.0.1:${port}`, connectTimeoutSeconds: 0.3 } } } },
    });
    const app = await startApp(ws);
    owner = await setupOwner(app.url);
    stop = async () => {
      await app.stop();
      await ws.cleanup();
    };
  });
  afterAll(async () => {
    await stop?.();
    await new Promise((r) => server?.close(r));
  });

  it('is dropped at the connect timeout and tried again, the reason shown', async () => {
    const created = await owner.post('/api/whatsapp-session/instances', { name: 'Loja' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await owner.post(`/api/whatsapp-session/instances/${id}/connect`, {})).status).toBeLessThan(300);
    const history = async () => (await owner.get(`/api/whatsapp-session/instances/${id}/history`)).body.history as { state: string; reason: string }[];
    await waitFor(async () => (await history()).some((h) => h.reason === 'connection lost or timed out; reconnecting'), 10_000, 'the timeout in the history');
    // The backoff's first retry (0.5-1 s later) reaches the server again.
    await waitFor(async () => connections >= 2, 10_000, 'a second connection');
    expect((await owner.get(`/api/whatsapp-session/instances/${id}`)).body.state).not.toBe('connected');
  });
});

describe('a connected instance with a short connect timeout', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await harness(
      undefined,
      await createWorkspace({ config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox'], plugins: { 'whatsapp-session': { settings: { connectTimeoutSeconds: 0.3 } } } } }),
    );
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('stays connected past the deadline: it bounds the handshake, not the session', async () => {
    const customer = '5521940000777';
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: customer, name: 'Carla' });
    const inst = await pairedInstance(h);
    const history = async () => (await h.owner.get(`/api/whatsapp-session/instances/${inst.id}/history`)).body.history as { reason: string }[];
    // What happened once it was connected counts: pairing is itself a handshake, and on a loaded
    // machine one may outlast 0.3 s and be retried, as it should.
    const before = (await history()).length;
    // The deadline is real time (a network's), so it is waited out here: twice over.
    await sleep(600);
    expect((await h.api(inst).get('/status')).body).toMatchObject({ connected: true, state: 'connected' });
    const res = await h.api(inst).post('/send-text', { phone: customer, message: 'Ainda aqui' });
    expect(res.status).toBe(200);
    const phone = h.sandbox().network().phone(customer)!;
    await waitFor(async () => phone.messages().some((m) => m.id === res.body.messageId), 10_000, 'the text on the phone');
    const since = (await history()).slice(before);
    expect(since.map((e) => e.reason)).not.toContain('connection lost or timed out; reconnecting');
  });
});
