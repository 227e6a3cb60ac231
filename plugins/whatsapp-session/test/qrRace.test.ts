import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, waitFor, BIZ, type Harness } from './support.js';

describe('asking for the QR code from several clients at once', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('keeps one socket, and the QR code shown afterwards links the instance', async () => {
    const created = await h.owner.post('/api/whatsapp-session/instances', { name: 'Loja', delayMinMs: 0, delayMaxMs: 0 });
    const inst = { id: created.body.id as string, token: created.body.token as string };
    const api = h.api(inst);
    // Three browser tabs (or a client's retries) asking at the same moment.
    const answers = await Promise.all([api.get('/qr-code'), api.get('/qr-code'), api.get('/qr-code')]);
    for (const a of answers) expect(a.status).toBe(200);

    const qr = (await api.get('/qr-code')).body.value as string;
    expect(qr).toBeTruthy();
    const scan = await h.owner.post('/api/whatsapp-sandbox/scan', { qr, phone: BIZ, name: 'Loja' });
    expect(scan.status, JSON.stringify(scan.body)).toBe(200);
    await waitFor(async () => (await api.get('/status')).body.connected, 20_000, 'the instance to connect');
    const device = () => h.sandbox().network().devices().find((d) => d.phone === BIZ);
    expect(device()).toMatchObject({ connections: 1, online: true });
    expect((await h.owner.get(`/api/whatsapp-session/instances/${inst.id}`)).body.state).toBe('connected');
    // The replaced sockets never come back as a second one.
    const before = device()!;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(device()).toMatchObject({ connections: 1, logins: before.logins, replaced: before.replaced });
    // No socket of the earlier starts is left behind, still showing a QR code (a closed one may take a moment to be seen closed).
    await waitFor(async () => h.sandbox().network().openConnections === 1, 10_000, 'the earlier sockets to be closed');
  });
});
