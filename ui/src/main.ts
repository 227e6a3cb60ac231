import { createApp } from 'vue';
import { createPinia } from 'pinia';
import naive from './naive';
import App from './App.vue';
import { i18n } from './i18n';
import { router, addPluginRoutes } from './router';
import { loadPluginUis } from './pluginUi';
import { get } from './api';

async function start() {
  const app = createApp(App);
  app.use(createPinia()).use(i18n).use(naive);
  const setup = await get<{ needed: boolean }>('/api/setup').catch(() => ({ needed: false }));
  await loadPluginUis().catch(() => undefined);
  addPluginRoutes();
  app.use(router);
  if (setup.needed && location.pathname !== '/setup') await router.replace('/setup');
  app.mount('#app');
}

void start();
