import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const CUSTOMER = '5521940000002';

describe.each(STORAGE_MODES)('whatsapp-session against the sandbox network (%s)', (mode) => {
  let h: Harness;
  let inst: { id: string; token: string };

  beforeAll(async () => {
    h = await harness(mode);
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Carla' });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const phoneMessages = async () => (await h.owner.get(`/api/whatsapp-sandbox/phones/${CUSTOMER}`)).body.messages as { id: string; text?: string; kind: string; direction: string }[];
  const statusOf = async (messageId: string) =>
    ((await h.api(inst).get(`/chat-messages/${CUSTOMER}`)).body as { messageId: string; status: string }[]).find((m) => m.messageId === messageId)?.status;

  it('pairs by QR through the API and reports the connected phone', async () => {
    const device = await h.api(inst).get('/device');
    expect(device.body.phone).toBe(BIZ);
    const history = await h.owner.get(`/api/whatsapp-session/instances/${inst.id}/history`);
    expect(history.body.history.map((e: { state: string }) => e.state)).toEqual(expect.arrayContaining(['disconnected', 'connecting', 'qr', 'connected']));
  });

  it('sends a text that reaches the phone, and shows RECEIVED then READ', async () => {
    const res = await h.api(inst).post('/send-text', { phone: CUSTOMER, message: 'Seu pedido saiu para entrega' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ zaapId: expect.any(String), messageId: expect.any(String), id: res.body.messageId });
    // WhatsApp Web's shape of an id.
    expect(res.body.messageId).toMatch(/^3EB0[0-9A-F]{18}$/);
    await waitFor(async () => (await phoneMessages()).find((m) => m.id === res.body.messageId && m.text === 'Seu pedido saiu para entrega'), 20_000, 'the text on the phone');
    await waitFor(async () => (await statusOf(res.body.messageId)) === 'RECEIVED', 20_000, 'RECEIVED');
    await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/read`, {});
    await waitFor(async () => (await statusOf(res.body.messageId)) === 'READ', 20_000, 'READ');
  });

  it('sends a burst at pacing 0 once each, in order, every one RECEIVED', async () => {
    const phone = h.sandbox().network().phone(CUSTOMER)!;
    const repeatsBefore = phone.repeats;
    // Each status announced once, SENT before RECEIVED, whether the phone's receipt came before the
    // send's outcome was written (one write for both) or after it.
    const announced = new Map<string, string[]>();
    h.app.events.on('test', 'whatsapp-session.message.status', (e: { messageId: string; status: string }) => void announced.set(e.messageId, [...(announced.get(e.messageId) ?? []), e.status]));
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await h.api(inst).post('/send-text', { phone: CUSTOMER, message: `Rajada ${i}` });
      expect(res.status).toBe(200);
      ids.push(res.body.messageId);
    }
    const arrived = () => phone.messages().filter((m) => ids.includes(m.id));
    await waitFor(async () => arrived().length === ids.length, 30_000, 'the burst on the phone');
    expect(arrived().map((m) => m.id)).toEqual(ids);
    const statuses = async () => new Map(((await h.api(inst).get(`/chat-messages/${CUSTOMER}?limit=100`)).body as { messageId: string; status: string }[]).map((m) => [m.messageId, m.status]));
    await waitFor(async () => {
      const now = await statuses();
      return ids.every((id) => now.get(id) === 'RECEIVED');
    }, 20_000, 'every one RECEIVED');
    // Nothing went twice (a retry keeps its id, so the phone would hide it: counted here).
    expect(phone.repeats).toBe(repeatsBefore);
    await waitFor(async () => ids.every((id) => announced.get(id)?.includes('RECEIVED')), 20_000, 'every RECEIVED announced');
    for (const id of ids) expect(announced.get(id)).toEqual(['SENT', 'RECEIVED']);
  });
});
