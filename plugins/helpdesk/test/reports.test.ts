import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { createAccount } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { businessSeconds } from '../src/services/businessHours.js';
import { helpdeskHarness, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

/** Monday to Friday, 09:00 to 18:00 in São Paulo (UTC-3 all year). */
const HOURS = { timeZone: 'America/Sao_Paulo', schedule: [1, 2, 3, 4, 5].map((day) => ({ day, open: '09:00', close: '18:00' })) };
const C1 = '5521958000001';
const C2 = '5521958000002';
const C3 = '5521958000003';
/** Tuesday 1 and Wednesday 2 December 2026, local days in São Paulo. */
const PERIOD = `from=${encodeURIComponent('2026-12-01T00:00:00-03:00')}&to=${encodeURIComponent('2026-12-03T00:00:00-03:00')}`;

/** The figures of a list of seconds, computed here by hand: mean, and quantiles by linear interpolation. */
function stat(values: number[], business = values) {
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    return s[lo]! + (h - lo) * ((s[lo + 1] ?? s[lo]!) - s[lo]!);
  };
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  if (!values.length) return { count: 0, avg: null, median: null, p90: null, business: { avg: null, median: null, p90: null } };
  return { count: values.length, avg: avg(values), median: q(values, 0.5), p90: q(values, 0.9), business: { avg: avg(business), median: q(business, 0.5), p90: q(business, 0.9) } };
}
const close = (actual: any, expected: any) => {
  for (const k of ['avg', 'median', 'p90'] as const) {
    expect(actual[k] ?? null, k).toBeCloseTo(expected[k] ?? NaN, 6);
    expect(actual.business[k] ?? null, `business ${k}`).toBeCloseTo(expected.business[k] ?? NaN, 6);
  }
  expect(actual.count).toBe(expected.count);
};
const expectStat = (actual: any, values: number[], business = values) => {
  if (!values.length) return expect(actual).toEqual(stat([]));
  close(actual, stat(values, business));
};

describe('business seconds', () => {
  it('counts only the open hours, across days, with the wall clock when there are no hours', () => {
    // Tuesday 17:00 to Wednesday 09:30 in São Paulo: one hour on Tuesday, half an hour on Wednesday.
    expect(businessSeconds(HOURS, new Date('2026-12-01T20:00:00Z'), new Date('2026-12-02T12:30:00Z'), 'UTC')).toBe(5400);
    // Friday 17:00 to Monday 10:00: one hour on Friday, one on Monday.
    expect(businessSeconds(HOURS, new Date('2026-12-04T20:00:00Z'), new Date('2026-12-07T13:00:00Z'), 'UTC')).toBe(7200);
    expect(businessSeconds(null, new Date('2026-12-04T20:00:00Z'), new Date('2026-12-07T13:00:00Z'), 'UTC')).toBe(234_000);
    expect(businessSeconds({ schedule: [] }, new Date('2026-12-04T20:00:00Z'), new Date('2026-12-04T20:00:10Z'), 'UTC')).toBe(10);
    // Across a daylight-saving change (New York, 8 March 2026): 09:00 to 17:00 local is still 8 hours.
    const ny = { timeZone: 'America/New_York', schedule: [{ day: 1, open: '09:00', close: '17:00' }] };
    expect(businessSeconds(ny, new Date('2026-03-08T00:00:00Z'), new Date('2026-03-10T00:00:00Z'), 'UTC')).toBe(8 * 3600);
    expect(businessSeconds({ schedule: [{ day: 2, open: '00:00', close: '24:00' }] }, new Date('2026-12-01T03:00:00Z'), new Date('2026-12-03T03:00:00Z'), 'America/Sao_Paulo')).toBe(86_400);
  });
});

