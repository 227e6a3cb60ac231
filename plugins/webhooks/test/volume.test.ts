import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, waitFor, type Harness } from '../../whatsapp-session/test/support.js';
import { config, Receiver, verify } from './receiver.js';

const MESSAGES = 1_250;
const STATUSES = ['SENT', 'RECEIVED', 'READ', 'PLAYED'] as const;

/**
 * 5,000 status events (four per message, the messages' statuses interleaved as a campaign's
 * receipts arrive) to one receiver: each delivered once, signed, and in each message's order.
 */
describe.each(STORAGE_MODES)('webhooks under volume (%s)', (mode) => {
  let h: Harness;
  let instanceId: string;
  let accountId: string;
  let secret: string;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    h = await harness(mode, await createWorkspace({ mode, config: config() }));
    const inst = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Campaign' })).body;
    instanceId = inst.id;
    accountId = (await h.owner.get('/api/auth/me')).body.account.id;
    const endpoint = (await h.owner.post('/api/webhooks/endpoints', { instanceId, url: receiver.url, events: ['message-status'] })).body;
    secret = (await h.owner.get(`/api/webhooks/endpoints/${endpoint.id}/secret`)).body.secret;
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('delivers 5,000 status events once each, signed, each message in its order', async () => {
    const total = MESSAGES * STATUSES.length;
    // Round by round: every message's SENT, then every RECEIVED, and so on, so a message's later
    // status is emitted while its earlier ones may still be queued or in flight.
    for (const status of STATUSES) {
      for (let i = 0; i < MESSAGES; i++) {
        await h.app.events.emit('whatsapp-session.message.status', { eventId: `volume-${i}-${status}`, instanceId, accountId, zaapId: `Z${i}`, messageId: `M${i}`, phone: '5511999999999', status });
      }
    }
    await waitFor(async () => receiver.requests.length >= total, 170_000, `${total} deliveries`);
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive
    expect(receiver.requests).toHaveLength(total);
    expect(new Set(receiver.requests.map((r) => r.eventId)).size).toBe(total);
    expect(receiver.requests.every((r) => verify(secret, r))).toBe(true);
    const byMessage = new Map<string, string[]>();
    for (const r of receiver.requests) {
      const id = (r.json.ids as string[])[0]!;
      byMessage.set(id, [...(byMessage.get(id) ?? []), r.json.status]);
    }
    expect(byMessage.size).toBe(MESSAGES);
    for (const [id, seen] of byMessage) expect(seen, id).toEqual([...STATUSES]);
  }, 180_000);
});
