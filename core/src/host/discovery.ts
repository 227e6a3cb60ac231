import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PluginsFile } from '../services/config.js';
import { validateManifest, type Diagnostic, type PluginManifest } from './manifest.js';

export interface PluginCandidate {
  /** The manifest id, or the package name when the manifest could not be read. */
  id: string;
  packageName: string;
  version: string;
  dir: string;
  source: 'workspace' | 'package';
  manifest?: PluginManifest;
  diagnostics: Diagnostic[];
  enabled: boolean;
}

function readPackage(dir: string): Record<string, unknown> | string {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch (err) {
    return `cannot read package.json: ${(err as Error).message}`;
  }
}

function candidate(dir: string, source: PluginCandidate['source'], coreVersion: string, file: PluginsFile): PluginCandidate {
  const pkg = readPackage(dir);
  if (typeof pkg === 'string') {
    const name = path.basename(dir);
    return { id: name, packageName: name, version: '0.0.0', dir, source, diagnostics: [{ severity: 'error', path: 'package.json', message: pkg }], enabled: true };
  }
  const { manifest, diagnostics } = validateManifest(pkg, coreVersion);
  const rawId = (pkg.plugchat as { id?: unknown } | undefined)?.id;
  const id = manifest?.id ?? (typeof rawId === 'string' ? rawId : String(pkg.name ?? path.basename(dir)));
  return {
    id,
    packageName: String(pkg.name ?? path.basename(dir)),
    version: String(pkg.version ?? '0.0.0'),
    dir,
    source,
    manifest,
    diagnostics,
    enabled: file.plugins[id]?.enabled !== false,
  };
}

/**
 * Finds plugins: the ones shipped with PlugChat (<install>/plugins/, unless "bundled": false),
 * every folder under plugins/ next to plugins.config.json, and the npm packages named in its
 * "packages" (resolved from that folder, else from the installation). A folder found twice is
 * one plugin.
 */
export function discoverPlugins(rootDir: string, file: PluginsFile, coreVersion: string, installDir = rootDir): { candidates: PluginCandidate[]; diagnostics: Diagnostic[] } {
  const candidates: PluginCandidate[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const add = (dir: string, source: PluginCandidate['source']) => {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    candidates.push(candidate(dir, source, coreVersion, file));
  };
  const folders = [...(file.bundled ? [path.join(installDir, 'plugins')] : []), path.join(rootDir, 'plugins')];
  for (const workspace of folders) {
    if (!existsSync(workspace)) continue;
    for (const entry of readdirSync(workspace, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && existsSync(path.join(workspace, entry.name, 'package.json'))) add(path.join(workspace, entry.name), 'workspace');
    }
  }
  const requires = [createRequire(path.join(rootDir, 'package.json')), createRequire(path.join(installDir, 'package.json'))];
  for (const name of file.packages) {
    let dir: string | undefined;
    for (const require of requires) {
      try {
        dir = path.dirname(require.resolve(`${name}/package.json`));
        break;
      } catch {
        /* try the next place */
      }
    }
    if (dir) add(dir, 'package');
    else diagnostics.push({ severity: 'error', path: `packages.${name}`, message: `package "${name}" is listed in plugins.config.json but not installed; run npm install ${name}` });
  }
  // Two packages claiming one id: neither runs, so the choice is never silent.
  const byId = new Map<string, PluginCandidate[]>();
  for (const c of candidates) byId.set(c.id, [...(byId.get(c.id) ?? []), c]);
  for (const [id, list] of byId) {
    if (list.length > 1) {
      for (const c of list) {
        c.diagnostics.push({ severity: 'error', path: 'plugchat.id', message: `id "${id}" is also used by ${list.filter((o) => o !== c).map((o) => o.packageName).join(', ')}` });
        c.manifest = undefined;
      }
    }
  }
  for (const id of Object.keys(file.plugins)) {
    if (!byId.has(id)) diagnostics.push({ severity: 'warning', path: `plugins.${id}`, message: `plugin "${id}" is configured but was not found` });
  }
  return { candidates, diagnostics };
}
