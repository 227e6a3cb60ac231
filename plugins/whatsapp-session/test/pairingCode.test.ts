import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, waitFor, type Harness } from './support.js';

const BIZ = '5511940000099';

describe('pairing by phone number (link code), end to end with the real Baileys client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  /** The instance's code, once the network holds the device's request for it (a person types it a moment later). */
  const codeOf = async (inst: { id: string; token: string }) => {
    const requested = new Promise((r) => h.sandbox().network().once('pairing-code-requested', r));
    const res = await h.api(inst).get(`/phone-code/${BIZ}`);
    expect(res.status).toBe(200);
    await requested;
    return res.body.code as string;
  };
  const instance = async (name: string) => {
    const created = await h.owner.post('/api/whatsapp-session/instances', { name, delayMinMs: 0, delayMaxMs: 0 });
    return { id: created.body.id as string, token: created.body.token as string };
  };

  it('links the instance when the code it shows is typed on the phone, and refuses a wrong code', async () => {
    const wrong = await instance('Errada');
    const firstCode = await codeOf(wrong);
    expect(firstCode).toMatch(/^[0-9A-Z]{8}$/);
    const typo = firstCode.startsWith('A') ? `B${firstCode.slice(1)}` : `A${firstCode.slice(1)}`;
    const refused = await h.owner.post('/api/whatsapp-sandbox/pairing-code', { phone: BIZ, code: typo });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('wrong_code');
    expect((await h.api(wrong).get('/status')).body.connected).toBe(false);

    const inst = await instance('Loja por código');
    const code = await codeOf(inst);
    const linked = await h.owner.post('/api/whatsapp-sandbox/pairing-code', { phone: BIZ, code: `${code.slice(0, 4)}-${code.slice(4)}`, name: 'Loja' });
    expect(linked.status).toBe(200);
    expect(linked.body.jid).toMatch(new RegExp(`^${BIZ}:\\d+@s\\.whatsapp\\.net$`));
    await waitFor(async () => (await h.api(inst).get('/status')).body.connected, 20_000, 'connected by pairing code');
    expect((await h.owner.get(`/api/whatsapp-session/instances/${inst.id}`)).body).toMatchObject({ phone: BIZ, state: 'connected' });
    // Asking again once connected answers that it already is.
    expect((await h.api(inst).get(`/phone-code/${BIZ}`)).body).toMatchObject({ connected: true, code: null });
    // No code asked: the phone has nothing to type it into.
    const none = await h.owner.post('/api/whatsapp-sandbox/pairing-code', { phone: '5511940000098', code: 'ABCD-EFGH' });
    expect(none.body.error.code).toBe('no_pairing_code');
  });
});
