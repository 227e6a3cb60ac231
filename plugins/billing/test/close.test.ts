import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { createAccount, createWorkspace, setupOwner, startApp, type Client } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';

type App = Awaited<ReturnType<typeof startApp>>;

/** PlugChat with whatsapp-session and billing (no network: billing needs no connected instance), at a chosen time. */
async function billed(mode: 'embedded' | 'postgresql', clock: ManualClock, timeZone?: string) {
  const ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session', '@plugchat/billing'], plugins: timeZone ? { billing: { settings: { 'billing.timeZone': timeZone } } } : {} } });
  const app = await startApp(ws, {}, { clock });
  const owner = await setupOwner(app.url);
  return { ws, app, owner };
}

describe.each(STORAGE_MODES)('the monthly close (%s)', (mode) => {
  const clock = new ManualClock('2027-01-01T12:00:00Z');
  let app: App;
  let owner: Client;
  let cleanup: () => Promise<void>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const b = await billed(mode, clock);
    ({ app, owner } = b);
    cleanup = async () => {
      await app.stop();
      await b.ws.cleanup();
    };
  });
  afterAll(async () => cleanup?.());

  /** Sets the clock to a local São Paulo time (UTC−3) and runs the step. */
  const at = async (local: string, step: () => Promise<unknown>) => {
    clock.set(`${local}-03:00`);
    return step();
  };
  const create = (name: string) => async () => {
    const res = await owner.post('/api/whatsapp-session/instances', { name });
    expect(res.status).toBe(201);
    ids[name] = res.body.id;
  };
  const subscribe = (name: string) => async () => expect((await owner.post(`/api/billing/instances/${ids[name]}/subscribe`, {})).status).toBe(200);
  const cancel = (name: string) => async () => expect((await owner.post(`/api/billing/instances/${ids[name]}/cancel`, {})).status).toBe(200);
  const remove = (name: string) => async () => expect((await owner.delete(`/api/whatsapp-session/instances/${ids[name]}`)).status).toBeLessThan(300);
  const close = async (local: string, period: string) => {
    clock.set(`${local}-03:00`);
    const res = await owner.post('/api/billing/admin/close', { period });
    expect(res.status).toBe(200);
    return res.body as { created: number; skipped: number };
  };
  const invoice = async (period: string) => {
    const list = (await owner.get('/api/billing/invoices')).body.invoices as any[];
    const inv = list.find((i) => i.period === period);
    return inv ? (await owner.get(`/api/billing/invoices/${inv.id}`)).body : undefined;
  };
  const lines = (inv: any) => Object.fromEntries(inv.lines.map((l: any) => [l.description.split(' · ')[0], [l.days, l.daysInMonth, l.unitCents, l.amountCents]]));

  it('charges January (31 days) by the day: whole month, from a subscription, to the end of a cancelled month, to a deletion', async () => {
    for (const n of ['Alfa', 'Bravo', 'Charlie', 'Delta', 'Eco']) await at('2027-01-01T09:00:00', create(n));
    await at('2027-01-01T09:00:00', subscribe('Alfa'));
    await at('2027-01-03T08:00:00', subscribe('Delta'));
    await at('2027-01-05T23:59:00', subscribe('Charlie'));
    await at('2027-01-10T15:00:00', subscribe('Bravo'));
    await at('2027-01-12T10:00:00', remove('Delta'));
    await at('2027-01-20T11:00:00', cancel('Charlie'));
    // Eco stays in trial and expires: never charged.
    expect(await close('2027-02-01T03:30:00', '2027-01')).toEqual({ created: 1, skipped: 0 });
    const jan = await invoice('2027-01');
    // 9900 × days ÷ 31, rounded half up: 22 days → 7025.81 → 7026; 27 → 8622.58 → 8623; 10 → 3193.55 → 3194.
    expect(lines(jan)).toEqual({ Alfa: [31, 31, 9900, 9900], Bravo: [22, 31, 9900, 7026], Charlie: [27, 31, 9900, 8623], Delta: [10, 31, 9900, 3194] });
    expect(jan).toMatchObject({ totalCents: 28743, currency: 'BRL', status: 'open', number: 1, period: '2027-01' });
    // The PDF of the invoice.
    const pdf = await fetch(`${app.url}/api/billing/invoices/${jan.id}/pdf`, { headers: { cookie: owner.cookie! } });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    // Its title, as PDF stores a Unicode string (UTF-16BE with a byte order mark).
    expect(bytes.includes(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('Fatura nº 1 · 2027-01', 'utf16le').swap16()]))).toBe(true);
    // Run again: nothing new, not a line more.
    expect(await close('2027-02-01T04:00:00', '2027-01')).toEqual({ created: 0, skipped: 1 });
    expect((await invoice('2027-01')).lines).toHaveLength(4);
    // A month not over yet cannot be closed.
    expect((await owner.post('/api/billing/admin/close', { period: '2027-02' })).status).toBe(400);
  });

  it('charges February of a leap year (29 days) and the month of a cancellation once, never after', async () => {
    await at('2028-02-15T10:00:00', cancel('Bravo'));
    await at('2028-02-20T00:00:00', create('Foxtrot'));
    await at('2028-02-20T00:00:00', subscribe('Foxtrot'));
    await close('2028-03-01T03:30:00', '2028-02');
    // Foxtrot: 20 to 29 = 10 days → 9900 × 10 ÷ 29 = 3413.79 → 3414; Bravo runs to the end of February.
    expect(lines(await invoice('2028-02'))).toEqual({ Alfa: [29, 29, 9900, 9900], Bravo: [29, 29, 9900, 9900], Foxtrot: [10, 29, 9900, 3414] });
    // Cancelled in March: March is charged in April's close, and May's has nothing of it.
    await at('2028-03-10T12:00:00', cancel('Foxtrot'));
    await close('2028-04-01T03:30:00', '2028-03');
    expect(lines(await invoice('2028-03'))).toEqual({ Alfa: [31, 31, 9900, 9900], Foxtrot: [31, 31, 9900, 9900] });
    await close('2028-05-01T03:30:00', '2028-04');
    expect(lines(await invoice('2028-04'))).toEqual({ Alfa: [30, 30, 9900, 9900] });
    // Invoice numbers follow each other across the installation.
    expect(((await owner.get('/api/billing/invoices')).body.invoices as any[]).map((i) => i.number)).toEqual([4, 3, 2, 1]);
  });

  it('suspends the account when an invoice is overdue past the grace days, and a recorded payment restores it', async () => {
    // The earlier months are paid; April's is due at the end of 10 May in São Paulo, with 5 days of grace.
    for (const period of ['2027-01', '2028-02', '2028-03']) expect((await owner.post(`/api/billing/admin/invoices/${(await invoice(period)).id}/payments`, {})).body.status).toBe('paid');
    const apr = await invoice('2028-04');
    expect(apr.dueAt).toBe('2028-05-11T02:59:59.999Z');
    const suspended = async () => (await owner.get('/api/billing/instances')).body.instances.find((i: any) => i.name === 'Alfa').suspended;
    const tick = async (local: string) => {
      clock.set(`${local}-03:00`);
      await app.queue.boss.send('billing.tick', {});
    };
    await tick('2028-05-15T23:00:00');
    // That tick ran (the invoice is overdue now) and, within the grace days, suspended nothing.
    await expectEventually(async () => (await owner.get('/api/billing/invoices')).body.invoices.find((i: any) => i.period === '2028-04').status, 'overdue');
    expect(await suspended()).toBe(false);
    await tick('2028-05-16T00:30:00');
    await expectEventually(suspended, true);
    expect((await owner.post(`/api/billing/admin/invoices/${apr.id}/payments`, { reference: 'PIX-123' })).body).toMatchObject({ status: 'paid', providerRef: 'PIX-123' });
    expect(await suspended()).toBe(false);
  });

  it("keeps each account's invoices its own; agents and other accounts cannot touch them", async () => {
    const jan = await invoice('2027-01');
    const other = await createAccount(owner, `Outra ${mode}`, `outra-billing-${mode}@acme.test`);
    expect((await other.client.get(`/api/billing/invoices/${jan.id}`)).status).toBe(404);
    expect((await other.client.get('/api/billing/invoices')).body.invoices).toEqual([]);
    expect((await other.client.post(`/api/billing/instances/${ids.Alfa}/cancel`, {})).status).toBe(404);
    expect((await other.client.post('/api/billing/admin/close', { period: '2027-01' })).status).toBe(403);
  });
});

