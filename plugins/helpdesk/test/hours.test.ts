import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { closedPeriod } from '../src/services/businessHours.js';
import { helpdeskHarness, waitFor, waitForInbound, BIZ, type HelpdeskHarness } from './support.js';

const WEEKDAYS_9_TO_18 = { timeZone: 'America/Sao_Paulo', schedule: [1, 2, 3, 4, 5].map((day) => ({ day, open: '09:00', close: '18:00' })) };

describe('business hours', () => {
  it('names each closed period by its next opening, in the queue time zone', () => {
    const tz = 'UTC';
    // Monday 22:00 in São Paulo is Tuesday 01:00 UTC.
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-01T01:00:00Z'), tz)).toBe('2026-12-01T09:00');
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-01T11:59:00Z'), tz)).toBe('2026-12-01T09:00');
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-01T12:00:00Z'), tz)).toBeNull();
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-01T20:59:00Z'), tz)).toBeNull();
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-01T21:00:00Z'), tz)).toBe('2026-12-02T09:00');
    // Friday night to Monday morning is one period.
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-05T02:00:00Z'), tz)).toBe('2026-12-07T09:00');
    expect(closedPeriod(WEEKDAYS_9_TO_18, new Date('2026-12-06T15:00:00Z'), tz)).toBe('2026-12-07T09:00');
    // A queue with no opening at all stays closed for good.
    expect(closedPeriod({ schedule: [] }, new Date(), tz)).toBe('closed');
    // Without a zone of its own, the account's applies.
    expect(closedPeriod({ schedule: [{ day: 2, open: '09:00', close: '18:00' }] }, new Date('2026-12-01T10:00:00Z'), 'UTC')).toBeNull();
    expect(closedPeriod({ schedule: [{ day: 2, open: '09:00', close: '18:00' }] }, new Date('2026-12-01T10:00:00Z'), 'America/Sao_Paulo')).toBe('2026-12-01T09:00');
  });
});

describe('out-of-hours replies', () => {
  const clock = new ManualClock('2026-12-01T01:00:00Z'); // Monday 22:00 in São Paulo
  let h: HelpdeskHarness;
  const CUSTOMER = '5521953000001';

  beforeAll(async () => {
    h = await helpdeskHarness({ clock });
    const queue = await h.owner.post('/api/helpdesk/queues', { name: 'Atendimento', businessHours: WEEKDAYS_9_TO_18, outOfHoursMessage: 'Estamos fechados. Abrimos às 9h.', greeting: 'Olá! Já vamos atender.' });
    expect(queue.status).toBe(201);
    expect((await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: queue.body.id })).status).toBe(200);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const replies = (text: string) => h.phone(CUSTOMER).messages().filter((m) => m.direction === 'in' && m.text === text).length;

  it('answers five messages at night with exactly one reply, and again only in the next closed period', async () => {
    const customer = h.phone(CUSTOMER, 'Noturno');
    for (let i = 0; i < 5; i++) await customer.send(BIZ, { text: `alguém aí? ${i}` });
    await waitForInbound(h, CUSTOMER, 5);
    await waitFor(async () => replies('Estamos fechados. Abrimos às 9h.') >= 1, 20_000, 'the out-of-hours reply');
    await new Promise((r) => setTimeout(r, 500));
    expect(replies('Estamos fechados. Abrimos às 9h.')).toBe(1);
    expect(replies('Olá! Já vamos atender.')).toBe(0);

    // Next morning, open: no out-of-hours reply.
    clock.set('2026-12-01T13:00:00Z');
    await customer.send(BIZ, { text: 'bom dia' });
    await waitForInbound(h, CUSTOMER, 6);
    // That night is a new closed period: one more reply, for any number of messages.
    clock.set('2026-12-02T00:30:00Z');
    await Promise.all([customer.send(BIZ, { text: 'e agora?' }), customer.send(BIZ, { text: 'oi?' })]);
    await waitForInbound(h, CUSTOMER, 8);
    await waitFor(async () => replies('Estamos fechados. Abrimos às 9h.') >= 2, 20_000, 'the second night reply');
    await new Promise((r) => setTimeout(r, 500));
    expect(replies('Estamos fechados. Abrimos às 9h.')).toBe(2);
    const items = ((await h.owner.get(`/api/helpdesk/attendances/${(await h.attendanceOf(CUSTOMER)).id}/timeline?limit=200`)).body.items as any[]).filter((i) => i.automatic === 'out_of_hours');
    expect(items).toHaveLength(2);
    // Times come from the injected clock.
    expect((await h.attendanceOf(CUSTOMER)).createdAt).toBe('2026-12-01T01:00:00.000Z');
  });
});
