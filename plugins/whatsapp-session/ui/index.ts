// The instances pages, composed into the web app at build time.
export default {
  pages: [
    {
      id: 'whatsapp-session.instances',
      path: '/instances',
      titleKey: 'nav.instances',
      order: 10,
      component: () => import('./Instances.vue'),
      children: [{ path: '/instances/:id', component: () => import('./Instance.vue') }],
    },
  ],
};
