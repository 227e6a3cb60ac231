import Stripe from 'stripe';
import type { PluginContext } from '@plugchat/core';
import type { Invoice } from './entities.js';
import type { Settings } from './settings.js';

/** What a plugin contributes to billing.paymentProviders: how an invoice gets paid. */
export interface PaymentProvider {
  id: string;
  /** A way to pay the invoice (a boleto, a Pix code, a checkout page), or null when the provider takes payments by hand. */
  createPayment(invoice: Invoice, opts: { returnUrl: string }): Promise<{ ref: string; url: string } | null>;
}

export const manualProvider: PaymentProvider = { id: 'manual', createPayment: async () => null };

/** Stripe, through its official library: a Checkout Session for boleto and Pix; its webhook marks the invoice paid. */
export class StripeProvider implements PaymentProvider {
  readonly id = 'stripe';
  constructor(private readonly ctx: PluginContext<Settings>) {}

  async client(): Promise<Stripe | undefined> {
    const key = await this.ctx.secrets.get('stripe.secretKey');
    if (!key) return undefined;
    const url = this.ctx.settings.get('billing.stripeApiUrl');
    const where = url ? new URL(url) : undefined;
    return new Stripe(key, {
      maxNetworkRetries: 2,
      ...(where ? { host: where.hostname, port: Number(where.port || (where.protocol === 'https:' ? 443 : 80)), protocol: where.protocol.replace(':', '') as 'http' | 'https' } : {}),
    });
  }

  async createPayment(invoice: Invoice, opts: { returnUrl: string }) {
    const stripe = await this.client();
    if (!stripe) throw new Error('Stripe is not configured: an operator sets the keys under Billing.');
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        allowed_payment_method_types: ['boleto', 'pix'],
        line_items: [{ quantity: 1, price_data: { currency: invoice.currency.toLowerCase(), unit_amount: invoice.totalCents, product_data: { name: `PlugChat · fatura nº ${invoice.number} (${invoice.period})` } } }],
        metadata: { invoiceId: invoice.id, accountId: invoice.accountId },
        payment_intent_data: { metadata: { invoiceId: invoice.id } },
        success_url: opts.returnUrl,
        cancel_url: opts.returnUrl,
      },
      // One session per invoice, however often this is tried.
      { idempotencyKey: `plugchat-invoice-${invoice.id}` },
    );
    return { ref: session.id, url: session.url ?? '' };
  }

  /** The invoice a verified webhook event pays, if it is a completed payment. */
  async paidInvoice(raw: string, signature: string): Promise<{ invoiceId: string; ref: string } | null> {
    const stripe = (await this.client()) ?? new Stripe('sk_unset');
    const secret = await this.ctx.secrets.get('stripe.webhookSecret');
    if (!secret) throw new Error('no webhook secret');
    const event = stripe.webhooks.constructEvent(raw, signature, secret);
    if (event.type !== 'checkout.session.completed' && event.type !== 'checkout.session.async_payment_succeeded') return null;
    const session = event.data.object as Stripe.Checkout.Session;
    if (event.type === 'checkout.session.completed' && session.payment_status !== 'paid') return null; // a boleto: paid later
    const invoiceId = session.metadata?.invoiceId;
    return invoiceId ? { invoiceId, ref: session.id } : null;
  }
}
