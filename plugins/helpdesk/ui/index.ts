// The helpdesk's pages, composed into the web app at build time and loaded lazily.
export default {
  pages: [
    {
      id: 'helpdesk.inbox',
      path: '/inbox',
      titleKey: 'nav.inbox',
      order: 5,
      wide: true,
      component: () => import('./Inbox.vue'),
      children: [{ path: '/inbox/:id', component: () => import('./Inbox.vue') }],
    },
    { id: 'helpdesk.reports', path: '/reports', titleKey: 'nav.reports', order: 6, minRole: 'supervisor' as const, component: () => import('./Reports.vue') },
    { id: 'helpdesk.setup', path: '/helpdesk/setup', titleKey: 'nav.helpdeskSetup', order: 60, component: () => import('./Setup.vue') },
  ],
};
