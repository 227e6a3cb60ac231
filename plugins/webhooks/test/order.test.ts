import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, waitFor, type Harness } from '../../whatsapp-session/test/support.js';
import type { MessageStatus } from '@plugchat/whatsapp-session';
import { config, Receiver } from './receiver.js';

/**
 * A fresh delivery goes out the moment it is written when nothing about its message is pending
 * for the endpoint; one whose message has an earlier callback waiting for a retry waits for it.
 */
describe.each(STORAGE_MODES)('a message\'s callbacks wait for its earlier one (%s)', (mode) => {
  let h: Harness;
  let instanceId: string;
  let accountId: string;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    // The first retry would come 0.5-1 s after a failure: time for a later callback to overtake it if it could.
    h = await harness(mode, await createWorkspace({ mode, config: config({ retryBaseSeconds: 1 }) }));
    const inst = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Order' })).body;
    instanceId = inst.id;
    accountId = (await h.owner.get('/api/auth/me')).body.account.id;
    await h.owner.post('/api/webhooks/endpoints', { instanceId, url: receiver.url, events: ['message-status'] });
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  const status = (messageId: string, s: MessageStatus) =>
    h.app.events.emit('whatsapp-session.message.status', { eventId: `order-${messageId}-${s}`, instanceId, accountId, zaapId: `Z-${messageId}`, messageId, phone: '5511999999999', status: s });

  it('holds a message\'s READ while its RECEIVED waits for a retry, and lets another message\'s callback through', async () => {
    let failed = false;
    let m1WhenM2Came: string[] | undefined;
    const m1 = () => receiver.requests.filter((r) => r.json.ids?.[0] === 'M1').map((r) => r.json.status as string);
    receiver.respond = (r) => {
      if (r.json.ids?.[0] === 'M2') m1WhenM2Came = m1();
      // The first RECEIVED of M1 fails once: it is then pending, waiting for its retry.
      const fail = !failed && r.json.ids?.[0] === 'M1' && r.json.status === 'RECEIVED';
      if (fail) failed = true;
      return { status: fail ? 500 : 200 };
    };
    await status('M1', 'RECEIVED');
    await waitFor(async () => failed, 10_000, 'the failed first attempt');
    await status('M1', 'READ');
    await status('M2', 'RECEIVED');
    // M2's callback, fanned out after M1's READ, went ahead of it: READ waits for RECEIVED's retry,
    // which the endpoint's answer to M2 brings forward (a failing endpoint that answers again).
    await waitFor(async () => m1().length === 3, 15_000, 'the retry and READ');
    expect(m1WhenM2Came).toEqual(['RECEIVED']);
    expect(m1()).toEqual(['RECEIVED', 'RECEIVED', 'READ']);
    await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
    expect(receiver.requests.map((r) => `${r.json.ids[0]} ${r.json.status}`)).toEqual(['M1 RECEIVED', 'M2 RECEIVED', 'M1 RECEIVED', 'M1 READ']);
  });
});
