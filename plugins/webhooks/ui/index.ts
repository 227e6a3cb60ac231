export default {
  panels: [{ id: 'webhooks.instanceTab', slot: 'instance.tabs', component: () => import('./WebhooksTab.vue') }],
};
