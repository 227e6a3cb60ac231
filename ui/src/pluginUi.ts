import type { Component } from 'vue';
import { shallowRef } from 'vue';
import { get } from './api';

/** What a plugin's ui/index.ts exports: pages (routes) and panels (rendered in named slots). */
export interface UiPage {
  id: string;
  path: string;
  /** The navigation label's key in the app's messages; a plugin from npm gives its own label as title. */
  titleKey: string;
  title?: string;
  /** Position in the navigation (lower first; default 50). */
  order?: number;
  /** Use the whole width of the window (an inbox), not the reading width. */
  wide?: boolean;
  /** Shown in the navigation only to this role and those above it (the API checks it anyway). */
  minRole?: 'agent' | 'supervisor' | 'admin' | 'owner';
  component: () => Promise<Component | { default: Component }>;
  /** Extra routes the page owns (e.g. a detail page), not shown in the navigation. */
  children?: { path: string; component: () => Promise<Component | { default: Component }> }[];
}
export interface UiPanel {
  id: string;
  slot: string;
  component: () => Promise<Component | { default: Component }>;
}
export interface PluginUi {
  pages?: UiPage[];
  panels?: UiPanel[];
}
export const defineUi = (ui: PluginUi) => ui;

export interface PluginInfo {
  id: string;
  displayName: string;
  state: string;
  reason: string | null;
  ui: { panels: { id: string; slot: string; title: string }[]; pages: { id: string; path: string; title: string }[]; module?: string };
}

// First-party plugin UIs are composed at build time; only the active ones are used at run time.
const modules = import.meta.glob<{ default: PluginUi }>('../../plugins/*/ui/index.ts');

export const active = shallowRef<{ pages: UiPage[]; panels: UiPanel[]; plugins: PluginInfo[] }>({ pages: [], panels: [], plugins: [] });

export async function loadPluginUis() {
  const { plugins } = await get<{ plugins: PluginInfo[] }>('/api/plugins');
  const declaredPages = new Set(plugins.filter((p) => p.state === 'active').flatMap((p) => p.ui.pages.map((x) => x.id)));
  const declaredPanels = new Set(plugins.filter((p) => p.state === 'active').flatMap((p) => p.ui.panels.map((x) => x.id)));
  const pages: UiPage[] = [];
  const panels: UiPanel[] = [];
  // Plugins installed from npm ship a prebuilt module, loaded now (it imports the shell's Vue through the import map).
  const runtime = plugins.filter((p) => p.state === 'active' && p.ui.module).map((p) => () => import(/* @vite-ignore */ p.ui.module!) as Promise<{ default: PluginUi }>);
  for (const load of [...Object.values(modules), ...runtime]) {
    try {
      const ui = (await load()).default;
      pages.push(...(ui.pages ?? []).filter((p) => declaredPages.has(p.id)));
      panels.push(...(ui.panels ?? []).filter((p) => declaredPanels.has(p.id)));
    } catch (err) {
      // One plugin's broken module costs its own pages and panels, never the app.
      console.error('a plugin UI failed to load', err);
    }
  }
  pages.sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
  active.value = { pages, panels, plugins };
  return active.value;
}

export const panelsFor = (slot: string) => active.value.panels.filter((p) => p.slot === slot);
