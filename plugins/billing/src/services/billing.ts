import { randomUUID } from 'node:crypto';
import { conflict, HttpError, notFound, UniqueConstraintViolationException, type Clock, type EntityManager, type PluginContext } from '@plugchat/core';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { DateTime } from 'luxon';
import { BilledInstanceSchema, InvoiceLineSchema, InvoiceSchema, SpanSchema, type BilledInstance, type Invoice } from '../entities.js';
import type { PaymentProvider } from '../providers.js';
import type { Settings } from '../settings.js';
import { daysUsed, endOfMonth, lineAmount, monthOf } from './usage.js';

const DAY = 86_400_000;

/**
 * Instances' trial and subscription, the veto on expired ones (whatsapp-session.gates), the monthly
 * close and the payments that settle invoices. Every time comes from the injected clock.
 */
export class Billing {
  constructor(
    private readonly ctx: PluginContext<Settings>,
    readonly clock: Clock,
    private readonly session: WhatsAppSessionApi,
    private readonly providers: () => PaymentProvider[] = () => [],
  ) {}

  get zone() {
    return this.ctx.settings.get('billing.timeZone');
  }

  /** The month now is in, "YYYY-MM", in the billing time zone. */
  currentPeriod(): string {
    return DateTime.fromJSDate(this.clock.now(), { zone: this.zone }).toFormat('yyyy-MM');
  }

  /** Every account's invoices (operators). */
  allInvoices(where: Record<string, unknown>) {
    return this.ctx.db.system().find(InvoiceSchema, where, { orderBy: { number: 'desc' }, limit: 1000 });
  }

  em(accountId: string): EntityManager {
    return this.ctx.db.forAccount(accountId);
  }

  /** An instance's billing row; one created before billing was on starts its trial now. */
  async instance(accountId: string, instanceId: string, name?: string): Promise<BilledInstance> {
    const em = this.em(accountId);
    const found = await em.findOne(BilledInstanceSchema, { instanceId }, { refresh: true });
    if (found) return found;
    const now = this.clock.now();
    const row: BilledInstance = {
      instanceId, accountId, name: name ?? instanceId, status: 'trial', trialEndsAt: new Date(now.getTime() + this.ctx.settings.get('billing.trialDays') * DAY),
      subscribedAt: null, cancelledAt: null, endsAt: null, deletedAt: null, suspended: false, createdAt: now, updatedAt: now,
    };
    try {
      await em.insert(BilledInstanceSchema, row);
      return row;
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      return (await em.findOne(BilledInstanceSchema, { instanceId }, { refresh: true }))!;
    }
  }

  /** The status as of now (a trial or a cancellation whose time came counts as over even before the tick). */
  effective(row: BilledInstance, now = this.clock.now()): BilledInstance['status'] {
    if (row.status === 'trial' && new Date(row.trialEndsAt) <= now) return 'expired';
    if (row.status === 'cancelled' && row.endsAt && new Date(row.endsAt) <= now) return 'ended';
    return row.status;
  }

  /** whatsapp-session.gates: an expired, ended or suspended instance neither connects nor sends. */
  async check(accountId: string, instanceId: string): Promise<void> {
    const row = await this.instance(accountId, instanceId);
    const status = this.effective(row);
    const how = `Subscribe to it to connect and send again: "Assinar" on the instance page, or POST /api/billing/instances/${instanceId}/subscribe.`;
    if (status === 'expired') throw new HttpError(402, 'instance_expired', `This instance's trial ended on ${new Date(row.trialEndsAt).toISOString()}. ${how}`, { instanceId, trialEndsAt: new Date(row.trialEndsAt).toISOString() });
    if (status === 'ended') throw new HttpError(402, 'instance_expired', `This instance's subscription was cancelled and ended on ${new Date(row.endsAt!).toISOString()}. ${how}`, { instanceId });
    if (row.suspended) throw new HttpError(402, 'instance_suspended', 'This account has an invoice overdue past its grace period. Pay it (Billing page) and the instances connect again.', { instanceId });
  }

