import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, createWorkspace } from '../../../core/test/support/app.js';
import { sse } from '../../helpdesk/test/support.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from '../../whatsapp-session/test/support.js';
import { config, Receiver } from './receiver.js';

const CUSTOMER = '5521980000077';

describe('live pages over Server-Sent Events: the delivery log and the sandbox phones', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    h = await harness(undefined, await createWorkspace({ config: config() }));
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Lia' });
    inst = await pairedInstance(h);
    expect((await h.api(inst).put('/update-webhook-received', { value: receiver.url })).status).toBe(200);
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('tells the log that deliveries changed and the phone page that a phone changed, only to their account', async () => {
    const log = sse(`${h.app.url}/api/webhooks/stream?instanceId=${inst.id}`, h.owner.cookie);
    const phones = sse(`${h.app.url}/api/whatsapp-sandbox/stream`, h.owner.cookie);
    const other = await createAccount(h.owner, 'Outra', 'outra-live@acme.test');
    expect((await other.client.get(`/api/webhooks/stream?instanceId=${inst.id}`)).status).toBe(404);
    const theirs = sse(`${h.app.url}/api/whatsapp-sandbox/stream`, other.client.cookie);
    await Promise.all([log.ready, phones.ready, theirs.ready]);
    try {
      await h.owner.post(`/api/whatsapp-sandbox/phones/${CUSTOMER}/messages`, { to: BIZ, text: 'ao vivo' });
      // The phone page hears of the message the phone sent, and the log of its ReceivedCallback.
      await waitFor(async () => phones.events.some((e) => e.event === 'phone' && e.data.phone === CUSTOMER), 10_000, 'the phone event');
      await waitFor(async () => receiver.requests.some((r) => r.json.text?.message === 'ao vivo'), 20_000, 'the delivery');
      await waitFor(async () => log.events.some((e) => e.event === 'deliveries' && e.data.instanceId === inst.id), 10_000, 'the log event');
      // A business reply reaching the phone is news for its page too.
      const before = phones.events.length;
      await h.api(inst).post('/send-text', { phone: CUSTOMER, message: 'recebido' });
      await waitFor(async () => phones.events.length > before, 10_000, 'the phone event for the reply');
      expect(theirs.events).toEqual([]);
    } finally {
      await Promise.all([log.close(), phones.close(), theirs.close()]);
    }
  });
});
