// Trello's settings page and the cards panel in each attendance, composed at build time and loaded lazily.
export default {
  pages: [{ id: 'trello.settings', path: '/trello', titleKey: 'nav.trello', order: 62, minRole: 'admin' as const, component: () => import('./TrelloSettings.vue') }],
  panels: [{ id: 'trello.cards', slot: 'helpdesk.attendance.panels', component: () => import('./CardsPanel.vue') }],
};
