export default {
  pages: [{ id: 'whatsapp-sandbox.phones', path: '/sandbox', titleKey: 'nav.sandbox', order: 90, component: () => import('./Phones.vue') }],
  panels: [{ id: 'whatsapp-sandbox.scan', slot: 'instance.qr', component: () => import('./ScanButton.vue') }],
};
