import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { createWorkspace, setupOwner, startApp, type Client, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { FakeStripe } from './fakeStripe.js';

describe.each(STORAGE_MODES)('invoices paid through Stripe (%s)', (mode) => {
  const clock = new ManualClock('2027-01-10T15:00:00Z');
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  const stripe = new FakeStripe();

  beforeAll(async () => {
    await stripe.start();
    ws = await createWorkspace({
      mode,
      config: { packages: ['@plugchat/whatsapp-session', '@plugchat/billing'], plugins: { billing: { settings: { 'billing.provider': 'stripe', 'billing.stripeApiUrl': stripe.url, 'billing.publicBaseUrl': 'https://painel.example.com' } } } },
    });
    app = await startApp(ws, {}, { clock });
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
    await stripe.stop();
  });

  const post = (payload: string, header: string) => fetch(`${app.url}/api/billing/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  const alfa = async () => (await owner.get('/api/billing/instances')).body.instances[0];

  it('offers boleto and Pix for the invoice, suspends when it is overdue, and a signed Stripe event restores the account', async () => {
    const bad = await owner.put('/api/billing/admin/stripe', { secretKey: 'not-a-key', webhookSecret: stripe.webhookSecret });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.secretKey');
    expect((await owner.put('/api/billing/admin/stripe', { secretKey: stripe.secretKey, webhookSecret: stripe.webhookSecret })).status).toBe(200);
    expect((await owner.get('/api/billing/admin/stripe')).body).toEqual({ secretKey: true, webhookSecret: true });
    expect(JSON.stringify(app.logs)).not.toContain(stripe.secretKey);

    const id = (await owner.post('/api/whatsapp-session/instances', { name: 'Loja' })).body.id;
    expect((await owner.post(`/api/billing/instances/${id}/subscribe`, {})).status).toBe(200);
    clock.set('2027-02-01T06:30:00Z');
    expect((await owner.post('/api/billing/admin/close', { period: '2027-01' })).body).toEqual({ created: 1, skipped: 0 });
    const inv = (await owner.get('/api/billing/invoices')).body.invoices[0];
    // 22 days of January: R$ 70,26, as a Checkout Session for boleto and Pix.
    expect(inv).toMatchObject({ totalCents: 7026, provider: 'stripe', providerRef: expect.stringMatching(/^cs_test_/), payUrl: expect.stringMatching(/^https:\/\/checkout\.stripe\.com\//) });
    const call = stripe.requests.find((r) => r.path === '/v1/checkout/sessions')!;
    expect(call.form.get('allowed_payment_method_types[0]')).toBe('boleto');
    expect(call.form.get('allowed_payment_method_types[1]')).toBe('pix');
    expect(call.form.get('line_items[0][price_data][unit_amount]')).toBe('7026');
    expect(call.form.get('line_items[0][price_data][currency]')).toBe('brl');
    expect(call.form.get('metadata[invoiceId]')).toBe(inv.id);
    expect(call.form.get('success_url')).toBe('https://painel.example.com/billing');
    expect(call.idempotencyKey).toBe(`plugchat-invoice-${inv.id}`);

    // Due at the end of 10 February, 5 days of grace: on the 17th the account is suspended.
    clock.set('2027-02-17T15:00:00Z');
    await app.queue.boss.send('billing.tick', {});
    await waitUntil(async () => (await alfa()).suspended === true);

    // A boleto's Checkout completes unpaid, then pays later; a forged or tampered event changes nothing.
    const forged = stripe.event('checkout.session.async_payment_succeeded', inv.providerRef, { payment_status: 'paid' }, 'whsec_someoneelse123456');
    expect((await post(forged.payload, forged.header)).status).toBe(400);
    const real = stripe.event('checkout.session.async_payment_succeeded', inv.providerRef, { payment_status: 'paid' });
    expect((await post(real.payload.replace('7026', '1'), real.header)).status).toBe(400);
    const pending = stripe.event('checkout.session.completed', inv.providerRef, { payment_status: 'unpaid' });
    expect((await post(pending.payload, pending.header)).status).toBe(200);
    expect((await owner.get('/api/billing/invoices')).body.invoices[0].status).toBe('overdue');
    expect((await alfa()).suspended).toBe(true);

    expect((await post(real.payload, real.header)).status).toBe(200);
    expect((await owner.get('/api/billing/invoices')).body.invoices[0]).toMatchObject({ status: 'paid', providerRef: inv.providerRef });
    expect((await alfa()).suspended).toBe(false);
  });
});

async function waitUntil(fn: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
