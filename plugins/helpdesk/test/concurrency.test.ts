import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

describe.each(STORAGE_MODES)('helpdesk under concurrency (%s)', (mode) => {
  let h: HelpdeskHarness;
  let ana: Agent, bia: Agent;

  beforeAll(async () => {
    h = await helpdeskHarness({ mode });
    ana = await h.agent('Ana');
    bia = await h.agent('Bia');
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('lets exactly one of two agents accept the same pending attendance, 20 times in a row', async () => {
    const customer = h.phone('5521952000001', 'Duda');
    for (let round = 0; round < 20; round++) {
      await customer.send(BIZ, { text: `pedido ${round}` });
      const att = await waitFor(async () => {
        const a = await h.attendanceOf('5521952000001');
        return a && a.status === 'pending' ? a : undefined;
      }, 20_000, `pending attendance ${round}`);
      const [r1, r2] = await Promise.all([ana.client.post(`/api/helpdesk/attendances/${att.id}/accept`), bia.client.post(`/api/helpdesk/attendances/${att.id}/accept`)]);
      expect([r1.status, r2.status].sort()).toEqual([200, 409]);
      const loser = r1.status === 409 ? r1 : r2;
      expect(loser.body.error.code).toBe('already_assigned');
      const winner = r1.status === 200 ? ana : bia;
      const now = (await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body;
      expect(now).toMatchObject({ status: 'open', assigneeId: winner.id });
      const log = ((await h.owner.get(`/api/helpdesk/attendances/${att.id}/timeline`)).body.items as any[]).filter((i) => i.kind === 'activity' && i.activity.type === 'assigned');
      expect(log).toHaveLength(1);
      expect((await winner.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    }
  });

  it('opens exactly one attendance for 50 messages a customer sends at once', async () => {
    const phone = '5521952000002';
    const customer = h.phone(phone, 'Edu');
    await Promise.all(Array.from({ length: 50 }, (_, i) => customer.send(BIZ, { text: `rajada ${i}` })));
    const { att, items } = await waitForInbound(h, phone, 50);
    const inbound = items.filter((i: any) => i.kind === 'message' && i.direction === 'in');
    expect(inbound).toHaveLength(50);
    expect(new Set(inbound.map((i: any) => i.content.text)).size).toBe(50);
    const all = (await h.owner.get(`/api/helpdesk/attendances?status=pending,open,snoozed,resolved&q=${phone}`)).body.attendances;
    expect(all).toHaveLength(1);
    expect(att.unread).toBe(50);
  });

  it('keeps one open attendance and one timeline entry when the same and different events race in the process', async () => {
    // Straight to the event bus, all at once: the unique keys decide, not a read-then-write.
    const accountId = (await h.owner.get('/api/auth/me')).body.account.id;
    const phone = '5521952000003';
    const event = (messageId: string) => ({
      eventId: randomUUID(),
      rowId: randomUUID().replace(/-/g, '').toUpperCase(),
      instanceId: h.inst.id,
      accountId,
      messageId,
      phone,
      fromMe: false,
      type: 'text',
      text: `corrida ${messageId}`,
      waitingMessage: false,
      momment: Date.now(),
      upsertType: 'notify' as const,
    });
    const ids = Array.from({ length: 30 }, (_, i) => `RACE${i}`);
    // Each message twice (a replay), all concurrently.
    await Promise.all([...ids, ...ids].map((id) => h.app.events.emit('whatsapp-session.message.received', event(id))));
    const all = (await h.owner.get(`/api/helpdesk/attendances?status=pending,open,snoozed,resolved&q=${phone}`)).body.attendances;
    expect(all).toHaveLength(1);
    const items = (await h.owner.get(`/api/helpdesk/attendances/${all[0].id}/timeline?limit=200`)).body.items.filter((i: any) => i.kind === 'message');
    expect(items.map((i: any) => i.waId).sort()).toEqual([...ids].sort());
  });
});
