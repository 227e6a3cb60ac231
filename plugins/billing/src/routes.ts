import { badRequest, createRouter, HttpError, notFound, z, type PluginSecrets } from '@plugchat/core';
import getRawBody from 'raw-body';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { InvoiceLineSchema, InvoiceSchema, type BilledInstance, type Invoice } from './entities.js';
import { invoicePdf } from './pdf.js';
import type { StripeProvider } from './providers.js';
import type { Billing } from './services/billing.js';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export const instanceJson = (svc: Billing, r: BilledInstance) => {
  const status = svc.effective(r);
  const left = status === 'trial' ? Math.max(0, Math.round((new Date(r.trialEndsAt).getTime() - svc.clock.now().getTime()) / 1000)) : null;
  return {
    instanceId: r.instanceId, name: r.name, status, suspended: r.suspended, trialEndsAt: iso(r.trialEndsAt), trialSecondsLeft: left,
    subscribedAt: iso(r.subscribedAt), cancelledAt: iso(r.cancelledAt), endsAt: iso(r.endsAt),
  };
};
const invoiceJson = (i: Invoice) => ({ ...i, issuedAt: iso(i.issuedAt), dueAt: iso(i.dueAt), paidAt: iso(i.paidAt) });

/** Billing for owners and admins (their instances and invoices) and operators (every account, the close, manual payments). */
export function billingRouter(svc: Billing, session: WhatsAppSessionApi, plan: () => Record<string, unknown>, stripe: StripeProvider, secrets: PluginSecrets) {
  const admin = <T extends object>(summary: string, extra: T) => ({ summary, role: 'admin' as const, tags: ['billing'], ...extra });
  const operator = <T extends object>(summary: string, extra: T) => ({ summary, operator: true, tags: ['billing'], ...extra });
  const idParams = z.object({ id: z.string().min(1).max(64) }).strict();
  const own = async (accountId: string, id: string) => {
    const inst = (await session.instances(accountId)).find((i) => i.id === id);
    if (!inst) throw notFound('Instance');
    return svc.instance(accountId, id, inst.name);
  };
  const withLines = async (inv: Invoice) => ({ ...invoiceJson(inv), lines: await svc.em(inv.accountId).find(InvoiceLineSchema, { invoiceId: inv.id }, { orderBy: { description: 'asc' } }) });

  return createRouter('/api/billing')
    .get('/plan', { summary: 'The price, trial and rules every instance is billed by', tags: ['billing'] }, () => plan())
    .get('/instances', admin('Each instance of the account with its trial or subscription', {}), async (c) => {
      const list = await session.instances(c.auth.accountId);
      return { instances: await Promise.all(list.map(async (i) => instanceJson(svc, await svc.instance(c.auth.accountId, i.id, i.name)))) };
    })
    .post('/instances/:id/subscribe', admin('Subscribes an instance ("Assinar"): charged from today in next month’s invoice', { params: idParams }), async (c) => {
      await own(c.auth.accountId, c.params.id);
      return instanceJson(svc, await svc.subscribe(c.auth.accountId, c.params.id));
    })
    .post('/instances/:id/cancel', admin('Cancels: the instance runs to the end of this month, charged in the next invoice, and never after', { params: idParams }), async (c) => {
      await own(c.auth.accountId, c.params.id);
      return instanceJson(svc, await svc.cancel(c.auth.accountId, c.params.id));
    })
    .get('/invoices', admin("The account's invoices, newest first", {}), async (c) => ({
      invoices: (await svc.em(c.auth.accountId).find(InvoiceSchema, {}, { orderBy: { number: 'desc' } })).map(invoiceJson),
    }))
    .get('/invoices/:id', admin('One invoice with its lines', { params: idParams }), async (c) => {
      const inv = await svc.em(c.auth.accountId).findOne(InvoiceSchema, { id: c.params.id });
      if (!inv) throw notFound('Invoice');
      return withLines(inv);
    })
    .get('/invoices/:id/pdf', admin('The invoice as a PDF', { params: idParams }), async (c) => {
      const inv = await svc.em(c.auth.accountId).findOne(InvoiceSchema, { id: c.params.id });
      if (!inv) throw notFound('Invoice');
      const lines = await svc.em(c.auth.accountId).find(InvoiceLineSchema, { invoiceId: inv.id }, { orderBy: { description: 'asc' } });
      c.koa.type = 'application/pdf';
      c.koa.attachment(`fatura-${inv.number}.pdf`);
      c.koa.body = await invoicePdf(inv, lines, svc.zone);
      return undefined;
    })
    .get('/admin/invoices', operator("Every account's invoices", { query: z.object({ status: z.enum(['open', 'paid', 'overdue', 'void']).optional(), period: z.string().regex(PERIOD).optional() }).strict() }), async (c) => {
      const where: Record<string, unknown> = {};
      if (c.query.status) where.status = c.query.status;
      if (c.query.period) where.period = c.query.period;
      return { invoices: (await svc.allInvoices(where)).map(invoiceJson) };
    })
    .post('/admin/close', operator("Writes the month's invoices now (the job does it early on day 1); running it again changes nothing", { body: z.object({ period: z.string().regex(PERIOD, 'must be a month like 2027-01') }).strict() }), async (c) => {
      if (c.body.period >= svc.currentPeriod()) throw badRequest('Only a month that has ended can be invoiced.', [{ path: 'body.period', message: 'not over yet' }]);
      return svc.close(c.body.period);
    })
    .get('/admin/stripe', operator('Whether Stripe’s keys are set (never the keys)', {}), async () => ({
      secretKey: !!(await secrets.get('stripe.secretKey')),
      webhookSecret: !!(await secrets.get('stripe.webhookSecret')),
    }))
    .put(
      '/admin/stripe',
      operator('Sets Stripe’s secret key and the webhook signing secret (stored encrypted, never shown)', {
        body: z.object({ secretKey: z.string().regex(/^(sk|rk)_(test|live)_\w{6,}$/, 'must be a Stripe secret key (sk_live_… or sk_test_…)'), webhookSecret: z.string().regex(/^whsec_\w{6,}$/, 'must be a webhook signing secret (whsec_…)') }).strict(),
      }),
      async (c) => {
        await secrets.set('stripe.secretKey', c.body.secretKey);
        await secrets.set('stripe.webhookSecret', c.body.webhookSecret);
        return { secretKey: true, webhookSecret: true };
      },
    )
    .post('/stripe/webhook', { summary: 'Stripe’s events (signed with Stripe-Signature): a paid Checkout marks its invoice paid', auth: 'public', tags: ['billing'] }, async (c) => {
      const raw = await getRawBody(c.koa.req, { limit: '1mb', encoding: 'utf8' });
      let paid: { invoiceId: string; ref: string } | null;
      try {
        paid = await stripe.paidInvoice(raw, c.koa.get('stripe-signature'));
      } catch {
        throw new HttpError(400, 'bad_signature', 'The Stripe-Signature header does not verify for this body.');
      }
      if (paid) await svc.providerPaid(paid.invoiceId, paid.ref);
      return { received: true };
    })
    .post('/admin/invoices/:id/payments', operator('Records a payment (the manual provider): the invoice is paid, a suspended account runs again', { params: idParams, body: z.object({ reference: z.string().max(200).nullable().default(null) }).strict() }), async (c) =>
      invoiceJson(await svc.markPaid(c.params.id, c.body.reference)),
    );
}