  async subscribe(accountId: string, instanceId: string): Promise<BilledInstance> {
    const row = await this.instance(accountId, instanceId);
    const status = this.effective(row);
    if (status === 'subscribed') throw conflict('This instance is subscribed already.', 'already_subscribed');
    const now = this.clock.now();
    const em = this.em(accountId);
    await em.transactional(async (tx) => {
      // Subscribing again before a cancellation took effect keeps the running span going.
      const running = status === 'cancelled' ? await tx.findOne(SpanSchema, { instanceId, endAt: { $gt: now } }, { orderBy: { startAt: 'desc' } }) : null;
      if (running) await tx.nativeUpdate(SpanSchema, { id: running.id }, { endAt: null });
      else await tx.insert(SpanSchema, { id: randomUUID(), accountId, instanceId, startAt: now, endAt: null });
      await tx.nativeUpdate(BilledInstanceSchema, { instanceId }, { status: 'subscribed', subscribedAt: now, cancelledAt: null, endsAt: null, updatedAt: now });
    });
    // It was stopped for its trial or subscription: it may connect again.
    if (status === 'expired' || status === 'ended') await this.session.connect(accountId, instanceId).catch((err) => this.ctx.logger.warn({ err: (err as Error).message, instance: instanceId }, 'could not reconnect after subscribing'));
    return this.instance(accountId, instanceId);
  }

  /** Cancels: the instance runs to the end of this month, which the next invoice charges, and never after. */
  async cancel(accountId: string, instanceId: string): Promise<BilledInstance> {
    const row = await this.instance(accountId, instanceId);
    if (this.effective(row) !== 'subscribed') throw conflict('Only a subscribed instance can be cancelled.', 'not_subscribed');
    const now = this.clock.now();
    const endsAt = endOfMonth(now, this.zone);
    await this.em(accountId).transactional(async (tx) => {
      await tx.nativeUpdate(SpanSchema, { instanceId, endAt: null }, { endAt: endsAt });
      await tx.nativeUpdate(BilledInstanceSchema, { instanceId }, { status: 'cancelled', cancelledAt: now, endsAt, updatedAt: now });
    });
    return this.instance(accountId, instanceId);
  }

  /** A deleted instance stops costing from the moment it is deleted. */
  async deleted(accountId: string, instanceId: string): Promise<void> {
    const now = this.clock.now();
    await this.instance(accountId, instanceId);
    await this.em(accountId).transactional(async (tx) => {
      await tx.nativeUpdate(SpanSchema, { instanceId, $or: [{ endAt: null }, { endAt: { $gt: now } }] }, { endAt: now });
      await tx.nativeUpdate(BilledInstanceSchema, { instanceId }, { deletedAt: now, updatedAt: now });
    });
  }

  // ------------------------------------------------------------------ on time

  /** Expires trials, ends cancelled subscriptions, marks invoices overdue and suspends past the grace days. */
  async tick(): Promise<void> {
    const sys = this.ctx.db.system();
    const now = this.clock.now();
    const stop = async (rows: BilledInstance[], status: 'expired' | 'ended', reason: string) => {
      for (const r of rows) {
        const n = await sys.nativeUpdate(BilledInstanceSchema, { instanceId: r.instanceId, status: r.status }, { status, updatedAt: now });
        if (n && !r.deletedAt) await this.session.pause(r.accountId, r.instanceId, reason).catch(() => {});
      }
    };
    await stop(await sys.find(BilledInstanceSchema, { status: 'trial', trialEndsAt: { $lte: now } }), 'expired', 'trial ended: subscribe to use it again');
    await stop(await sys.find(BilledInstanceSchema, { status: 'cancelled', endsAt: { $lte: now } }), 'ended', 'subscription ended: subscribe to use it again');
    await sys.nativeUpdate(InvoiceSchema, { status: 'open', dueAt: { $lte: now } }, { status: 'overdue' });
    for (const inv of await sys.find(InvoiceSchema, { status: { $in: ['open', 'overdue'] }, provider: { $ne: 'manual' }, payUrl: null }, { limit: 50 })) await this.requestPayment(inv);
    const grace = this.ctx.settings.get('billing.graceDays') * DAY;
    const late = await sys.find(InvoiceSchema, { status: 'overdue', dueAt: { $lte: new Date(now.getTime() - grace) } }, { fields: ['accountId'] });
    for (const accountId of new Set(late.map((i) => i.accountId))) {
      const rows = await sys.find(BilledInstanceSchema, { accountId, suspended: false, deletedAt: null });
      for (const r of rows) {
        await sys.nativeUpdate(BilledInstanceSchema, { instanceId: r.instanceId }, { suspended: true, updatedAt: now });
        await this.session.pause(accountId, r.instanceId, 'suspended: an invoice is overdue').catch(() => {});
      }
    }
  }

