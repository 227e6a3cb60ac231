/** The plan the installation's operator sets, as declared in package.json. */
export interface Settings {
  'billing.priceCents': number;
  'billing.currency': string;
  'billing.trialDays': number;
  'billing.proration': 'daily' | 'month';
  'billing.dueDay': number;
  'billing.graceDays': number;
  'billing.timeZone': string;
  'billing.provider': 'manual' | 'stripe';
  'billing.stripeApiUrl': string;
  'billing.publicBaseUrl': string;
}
