import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Knex } from '@mikro-orm/knex';
import { createRouter } from '../api/routes.js';
import { notFound } from '../api/errors.js';
import type { EventBus } from '../contributions/events.js';
import type { SettingsRegistry } from '../contributions/settings.js';
import type { PluginHost } from './pluginHost.js';
import type { Cluster } from '../api/cluster.js';

const pluginOut = z.object({
  id: z.string(),
  displayName: z.string(),
  version: z.string(),
  packageName: z.string(),
  source: z.enum(['workspace', 'package']),
  state: z.string(),
  reason: z.string().nullable(),
  dependencies: z.array(z.string()),
  diagnostics: z.array(z.object({ severity: z.string(), path: z.string(), message: z.string() })),
  ui: z.object({
    panels: z.array(z.object({ id: z.string(), slot: z.string(), title: z.string() })),
    pages: z.array(z.object({ id: z.string(), path: z.string(), title: z.string() })),
    module: z.string().optional().describe('URL of the ES module with the pages and panels, for plugins that ship one'),
  }),
});

/** GET /api/plugins and the settings of each plugin. */
export function pluginRouters(host: PluginHost, settings: SettingsRegistry, events: EventBus, knex: Knex, cluster: Cluster) {
  const plugins = createRouter('/api/plugins')
    .get('', { summary: 'Every plugin with its state, the reason when it is not active, and its UI contributions', tags: ['plugins'], response: z.object({ plugins: z.array(pluginOut) }) }, () => ({
      plugins: [...host.records.values()].map((r) => ({
        id: r.id,
        displayName: r.manifest?.displayName ?? r.id,
        version: r.version,
        packageName: r.packageName,
        source: r.source,
        state: r.state,
        reason: r.reason ?? null,
        dependencies: r.manifest?.dependencies ?? [],
        diagnostics: r.diagnostics,
        // A UI renders panels only for active plugins.
        ui:
          r.state === 'active' && r.manifest
            ? { ...r.manifest.contributes.ui, module: r.manifest.contributes.ui.module ? `/api/plugins/${encodeURIComponent(r.id)}/ui/${path.basename(r.manifest.contributes.ui.module)}` : undefined }
            : { panels: [], pages: [] },
      })),
    }))
    .get(
      '/:id/ui/:file',
      { summary: "A file of an active plugin's web-app module (its folder only)", tags: ['plugins'], params: z.object({ id: z.string(), file: z.string().regex(/^[\w.-]+\.m?js(\.map)?$/) }) },
      (c) => {
        const r = host.records.get(c.params.id);
        const module = r?.state === 'active' ? r.manifest?.contributes.ui.module : undefined;
        if (!r || !module) throw notFound('Plugin UI');
        const dir = path.dirname(path.resolve(r.dir, module));
        const file = path.resolve(dir, c.params.file);
        if (!file.startsWith(dir + path.sep) || !existsSync(file)) throw notFound('Plugin UI file');
        c.koa.type = file.endsWith('.map') ? 'application/json' : 'text/javascript';
        c.koa.set('Cache-Control', 'no-cache');
        c.koa.body = readFileSync(file);
        return undefined;
      },
    )
    .get(
      '/:id/settings',
      { summary: "A plugin's settings: schema, current value and where it came from", role: 'admin', tags: ['plugins'], params: z.object({ id: z.string() }) },
      (c) => {
        if (!settings.has(c.params.id)) throw notFound('Plugin');
        return { settings: settings.list(c.params.id) };
      },
    )
    .put(
      '/:id/settings',
      {
        summary: "Change a plugin's settings (validated against each key's schema; operators only)",
        operator: true,
        tags: ['plugins'],
        params: z.object({ id: z.string() }),
        body: z.record(z.string(), z.unknown()),
      },
      async (c) => {
        if (!settings.has(c.params.id)) throw notFound('Plugin');
        const changed = await settings.change(knex, c.params.id, c.body, c.auth.userId);
        for (const key of changed) await events.emit('core.settings.changed', { plugin: c.params.id, key, value: settings.get(c.params.id, key) });
        await cluster.broadcast('core.settings', { plugin: c.params.id, values: Object.fromEntries(changed.map((k) => [k, settings.get(c.params.id, k)])) });
        return { settings: settings.list(c.params.id) };
      },
    );
  return [plugins];
}
