import { EntitySchema, tenantScoped } from '@plugchat/core';

/** Billing's domain model: MikroORM entity schemas over the tables of migrations.ts. Money is integer cents. */

const date = { type: 'Date' } as const;
const optDate = { type: 'Date', nullable: true } as const;
const str = { type: 'string' } as const;
const optStr = { type: 'string', nullable: true } as const;
const col = (fieldName: string) => ({ fieldName });

/**
 * trial: runs until trialEndsAt; expired: the trial ended unsubscribed; subscribed; cancelled: runs
 * to the end of the month of cancellation (endsAt); ended: that end passed. suspended is set while
 * an invoice is overdue past the grace days.
 */
export type InstanceStatus = 'trial' | 'expired' | 'subscribed' | 'cancelled' | 'ended';

export interface BilledInstance {
  instanceId: string;
  accountId: string;
  name: string;
  status: InstanceStatus;
  trialEndsAt: Date;
  subscribedAt: Date | null;
  cancelledAt: Date | null;
  endsAt: Date | null;
  deletedAt: Date | null;
  suspended: boolean;
  createdAt: Date;
  updatedAt: Date;
}
export const BilledInstanceSchema = new EntitySchema<BilledInstance>({
  name: 'BillingInstance',
  tableName: 'billing_instances',
  ...tenantScoped,
  properties: {
    instanceId: { ...str, primary: true, ...col('instance_id') },
    accountId: { ...str, ...col('account_id') },
    name: str,
    status: str,
    trialEndsAt: { ...date, ...col('trial_ends_at') },
    subscribedAt: { ...optDate, ...col('subscribed_at') },
    cancelledAt: { ...optDate, ...col('cancelled_at') },
    endsAt: { ...optDate, ...col('ends_at') },
    deletedAt: { ...optDate, ...col('deleted_at') },
    suspended: { type: 'boolean' },
    createdAt: { ...date, ...col('created_at') },
    updatedAt: { ...date, ...col('updated_at') },
  },
});

/** A stretch of subscribed time of an instance: what the monthly close charges. */
export interface Span {
  id: string;
  accountId: string;
  instanceId: string;
  startAt: Date;
  /** null while it runs; the end of the month of cancellation, or the deletion. */
  endAt: Date | null;
}
export const SpanSchema = new EntitySchema<Span>({
  name: 'BillingSpan',
  tableName: 'billing_spans',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    instanceId: { ...str, ...col('instance_id') },
    startAt: { ...date, ...col('start_at') },
    endAt: { ...optDate, ...col('end_at') },
  },
});

export type InvoiceStatus = 'open' | 'paid' | 'overdue' | 'void';

export interface Invoice {
  id: string;
  accountId: string;
  /** Sequential across the installation. */
  number: number;
  /** The month charged, "2027-01". */
  period: string;
  status: InvoiceStatus;
  currency: string;
  totalCents: number;
  issuedAt: Date;
  dueAt: Date;
  paidAt: Date | null;
  provider: string;
  providerRef: string | null;
  payUrl: string | null;
}
export const InvoiceSchema = new EntitySchema<Invoice>({
  name: 'BillingInvoice',
  tableName: 'billing_invoices',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    number: { type: 'integer' },
    period: str,
    status: str,
    currency: str,
    totalCents: { type: 'integer', ...col('total_cents') },
    issuedAt: { ...date, ...col('issued_at') },
    dueAt: { ...date, ...col('due_at') },
    paidAt: { ...optDate, ...col('paid_at') },
    provider: str,
    providerRef: { ...optStr, ...col('provider_ref') },
    payUrl: { ...optStr, ...col('pay_url') },
  },
});

export interface InvoiceLine {
  invoiceId: string;
  instanceId: string;
  accountId: string;
  description: string;
  days: number;
  daysInMonth: number;
  unitCents: number;
  amountCents: number;
}
export const InvoiceLineSchema = new EntitySchema<InvoiceLine>({
  name: 'BillingInvoiceLine',
  tableName: 'billing_invoice_lines',
  ...tenantScoped,
  properties: {
    invoiceId: { ...str, primary: true, ...col('invoice_id') },
    instanceId: { ...str, primary: true, ...col('instance_id') },
    accountId: { ...str, ...col('account_id') },
    description: str,
    days: { type: 'integer' },
    daysInMonth: { type: 'integer', ...col('days_in_month') },
    unitCents: { type: 'integer', ...col('unit_cents') },
    amountCents: { type: 'integer', ...col('amount_cents') },
  },
});

export const billingEntities = [BilledInstanceSchema, SpanSchema, InvoiceSchema, InvoiceLineSchema];
