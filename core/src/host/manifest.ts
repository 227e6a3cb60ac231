import semver from 'semver';
import { z } from 'zod';

export const PLUGIN_ID = /^[a-z][a-z0-9-]*$/;
const NAME = /^[a-z][a-z0-9-]*(\.[a-zA-Z][a-zA-Z0-9_-]*)+$/;

const jsonSchema = z.record(z.string(), z.unknown()).refine((s) => typeof s.type === 'string' || 'enum' in s || 'const' in s || 'anyOf' in s || 'oneOf' in s, {
  message: 'must be a JSON Schema with a "type" (or enum/const/anyOf/oneOf)',
});

export const manifestSchema = z
  .object({
    id: z.string().regex(PLUGIN_ID, 'must match ^[a-z][a-z0-9-]*$'),
    displayName: z.string().min(1),
    description: z.string().optional(),
    engines: z.object({ plugchat: z.string().min(1) }).strict(),
    dependencies: z.array(z.string().regex(PLUGIN_ID)).default([]),
    contributes: z
      .object({
        settings: z.record(z.string().regex(NAME, 'must be "<plugin>.<key>"'), jsonSchema).default({}),
        jobs: z.array(z.object({ name: z.string().regex(NAME), description: z.string().optional() }).strict()).default([]),
        events: z
          .object({
            emits: z.array(z.string().regex(NAME)).default([]),
            listens: z.array(z.string().regex(NAME)).default([]),
          })
          .strict()
          .default({ emits: [], listens: [] }),
        routes: z.array(z.object({ prefix: z.string().regex(/^(\/[a-z0-9][a-z0-9_-]*)+$/, 'must be a path like /api/my-plugin') }).strict()).default([]),
        ui: z
          .object({
            /** A prebuilt ES module (path in the package) exporting { pages, panels }: the web app loads it at run time. */
            module: z.string().regex(/^(?!\/)(?!.*\.\.)[\w./-]+\.m?js$/, 'must be a relative path to a .js file inside the package').optional(),
            panels: z.array(z.object({ id: z.string().regex(NAME), slot: z.string().min(1), title: z.string().min(1) }).strict()).default([]),
            pages: z
              .array(z.object({ id: z.string().regex(NAME), path: z.string().regex(/^\/[a-z0-9/_-]*$/), title: z.string().min(1), icon: z.string().optional() }).strict())
              .default([]),
          })
          .strict()
          .default({ panels: [], pages: [] }),
        extensionPoints: z.array(z.string().regex(NAME)).default([]),
        extends: z.array(z.string().regex(NAME)).default([]),
      })
      .strict()
      .default({ settings: {}, jobs: [], events: { emits: [], listens: [] }, routes: [], ui: { panels: [], pages: [] }, extensionPoints: [], extends: [] }),
  })
  .strict();

export type PluginManifest = z.infer<typeof manifestSchema>;

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Where in the package.json, e.g. plugchat.contributes.jobs.0.name */
  path: string;
  message: string;
}

/** Core-owned prefixes no plugin may claim. */
export const RESERVED_PREFIXES = ['/api/auth', '/api/setup', '/api/users', '/api/api-keys', '/api/accounts', '/api/plugins', '/api/openapi.json', '/api/docs', '/health', '/ready'];

/**
 * Validates the "plugchat" block of a package.json and collects every problem
 * instead of stopping at the first, so an author fixes them in one go.
 */
export function validateManifest(pkg: Record<string, unknown>, coreVersion: string): { manifest?: PluginManifest; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const err = (path: string, message: string) => diagnostics.push({ severity: 'error', path, message });
  if (!pkg || typeof pkg !== 'object' || !('plugchat' in pkg)) {
    err('plugchat', 'package.json has no "plugchat" block; it is not a PlugChat plugin');
    return { diagnostics };
  }
  const parsed = manifestSchema.safeParse(pkg.plugchat);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = ['plugchat', ...issue.path.map(String)].join('.');
      const msg = issue.code === 'unrecognized_keys' ? `unknown key(s): ${issue.keys.join(', ')}` : issue.message;
      err(where, msg);
    }
    return { diagnostics };
  }
  const m = parsed.data;
  const ns = `${m.id}.`;
  const own = (path: string, name: string, what: string) => {
    if (!name.startsWith(ns)) err(path, `${what} "${name}" is outside the plugin's namespace; name it "${m.id}.<name>"`);
  };
  if (typeof pkg.main !== 'string' && typeof pkg.exports === 'undefined') err('main', 'package.json needs "main" pointing at the built entry (for example dist/index.js)');
  if (!semver.validRange(m.engines.plugchat)) err('plugchat.engines.plugchat', `"${m.engines.plugchat}" is not a semver range`);
  else if (!semver.satisfies(coreVersion, m.engines.plugchat, { includePrerelease: true }))
    err('plugchat.engines.plugchat', `requires PlugChat ${m.engines.plugchat}, this is ${coreVersion}`);
  if (m.dependencies.includes(m.id)) err('plugchat.dependencies', 'a plugin cannot depend on itself');
  Object.keys(m.contributes.settings).forEach((k) => own(`plugchat.contributes.settings.${k}`, k, 'setting'));
  m.contributes.jobs.forEach((j, i) => own(`plugchat.contributes.jobs.${i}.name`, j.name, 'job'));
  m.contributes.events.emits.forEach((e, i) => own(`plugchat.contributes.events.emits.${i}`, e, 'event'));
  m.contributes.extensionPoints.forEach((e, i) => own(`plugchat.contributes.extensionPoints.${i}`, e, 'extension point'));
  m.contributes.ui.panels.forEach((p, i) => own(`plugchat.contributes.ui.panels.${i}.id`, p.id, 'panel'));
  m.contributes.ui.pages.forEach((p, i) => own(`plugchat.contributes.ui.pages.${i}.id`, p.id, 'page'));
  m.contributes.events.listens.forEach((e, i) => {
    const owner = e.split('.')[0]!;
    if (owner !== 'core' && owner !== m.id && !m.dependencies.includes(owner))
      err(`plugchat.contributes.events.listens.${i}`, `listens to "${e}" but does not declare "${owner}" in dependencies`);
  });
  m.contributes.extends.forEach((e, i) => {
    const owner = e.split('.')[0]!;
    if (!m.dependencies.includes(owner)) err(`plugchat.contributes.extends.${i}`, `extends "${e}" but does not declare "${owner}" in dependencies`);
  });
  m.contributes.routes.forEach((r, i) => {
    const path = `plugchat.contributes.routes.${i}.prefix`;
    if (RESERVED_PREFIXES.some((p) => r.prefix === p || r.prefix.startsWith(p + '/') || p.startsWith(r.prefix + '/')))
      err(path, `"${r.prefix}" overlaps a core route`);
    else if (r.prefix.startsWith('/api/') && !(r.prefix === `/api/${m.id}` || r.prefix.startsWith(`/api/${m.id}/`)))
      err(path, `"${r.prefix}" is under /api but outside the plugin's namespace; use /api/${m.id}`);
  });
  return diagnostics.length ? { diagnostics } : { manifest: m, diagnostics };
}
