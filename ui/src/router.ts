import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { useSession } from './session';
import { active } from './pluginUi';

const core: RouteRecordRaw[] = [
  { path: '/login', component: () => import('./pages/Login.vue'), meta: { public: true } },
  { path: '/setup', component: () => import('./pages/Setup.vue'), meta: { public: true } },
  { path: '/plugins', component: () => import('./pages/Plugins.vue') },
  { path: '/settings', component: () => import('./pages/Settings.vue') },
  { path: '/users', component: () => import('./pages/Users.vue') },
  { path: '/api-keys', component: () => import('./pages/ApiKeys.vue') },
];

export const router = createRouter({ history: createWebHistory(), routes: [...core, { path: '/', component: () => import('./pages/Home.vue') }] });

/** Adds the pages of the active plugins (called once the plugin list is known). */
export function addPluginRoutes() {
  for (const page of active.value.pages) {
    router.addRoute({ path: page.path, component: page.component as never });
    for (const child of page.children ?? []) router.addRoute({ path: child.path, component: child.component as never });
  }
}

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.checked) await session.refresh();
  if (!to.meta.public && !session.me) return { path: '/login', query: { next: to.fullPath } };
  return true;
});
