import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createAccount, createWorkspace, setupOwner, startApp, type Workspace } from '../../../core/test/support/app.js';
import type { WhatsAppSandboxApi } from '../src/api.js';
import { TestClient } from './support/client.js';

describe('the whatsapp-sandbox plugin inside PlugChat', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  let biz: TestClient;

  beforeAll(async () => {
    ws = await createWorkspace({ config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox'] } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    biz?.stop();
    await app?.stop();
    await ws?.cleanup();
  });

  const network = () => (app.host.records.get('whatsapp-sandbox')!.api as WhatsAppSandboxApi).network();

  it('starts the network on loopback and reports where', async () => {
    const status = await owner.get('/api/whatsapp-sandbox/status');
    expect(status.status).toBe(200);
    expect(status.body.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
    expect(status.body.mediaHost).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('creates a phone, scans a QR through the API and chats both ways', async () => {
    const created = await owner.post('/api/whatsapp-sandbox/phones', { phone: '5531977770001', name: 'Bruna' });
    expect(created.status).toBe(201);
    biz = new TestClient(network()).start();
    const qr = await biz.waitQr();
    const scanned = await owner.post('/api/whatsapp-sandbox/scan', { qr, phone: '5531900000000', name: 'Loja Teste' });
    expect(scanned.status).toBe(200);
    await biz.waitOpen();

    const sent = await owner.post('/api/whatsapp-sandbox/phones/5531977770001/messages', { to: '5531900000000', text: 'Oi, loja!' });
    expect(sent.status).toBe(201);
    await biz.waitFor(() => biz.received('Oi, loja!'), 'the phone message at the business');

    const reply = await biz.sendText('5531977770001@s.whatsapp.net', 'Olá Bruna');
    const inbox = await biz.waitFor(async () => {
      const r = await owner.get('/api/whatsapp-sandbox/phones/5531977770001');
      return r.body.messages.find((m: { id: string }) => m.id === reply.key.id) && r;
    }, 'the reply in the phone inbox');
    expect(inbox.body.messages.at(-1)).toMatchObject({ direction: 'in', kind: 'text', text: 'Olá Bruna', chat: '5531900000000@s.whatsapp.net' });
    const read = await owner.post('/api/whatsapp-sandbox/phones/5531977770001/read', {});
    expect(read.body.read).toEqual([reply.key.id]);
  });

  it('gives clear errors for bad input', async () => {
    const bad = await owner.post('/api/whatsapp-sandbox/phones', { phone: '+55 31 9' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.phone');
    const two = await owner.post('/api/whatsapp-sandbox/phones/5531977770001/messages', { to: '5531900000000', text: 'a', location: { latitude: 1, longitude: 2 } });
    expect(two.status).toBe(400);
    const stale = await owner.post('/api/whatsapp-sandbox/scan', { qr: 'a,b,c,d-not-a-real-qr', phone: '5531900000001' });
    expect(stale.status).toBe(410);
    expect(stale.body.error.code).toBe('qr_expired');
    const dup = await owner.post('/api/whatsapp-sandbox/phones', { phone: '5531977770001' });
    expect(dup.status).toBe(409);
  });

  it("keeps one account's phones from another", async () => {
    const b = await createAccount(owner, 'Other', 'o@other.test');
    expect((await b.client.get('/api/whatsapp-sandbox/phones/5531977770001')).status).toBe(404);
    expect((await b.client.get('/api/whatsapp-sandbox/phones')).body.phones).toEqual([]);
    expect((await b.client.post('/api/whatsapp-sandbox/phones/5531977770001/messages', { to: '5531900000000', text: 'x' })).status).toBe(404);
    expect((await b.client.get('/api/whatsapp-sandbox/trace')).status).toBe(403);
    expect((await new Client(app.url).get('/api/whatsapp-sandbox/phones')).status).toBe(401);
  });

  it('keeps phones and linked devices across a PlugChat restart', async () => {
    biz.stop();
    await app.stop();
    app = await startApp(ws);
    const again = new Client(app.url);
    await again.post('/api/auth/login', { email: 'ann@acme.test', password: 'correct horse battery' });
    const phone = await again.get('/api/whatsapp-sandbox/phones/5531977770001');
    expect(phone.body.messages.map((m: { text: string }) => m.text)).toEqual(['Oi, loja!', 'Olá Bruna']);
    // The network kept the linked device in its state file, so the saved credentials log in without a QR.
    biz = new TestClient(network(), biz.auth).start();
    await biz.waitOpen();
    expect(biz.qr).toBeUndefined();
    owner = again;
  });
});
