import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, startApp } from '../../../core/test/support/app.js';
import { TEST_DATABASE_URL } from '../../../core/test/support/db.js';
import { harness, waitFor, type Harness } from '../../whatsapp-session/test/support.js';
import { config, Receiver } from './receiver.js';

const EVENTS = 1_500;

/**
 * Two processes on one PostgreSQL claim from the same deliveries table at once: each claim locks
 * the rows it takes and skips those another holds, so no delivery is posted twice.
 */
describe.skipIf(!TEST_DATABASE_URL)('webhook deliveries claimed by two processes', () => {
  let h: Harness;
  let second: Awaited<ReturnType<typeof startApp>>;
  let instanceId: string;
  let accountId: string;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    h = await harness('postgresql', await createWorkspace({ mode: 'postgresql', config: config() }));
    second = await startApp(h.ws);
    const inst = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Shared' })).body;
    instanceId = inst.id;
    accountId = (await h.owner.get('/api/auth/me')).body.account.id;
    await h.owner.post('/api/webhooks/endpoints', { instanceId, url: receiver.url, events: ['message-status'] });
  });
  afterAll(async () => {
    await receiver.stop();
    await second?.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('posts each delivery once while both processes claim', async () => {
    // A receiver slow enough that deliveries queue up and both processes' claims overlap.
    receiver.respond = () => ({ status: 200, delayMs: 15 });
    const emitters = [h.app, second];
    for (let i = 0; i < EVENTS; i += 50) {
      const run = Array.from({ length: 50 }, (_, j) => ({ eventId: `two-${i + j}`, instanceId, accountId, zaapId: `Z${i + j}`, messageId: `M${i + j}`, phone: '5511999999999', status: 'RECEIVED' as const }));
      await emitters[(i / 50) % 2]!.events.emitMany('whatsapp-session.message.status', run);
    }
    await waitFor(async () => receiver.requests.length >= EVENTS, 120_000, `${EVENTS} deliveries`);
    await new Promise((r) => setTimeout(r, 1_000)); // a second post of any would arrive by now
    expect(new Set(receiver.requests.map((r) => r.eventId)).size).toBe(EVENTS);
    expect(receiver.requests).toHaveLength(EVENTS);
  }, 150_000);
});