/** A plugin that adds figures to the reports through the helpdesk's extension point, as surveys does: it sees the period and filters. */
const figuresPlugin = {
  manifest: { id: 'figures', displayName: 'Figures', engines: { plugchat: '^1.0.0' }, dependencies: ['helpdesk'], contributes: { extends: ['helpdesk.reportFigures'] } },
  code: `export default { activate(ctx) {
    ctx.subscriptions.push(ctx.extensions.contribute('helpdesk.reportFigures', {
      id: 'figures.csat', title: 'CSAT',
      async figures(q) {
        return [
          { key: 'days', label: 'Days', value: (q.to - q.from) / 86400000, unit: 'count' },
          { key: 'queue', label: q.queueId ?? 'all', value: null, unit: 'score' },
          { key: 'zone', label: q.timeZone, value: 4.5, unit: 'score' },
        ];
      },
    }));
    ctx.subscriptions.push(ctx.extensions.contribute('helpdesk.reportFigures', { id: 'figures.broken', title: 'Broken', async figures() { throw new Error('boom'); } }));
  } };`,
};

describe.each(STORAGE_MODES)('helpdesk reports (%s)', (mode) => {
  const clock = new ManualClock('2026-12-01T20:00:00Z');
  let h: HelpdeskHarness;
  let ana: Agent, bia: Agent, sam: Agent;
  let suporte: string, vendas: string;
  const at = (iso: string) => clock.set(iso);
  const reply = async (who: Agent, att: string, text: string) => expect((await who.client.post(`/api/helpdesk/attendances/${att}/messages`, { text })).status).toBe(201);
  const ok = async (res: Promise<{ status: number; body: any }>) => {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  let a1: any, a2: any, a3: any;

  beforeAll(async () => {
    h = await helpdeskHarness({ mode, clock, settings: { reopenWindowMinutes: 30 }, plugins: { figures: figuresPlugin } });
    ana = await h.agent('Ana');
    bia = await h.agent('Bia');
    sam = await h.agent('Sam', 'supervisor');
    suporte = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', businessHours: HOURS, memberIds: [ana.id, bia.id] })).body.id;
    vendas = (await h.owner.post('/api/helpdesk/queues', { name: 'Vendas', memberIds: [ana.id] })).body.id;
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: suporte });
    expect((await h.owner.put('/api/helpdesk/preferences', { timeZone: 'America/Sao_Paulo' })).status).toBe(200);

    // A1: Tuesday 17:00 local, inside the hours; answered, then a reply after closing; resolved next morning.
    at('2026-12-01T20:00:00Z');
    await h.phone(C1, 'Carla').send(BIZ, { text: 'oi, meu pedido atrasou' });
    a1 = (await waitForInbound(h, C1, 1)).att;
    at('2026-12-01T20:10:00Z');
    await ok(ana.client.post(`/api/helpdesk/attendances/${a1.id}/accept`, {}));
    at('2026-12-01T20:30:00Z');
    await reply(ana, a1.id, 'Vou verificar.');
    at('2026-12-01T20:40:00Z');
    await h.phone(C1).send(BIZ, { text: 'alguma novidade?' });
    await waitForInbound(h, C1, 2);
    at('2026-12-01T21:40:00Z'); // 18:40 local: 20 minutes of the wait were inside the hours
    await reply(ana, a1.id, 'Saiu para entrega.');
    at('2026-12-02T12:30:00Z'); // Wednesday 09:30 local
    await ok(ana.client.post(`/api/helpdesk/attendances/${a1.id}/resolve`, {}));

    // A2: Tuesday 23:30 local (already Wednesday in UTC); accepted at opening, transferred, resolved, reopened by the customer, resolved.
    at('2026-12-02T02:30:00Z');
    await h.phone(C2, 'Davi').send(BIZ, { text: 'boa noite' });
    a2 = (await waitForInbound(h, C2, 1)).att;
    at('2026-12-02T12:00:00Z');
    await ok(bia.client.post(`/api/helpdesk/attendances/${a2.id}/accept`, {}));
    at('2026-12-02T12:05:00Z');
    await ok(bia.client.post(`/api/helpdesk/attendances/${a2.id}/transfer`, { queueId: vendas, assigneeId: ana.id }));
    at('2026-12-02T12:20:00Z');
    await reply(ana, a2.id, 'Olá, sou a Ana, de vendas.');
    at('2026-12-02T13:00:00Z');
    await ok(ana.client.post(`/api/helpdesk/attendances/${a2.id}/resolve`, {}));
    at('2026-12-02T13:10:00Z');
    await h.phone(C2).send(BIZ, { text: 'esqueci de perguntar o prazo' });
    await waitForInbound(h, C2, 2);
    at('2026-12-02T13:15:00Z');
    await reply(ana, a2.id, 'Cinco dias úteis.');
    at('2026-12-02T13:20:00Z');
    await ok(ana.client.post(`/api/helpdesk/attendances/${a2.id}/resolve`, {}));

    // A3: Wednesday 11:00 local, still waiting in the queue.
    at('2026-12-02T14:00:00Z');
    await h.phone(C3, 'Eva').send(BIZ, { text: 'quero comprar' });
    a3 = (await waitForInbound(h, C3, 1)).att;
    at('2026-12-02T15:00:00Z');
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('gives every figure of the period as computed by hand, wall clock and business hours', async () => {
    const { figures, period } = await ok(sam.client.get(`/api/helpdesk/reports/summary?${PERIOD}`));
    expect(period).toEqual({ from: '2026-12-01T03:00:00.000Z', to: '2026-12-03T03:00:00.000Z', timeZone: 'America/Sao_Paulo' });
    expect(figures).toMatchObject({ created: 3, reopened: 1, resolved: 3, messagesIn: 5, messagesOut: 4, assigned: 3, transfersIn: 1 });
    // A1 answered in 30 min; A2 in 9 h 50 min (in Vendas, without hours, when answered); A2's reopening in 5 min.
    expectStat(figures.firstResponse, [1800, 35_400, 300]);
    // 20:40 to 21:40 UTC: an hour, of which 20 minutes before closing.
    expectStat(figures.replyTime, [3600], [1200]);
    // From creation: A1 16.5 h (1.5 h inside the hours), A2 10.5 h and 10 h 50 min (Vendas has no hours).
    expectStat(figures.resolution, [59_400, 37_800, 39_000], [5400, 37_800, 39_000]);
    // A1 10 min; A2 from 23:30 to 09:00, all outside the hours.
    expectStat(figures.assignmentWait, [600, 34_200], [600, 0]);
    // Figures other plugins contribute, with the period and filters they were asked for; one that fails says so.
    const { contributed } = await ok(sam.client.get(`/api/helpdesk/reports/summary?${PERIOD}&queueId=${suporte}`));
    expect(contributed).toEqual([
      { id: 'figures.csat', title: 'CSAT', figures: [{ key: 'days', label: 'Days', value: 2, unit: 'count' }, { key: 'queue', label: suporte, value: null, unit: 'score' }, { key: 'zone', label: 'America/Sao_Paulo', value: 4.5, unit: 'score' }] },
      { id: 'figures.broken', title: 'Broken', figures: [], error: expect.stringContaining('could not be computed') },
    ]);
    // A period of whole months (read from the monthly rollups and duration histograms) gives the same.
    expect((await ok(sam.client.get('/api/helpdesk/reports/summary?from=2026-11-01&to=2026-12-31'))).figures).toEqual(figures);
    // Dates name whole local days: the same period.
    const byDates = await ok(sam.client.get('/api/helpdesk/reports/summary?from=2026-12-01&to=2026-12-02'));
    expect(byDates.period).toEqual(period);
    expect(byDates.figures).toEqual(figures);
  });

  it('gives per-agent figures from the events that name the agent', async () => {
    const { rows } = await ok(sam.client.get(`/api/helpdesk/reports/agents?${PERIOD}`));
    const row = (id: string | null) => rows.find((r: any) => r.agentId === id);
    expect(row(ana.id)).toMatchObject({ name: 'Ana', assigned: 2, resolved: 3, messagesOut: 4, messagesIn: 2, transfersIn: 1, transfersOut: 0, reopened: 1 });
    expectStat(row(ana.id).firstResponse, [1800, 35_400, 300]);
    expectStat(row(ana.id).replyTime, [3600], [1200]);
    expectStat(row(ana.id).resolution, [59_400, 37_800, 39_000], [5400, 37_800, 39_000]);
    expectStat(row(ana.id).assignmentWait, [600]);
    expect(row(bia.id)).toMatchObject({ name: 'Bia', assigned: 1, resolved: 0, messagesOut: 0, messagesIn: 0, transfersIn: 0, transfersOut: 1 });
    expectStat(row(bia.id).assignmentWait, [34_200], [0]);
    expectStat(row(bia.id).firstResponse, []);
    // Sam has a row with nothing; what no agent held (first messages in the queue, creations) is its own row.
    expect(row(sam.id)).toMatchObject({ assigned: 0, resolved: 0, messagesOut: 0 });
    expect(row(null)).toMatchObject({ created: 3, messagesIn: 3 });
    // The same from the monthly rollups and histograms, and for one agent as a filter.
    expect((await ok(sam.client.get('/api/helpdesk/reports/agents?from=2026-11-01&to=2026-12-31'))).rows).toEqual(rows);
    const { figures: anaOnly } = await ok(sam.client.get(`/api/helpdesk/reports/summary?from=2026-11-01&to=2026-12-31&agentId=${ana.id}`));
    expect(anaOnly.resolution).toEqual(row(ana.id).resolution);
    expect(anaOnly.firstResponse).toEqual(row(ana.id).firstResponse);
  });

  it('gives per-queue figures by the queue at the time of each event', async () => {
    const { rows } = await ok(sam.client.get(`/api/helpdesk/reports/queues?${PERIOD}`));
    const row = (id: string) => rows.find((r: any) => r.queueId === id);
    expect(row(suporte)).toMatchObject({ name: 'Suporte', created: 3, messagesIn: 4, messagesOut: 2, assigned: 2, resolved: 1, transfersIn: 0 });
    expectStat(row(suporte).firstResponse, [1800]);
    expectStat(row(suporte).resolution, [59_400], [5400]);
    expectStat(row(suporte).assignmentWait, [600, 34_200], [600, 0]);
    expect(row(vendas)).toMatchObject({ name: 'Vendas', created: 0, messagesIn: 1, messagesOut: 2, assigned: 1, resolved: 2, transfersIn: 1, reopened: 1 });
    expectStat(row(vendas).firstResponse, [35_400, 300]);
    expectStat(row(vendas).resolution, [37_800, 39_000]);
    expect((await ok(sam.client.get('/api/helpdesk/reports/queues?from=2026-11-01&to=2026-12-31'))).rows).toEqual(rows);
  });

  it('gives per-label figures by the labels the attendances carry', async () => {
    const vip = (await h.owner.post('/api/helpdesk/labels', { name: `VIP ${mode}` })).body.id;
    expect((await h.owner.put(`/api/helpdesk/attendances/${a2.id}/labels`, { labelIds: [vip] })).status).toBe(200);
    const { rows } = await ok(sam.client.get(`/api/helpdesk/reports/labels?${PERIOD}`));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ labelId: vip, name: `VIP ${mode}`, created: 1, resolved: 2, reopened: 1, messagesIn: 2, messagesOut: 2 });
    expectStat(rows[0].firstResponse, [35_400, 300]);
    expectStat(rows[0].resolution, [37_800, 39_000]);
    expectStat(rows[0].assignmentWait, [34_200], [0]);
    // The label as a filter gives the same.
    const filtered = (await ok(sam.client.get(`/api/helpdesk/reports/summary?${PERIOD}&labelId=${vip}`))).figures;
    expect(filtered).toEqual(Object.fromEntries(Object.entries(rows[0]).filter(([k]) => !['labelId', 'name'].includes(k))));
    await h.owner.put(`/api/helpdesk/attendances/${a2.id}/labels`, { labelIds: [] });
  });

  it('splits days and hours in the account time zone, filters, and drills down to the attendances', async () => {
    const { points } = await ok(sam.client.get(`/api/helpdesk/reports/series?${PERIOD}&granularity=day`));
    // A2 came at 23:30 on Tuesday, local time, although it was Wednesday in UTC.
    expect(points.map((p: any) => [p.start.slice(0, 10), p.created, p.resolved, p.messagesIn, p.messagesOut])).toEqual([
      ['2026-12-01', 2, 0, 3, 2],
      ['2026-12-02', 1, 3, 2, 2],
    ]);
    expect(points[0].start).toBe('2026-12-01T00:00:00.000-03:00');
    const { cells } = await ok(sam.client.get(`/api/helpdesk/reports/heatmap?${PERIOD}`));
    expect(cells[2][17]).toEqual({ messagesIn: 2, created: 1 });
    expect(cells[2][23]).toEqual({ messagesIn: 1, created: 1 });
    expect(cells[3][10]).toEqual({ messagesIn: 1, created: 0 });
    expect(cells[3][11]).toEqual({ messagesIn: 1, created: 1 });
    expect(cells.flat().reduce((n: number, c: any) => n + c.messagesIn, 0)).toBe(5);

    // Filters: one queue, one agent.
    const vendasOnly = (await ok(sam.client.get(`/api/helpdesk/reports/summary?${PERIOD}&queueId=${vendas}`))).figures;
    expect(vendasOnly).toMatchObject({ resolved: 2, messagesOut: 2, created: 0 });
    const biaOnly = (await ok(sam.client.get(`/api/helpdesk/reports/summary?${PERIOD}&agentId=${bia.id}`))).figures;
    expect(biaOnly).toMatchObject({ assigned: 1, resolved: 0 });
    // Only Tuesday: A1's first answer only.
    const tuesday = `from=${encodeURIComponent('2026-12-01T00:00:00-03:00')}&to=${encodeURIComponent('2026-12-02T00:00:00-03:00')}`;
    expectStat((await ok(sam.client.get(`/api/helpdesk/reports/summary?${tuesday}`))).figures.firstResponse, [1800]);

    const drill = await ok(sam.client.get(`/api/helpdesk/reports/events?${PERIOD}&metric=firstResponse`));
    expect(drill.items.map((i: any) => [i.number, i.seconds, i.contactName])).toEqual([
      [a2.number, 300, 'Davi'],
      [a2.number, 35_400, 'Davi'],
      [a1.number, 1800, 'Carla'],
    ]);
    const csv = await fetch(`${h.app.url}/api/helpdesk/reports/events?${PERIOD}&metric=resolved&format=csv`, { headers: { cookie: sam.client.cookie! } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('resolved.csv');
    const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toBe('number,attendanceId,status,contactName,phone,at,seconds,businessSeconds,agentId,fromAgentId,queueId');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 1).concat(l.split(',')[6]!))).toEqual([
      [String(a2.number), '39000'],
      [String(a2.number), '37800'],
      [String(a1.number), '59400'],
    ]);
  });

  it('shows the live state now', async () => {
    const live = await ok(sam.client.get('/api/helpdesk/reports/live'));
    expect(live).toMatchObject({ open: 0, pending: 1, snoozed: 0, unassigned: 1, unattended: 1 });
    expect(live.agents.map((a: any) => a.name).sort()).toEqual(['Ana', 'Bia', 'Sam', expect.any(String)].sort());
    const onSupport = await ok(sam.client.get(`/api/helpdesk/reports/live?queueId=${vendas}`));
    expect(onSupport).toMatchObject({ open: 0, pending: 0 });
    expect(a3.status).toBe('pending');
  });

  it('is for supervisors and admins of the account only, and says what is wrong with a period', async () => {
    expect((await ana.client.get(`/api/helpdesk/reports/summary?${PERIOD}`)).status).toBe(403);
    const other = (await createAccount(h.owner, `Outra ${mode}`, `dona-${mode}@reports.test`)).client;
    const theirs = await ok(other.get(`/api/helpdesk/reports/summary?${PERIOD}`));
    expect(theirs.figures).toMatchObject({ created: 0, messagesIn: 0, resolved: 0 });
    expect((await ok(other.get(`/api/helpdesk/reports/top-clients?${PERIOD}`))).rows).toEqual([]);
    expect((await ok(other.get(`/api/helpdesk/reports/events?${PERIOD}&metric=created`))).items).toEqual([]);
    const backwards = await sam.client.get(`/api/helpdesk/reports/summary?from=${encodeURIComponent('2026-12-03T00:00:00Z')}&to=${encodeURIComponent('2026-12-01T00:00:00Z')}`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.code).toBe('bad_period');
    expect(JSON.stringify(backwards.body)).toContain('query.to');
    const bad = await sam.client.get('/api/helpdesk/reports/summary?from=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('from');
    const hourly = await sam.client.get(`/api/helpdesk/reports/series?from=${encodeURIComponent('2025-12-01T00:00:00Z')}&to=${encodeURIComponent('2026-12-01T00:00:00Z')}&granularity=hour`);
    expect(hourly.status).toBe(400);
    expect(hourly.body.error.code).toBe('too_many_buckets');
  });

  it('ranks the top 10 clients by messages sent in the period, ties by the latest last message', async () => {
    // 30 contacts on Thursday 3 December, one minute apart, with known counts and many ties.
    const counts = Array.from({ length: 30 }, (_, i) => ((i * 7) % 6) + 1);
    const phones = counts.map((_, i) => `55219590${String(i).padStart(5, '0')}`);
    const start = Date.parse('2026-12-03T13:00:00Z');
    for (let i = 0; i < 30; i++) {
      at(new Date(start + i * 60_000).toISOString());
      const phone = h.phone(phones[i]!, `Cliente ${i}`);
      await Promise.all(Array.from({ length: counts[i]! }, (_, k) => phone.send(BIZ, { text: `mensagem ${k}` })));
      await waitForInbound(h, phones[i]!, counts[i]!);
    }
    // Contact 0 is resolved and writes again after the reopen window: a second attendance, five more messages.
    const first = await h.attendanceOf(phones[0]!);
    await ok(h.owner.post(`/api/helpdesk/attendances/${first.id}/resolve`, {}));
    at(new Date(start + 70 * 60_000).toISOString());
    counts[0]! += 5;
    const again = h.phone(phones[0]!);
    for (let k = 0; k < 5; k++) await again.send(BIZ, { text: `voltei ${k}` });
    await waitFor(async () => (await h.attendanceOf(phones[0]!))?.id !== first.id, 20_000, 'a second attendance');
    await waitForInbound(h, phones[0]!, 5);
    const last = counts.map((_, i) => (i === 0 ? start + 70 * 60_000 : start + i * 60_000));
    const expected = counts
      .map((n, i) => ({ i, n, last: last[i]! }))
      .sort((a, b) => b.n - a.n || b.last - a.last)
      .slice(0, 10);

    const thursday = `from=${encodeURIComponent('2026-12-03T00:00:00-03:00')}&to=${encodeURIComponent('2026-12-04T00:00:00-03:00')}`;
    const { rows } = await ok(sam.client.get(`/api/helpdesk/reports/top-clients?${thursday}`));
    expect(rows.map((r: any) => [r.rank, r.phone, r.messages, r.lastMessageAt])).toEqual(expected.map((e, k) => [k + 1, phones[e.i], e.n, new Date(e.last).toISOString()]));
    // Six messages, the latest: first, over two attendances.
    expect(rows[0]).toMatchObject({ phone: phones[0], messages: 6, attendances: 2 });
    expect(rows.filter((r: any) => r.phone !== phones[0]).every((r: any) => r.attendances === 1)).toBe(true);
    expect(rows[0].name).toBe(`Cliente ${expected[0]!.i}`);

    const csv = await fetch(`${h.app.url}/api/helpdesk/reports/top-clients?${thursday}&format=csv`, { headers: { cookie: sam.client.cookie! } });
    const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toBe('rank,contactId,name,phone,messages,attendances,lastMessageAt');
    expect(lines).toHaveLength(11);
    expect(lines[1]).toContain(`,${phones[expected[0]!.i]},${expected[0]!.n},`);
  });
});