  // ------------------------------------------------------------------ the monthly close

  /**
   * One invoice per account for `period`: a line per instance with the days it was subscribed,
   * the unit price and the amount. Per account one transaction; the unique (account, period)
   * makes a second run (or a rerun after a crash) skip what exists.
   */
  async close(period: string): Promise<{ created: number; skipped: number }> {
    const { start, end, days: daysInMonth } = monthOf(period, this.zone);
    const sys = this.ctx.db.system();
    const spans = await sys.find(SpanSchema, { startAt: { $lt: end }, $or: [{ endAt: null }, { endAt: { $gt: start } }] });
    const byAccount = new Map<string, typeof spans>();
    for (const s of spans) byAccount.set(s.accountId, [...(byAccount.get(s.accountId) ?? []), s]);
    let created = 0;
    let skipped = 0;
    for (const [accountId, list] of byAccount) {
      if (await this.em(accountId).findOne(InvoiceSchema, { period }, { fields: ['id'] })) {
        skipped++;
        continue;
      }
      const invoice = await this.closeAccount(accountId, period, list, daysInMonth);
      if (invoice) {
        created++;
        await this.requestPayment(invoice);
      } else skipped++;
    }
    return { created, skipped };
  }

  private async closeAccount(accountId: string, period: string, spans: { instanceId: string; startAt: Date; endAt: Date | null }[], daysInMonth: number): Promise<Invoice | null> {
    const price = this.ctx.settings.get('billing.priceCents');
    const proration = this.ctx.settings.get('billing.proration');
    const names = new Map((await this.em(accountId).find(BilledInstanceSchema, {})).map((i) => [i.instanceId, i.name]));
    const byInstance = new Map<string, typeof spans>();
    for (const s of spans) byInstance.set(s.instanceId, [...(byInstance.get(s.instanceId) ?? []), s]);
    const lines = [...byInstance.entries()]
      .map(([instanceId, list]) => {
        const days = daysUsed(list, period, this.zone);
        return { instanceId, days, amountCents: lineAmount(price, days, daysInMonth, proration) };
      })
      .filter((l) => l.days > 0)
      .sort((a, b) => (names.get(a.instanceId) ?? a.instanceId).localeCompare(names.get(b.instanceId) ?? b.instanceId));
    if (!lines.length) return null;
    const now = this.clock.now();
    // Due at the end of the due day of the month of issue (an invoice issued after it: 3 days later).
    const local = DateTime.fromJSDate(now, { zone: this.zone });
    const onDueDay = local.set({ day: this.ctx.settings.get('billing.dueDay') }).endOf('day');
    const dueAt = (onDueDay > local.plus({ days: 3 }) ? onDueDay : local.plus({ days: 3 }).endOf('day')).toJSDate();
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        let written: Invoice | null = null;
        await this.em(accountId).transactional(async (tx) => {
          const last = (await tx.getConnection().execute('select max(number) as n from billing_invoices', [], 'get', tx.getTransactionContext())) as unknown;
          const invoice: Invoice = {
            id: randomUUID(), accountId, number: Number((last as { n: unknown } | undefined)?.n ?? 0) + 1, period, status: 'open', currency: this.ctx.settings.get('billing.currency'),
            totalCents: lines.reduce((a, l) => a + l.amountCents, 0), issuedAt: now, dueAt, paidAt: null, provider: this.ctx.settings.get('billing.provider'), providerRef: null, payUrl: null,
          };
          written = invoice;
          await tx.insert(InvoiceSchema, invoice);
          for (const l of lines) {
            await tx.insert(InvoiceLineSchema, {
              invoiceId: invoice.id, instanceId: l.instanceId, accountId, description: `${names.get(l.instanceId) ?? l.instanceId} · ${period}`,
              days: l.days, daysInMonth, unitCents: price, amountCents: l.amountCents,
            });
          }
        });
        return written;
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        // Another process wrote this account's invoice, or took the number: look again.
        if (await this.em(accountId).findOne(InvoiceSchema, { period }, { fields: ['id'], refresh: true })) return null;
      }
    }
    throw new Error(`could not number the invoice of ${accountId} for ${period}`);
  }

  // ------------------------------------------------------------------ payments

  /** Asks the invoice's provider for a way to pay it (a Stripe Checkout for boleto and Pix); retried by the tick until it has one. */
  async requestPayment(invoice: Invoice): Promise<void> {
    const provider = this.providers().find((p) => p.id === invoice.provider);
    if (!provider) return;
    try {
      const base = this.ctx.settings.get('billing.publicBaseUrl').replace(/\/$/, '');
      const pay = await provider.createPayment(invoice, { returnUrl: `${base}/billing` });
      if (pay) await this.ctx.db.system().nativeUpdate(InvoiceSchema, { id: invoice.id }, { providerRef: pay.ref, payUrl: pay.url });
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message, invoice: invoice.id, provider: invoice.provider }, 'could not create the payment; retrying on the next tick');
    }
  }

  /** A payment the provider reports (its webhook, verified): the invoice is paid unless the reference is another payment's. */
  async providerPaid(invoiceId: string, ref: string): Promise<void> {
    const inv = await this.ctx.db.system().findOne(InvoiceSchema, { id: invoiceId });
    if (!inv) return;
    if (inv.providerRef && inv.providerRef !== ref) {
      this.ctx.logger.warn({ invoice: invoiceId, ref }, 'payment for another checkout of this invoice ignored');
      return;
    }
    await this.markPaid(invoiceId, ref);
  }

  /** The manual provider: the operator records that an invoice was paid; a suspended account runs again. */
  async markPaid(invoiceId: string, ref: string | null): Promise<Invoice> {
    const sys = this.ctx.db.system();
    const inv = await sys.findOne(InvoiceSchema, { id: invoiceId });
    if (!inv) throw notFound('Invoice');
    if (inv.status === 'paid') return inv;
    if (inv.status === 'void') throw conflict('This invoice was voided.', 'invoice_void');
    const now = this.clock.now();
    await sys.nativeUpdate(InvoiceSchema, { id: invoiceId }, { status: 'paid', paidAt: now, providerRef: ref ?? inv.providerRef });
    await this.restore(inv.accountId);
    return (await sys.findOne(InvoiceSchema, { id: invoiceId }, { refresh: true }))!;
  }

  /** Lifts a suspension once no invoice is overdue past the grace days, and reconnects the instances. */
  private async restore(accountId: string) {
    const sys = this.ctx.db.system();
    const grace = this.ctx.settings.get('billing.graceDays') * DAY;
    const stillLate = await sys.findOne(InvoiceSchema, { accountId, status: 'overdue', dueAt: { $lte: new Date(this.clock.now().getTime() - grace) } });
    if (stillLate) return;
    const rows = await sys.find(BilledInstanceSchema, { accountId, suspended: true });
    for (const r of rows) {
      await sys.nativeUpdate(BilledInstanceSchema, { instanceId: r.instanceId }, { suspended: false, updatedAt: this.clock.now() });
      const status = this.effective(r);
      if (!r.deletedAt && (status === 'subscribed' || status === 'cancelled' || status === 'trial')) await this.session.connect(accountId, r.instanceId).catch(() => {});
    }
  }
}