describe('the monthly close across a daylight-saving change', () => {
  it('counts local days in New York in March 2027 (clocks forward on the 14th)', async () => {
    const clock = new ManualClock('2027-03-01T12:00:00Z');
    const b = await billed('embedded', clock, 'America/New_York');
    try {
      const make = async (name: string, subscribeAt: string) => {
        clock.set(subscribeAt);
        const id = (await b.owner.post('/api/whatsapp-session/instances', { name })).body.id;
        expect((await b.owner.post(`/api/billing/instances/${id}/subscribe`, {})).status).toBe(200);
      };
      await make('Antes', '2027-03-14T06:30:00Z'); // 01:30 EST on the 14th, before the jump: 14..31 = 18 days
      await make('Noite', '2027-03-31T03:30:00Z'); // 23:30 EDT on the 30th: 2 days (UTC would say the 31st)
      await make('Ultimo', '2027-04-01T03:59:59Z'); // 23:59:59 EDT on the 31st: 1 day (UTC would say April)
      clock.set('2027-04-01T08:00:00Z');
      expect((await b.owner.post('/api/billing/admin/close', { period: '2027-03' })).status).toBe(200);
      const inv = (await b.owner.get('/api/billing/invoices')).body.invoices[0];
      const detail = (await b.owner.get(`/api/billing/invoices/${inv.id}`)).body;
      // 9900 × 18 ÷ 31 = 5748.39 → 5748; × 2 ÷ 31 = 638.71 → 639; × 1 ÷ 31 = 319.35 → 319.
      expect(Object.fromEntries(detail.lines.map((l: any) => [l.description.split(' · ')[0], [l.days, l.amountCents]]))).toEqual({ Antes: [18, 5748], Noite: [2, 639], Ultimo: [1, 319] });
      expect(detail.totalCents).toBe(5748 + 639 + 319);
    } finally {
      await b.app.stop();
      await b.ws.cleanup();
    }
  });
});

async function expectEventually<T>(fn: () => Promise<T>, value: T, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v === value) return;
    if (Date.now() > end) expect(v).toBe(value);
    await new Promise((r) => setTimeout(r, 200));
  }
}
