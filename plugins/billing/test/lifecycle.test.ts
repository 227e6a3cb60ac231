import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { Client, createWorkspace, setupOwner, startApp } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { makeHarness, pairedInstance, waitFor, BIZ, type Harness } from '../../whatsapp-session/test/support.js';

const HOUR = 3_600_000;
const CUSTOMER = '5521960000001';

describe.each(STORAGE_MODES)('an instance’s trial and subscription (%s)', (mode) => {
  let h: Harness;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    const ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/billing'] } });
    const app = await startApp(ws, {}, { clock });
    const owner = await setupOwner(app.url);
    const key = (await owner.post('/api/api-keys', { name: 'integration' })).body.key as string;
    h = makeHarness(ws, app, owner, key);
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Bia' });
  });
  afterAll(async () => {
    await h?.app.stop();
    await h?.ws.cleanup();
  });

  const connections = () => h.sandbox().network().devices().filter((d) => d.phone === BIZ).reduce((n, d) => n + d.connections, 0);

  it('runs 48 hours in trial, then is disconnected and refuses sends and QR codes until subscribed', async () => {
    const inst = await pairedInstance(h);
    const api = h.api(inst);
    const [row] = (await h.owner.get('/api/billing/instances')).body.instances;
    expect(row).toMatchObject({ instanceId: inst.id, status: 'trial', trialSecondsLeft: 48 * 3600 });
    // API clients see the time left in GET /me.
    expect((await api.get('/me')).body.billing).toMatchObject({ status: 'trial', trialSecondsLeft: 48 * 3600 });
    expect((await api.post('/send-text', { phone: CUSTOMER, message: 'no teste' })).status).toBe(200);

    clock.advance(48 * HOUR + 1000);
    // Refused at once, before the job has run.
    const refused = await api.post('/send-text', { phone: CUSTOMER, message: 'depois do teste' });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ code: 'instance_expired', message: expect.stringContaining('/api/billing/instances/') });
    // The job disconnects it; the network sees the device go.
    await h.app.queue.boss.send('billing.tick', {});
    await waitFor(async () => !(await api.get('/status')).body.connected && connections() === 0, 20_000, 'the expired instance disconnected');
    expect((await api.get('/qr-code')).status).toBe(402);
    expect((await h.owner.get('/api/billing/instances')).body.instances[0]).toMatchObject({ status: 'expired', trialSecondsLeft: null });

    // An agent cannot subscribe; the owner can, and the instance connects again with its pairing.
    const agent = await h.owner.post('/api/users', { email: 'agente@acme.test', name: 'Agente', password: 'agent password 123', role: 'agent' });
    expect(agent.status).toBe(201);
    const agentClient = new Client(h.app.url);
    await agentClient.post('/api/auth/login', { email: 'agente@acme.test', password: 'agent password 123' });
    expect((await agentClient.post(`/api/billing/instances/${inst.id}/subscribe`, {})).status).toBe(403);
    expect((await agentClient.post(`/api/billing/instances/${inst.id}/cancel`, {})).status).toBe(403);
    expect((await agentClient.get('/api/billing/invoices')).status).toBe(403);
    const sub = await h.owner.post(`/api/billing/instances/${inst.id}/subscribe`, {});
    expect(sub.status).toBe(200);
    expect(sub.body).toMatchObject({ status: 'subscribed' });
    await waitFor(async () => (await api.get('/status')).body.connected, 30_000, 'connected again after subscribing');
    const sent = await api.post('/send-text', { phone: CUSTOMER, message: 'assinado!' });
    expect(sent.status).toBe(200);
    await waitFor(async () => h.sandbox().network().phone(CUSTOMER)!.messages().some((m) => m.text === 'assinado!'), 20_000, 'the message on the phone');
  });
});
