// The subscription tab of each instance and the invoices page, composed at build time and loaded lazily.
export default {
  pages: [{ id: 'billing.invoices', path: '/billing', titleKey: 'nav.billing', order: 64, minRole: 'admin' as const, component: () => import('./Invoices.vue') }],
  panels: [{ id: 'billing.instanceTab', slot: 'instance.tabs', component: () => import('./SubscriptionTab.vue') }],
};
