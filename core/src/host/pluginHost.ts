import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EntitySchema } from '@mikro-orm/core';
import type { DependencyContainer } from 'tsyringe';
import type { PluginDefinition } from '../api/plugin.js';
import type { PluginsFile } from '../services/config.js';
import type { Logger } from '../services/logger.js';
import type { Database } from '../services/database.js';
import { migrate } from '../services/migrations.js';
import type { SettingsRegistry } from '../contributions/settings.js';
import { DisposableStore } from './disposable.js';
import type { PluginCandidate } from './discovery.js';
import { orderPlugins } from './graph.js';
import type { Diagnostic, PluginManifest } from './manifest.js';
import { createPluginContext, type ContextServices } from './pluginContext.js';

export type PluginState = 'active' | 'disabled' | 'failed' | 'inactive' | 'loaded';

export interface PluginRecord {
  id: string;
  packageName: string;
  version: string;
  source: PluginCandidate['source'];
  dir: string;
  manifest?: PluginManifest;
  state: PluginState;
  reason?: string;
  diagnostics: Diagnostic[];
  definition?: PluginDefinition<unknown, unknown>;
  api?: unknown;
  store: DisposableStore;
}

/** The lifecycle of every plugin: load, order, migrate, activate, deactivate. */
export class PluginHost {
  readonly records = new Map<string, PluginRecord>();
  private order: string[] = [];

  constructor(
    private readonly log: Logger,
    private readonly container: DependencyContainer,
  ) {}

  prepare(candidates: PluginCandidate[]): void {
    for (const c of candidates) {
      const errors = c.diagnostics.filter((d) => d.severity === 'error');
      const record: PluginRecord = {
        id: c.id,
        packageName: c.packageName,
        version: c.version,
        source: c.source,
        dir: c.dir,
        manifest: c.manifest,
        state: 'loaded',
        diagnostics: c.diagnostics,
        store: new DisposableStore(),
      };
      if (errors.length || !c.manifest) this.fail(record, `invalid manifest: ${errors.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
      else if (!c.enabled) {
        record.state = 'disabled';
        record.reason = 'disabled in plugins.config.json';
      }
      // Duplicate ids are both failed by discovery; keep each visible under a distinct key.
      if (this.records.has(record.id)) record.id = `${record.id} (${record.packageName})`;
      this.records.set(record.id, record);
    }
  }

  private fail(record: PluginRecord, reason: string, err?: unknown): void {
    record.state = 'failed';
    record.reason = reason;
    this.log.error({ plugin: record.id, reason, ...(err ? { err } : {}) }, 'plugin disabled');
  }

  private live(): PluginRecord[] {
    return [...this.records.values()].filter((r) => r.state === 'loaded');
  }

  /** Imports each plugin's entry module; a module that fails to load disables only that plugin. */
  async loadModules(): Promise<void> {
    for (const record of this.live()) {
      try {
        const entry = entryPoint(record.dir);
        const mod = await import(pathToFileURL(entry).href);
        const def = (mod.default ?? mod) as PluginDefinition<unknown, unknown>;
        if (!def || typeof def.activate !== 'function') throw new Error('the entry module must export default definePlugin({ activate })');
        record.definition = def;
      } catch (err) {
        this.fail(record, `cannot load: ${(err as Error).message}`, err);
      }
    }
  }

  /** Settings problems in plugins.config.json are configuration errors: they throw. */
  declareSettings(settings: SettingsRegistry, file: PluginsFile): void {
    for (const record of this.live()) {
      settings.declare(record.id, record.manifest!.contributes.settings, file.plugins[record.id]?.settings);
    }
  }

  /** Computes the activation order; plugins with unusable dependencies or cycles are failed. */
  resolveOrder(): string[] {
    const graph = new Map<string, string[]>();
    const unavailable = new Map<string, string>();
    for (const r of this.records.values()) {
      if (r.state === 'loaded') graph.set(r.id, r.manifest!.dependencies);
      else unavailable.set(r.id, r.state === 'disabled' ? 'is disabled' : `failed (${r.reason})`);
    }
    const { order, failed } = orderPlugins(graph, unavailable);
    for (const [id, why] of failed) this.fail(this.records.get(id)!, why);
    this.order = order;
    return order;
  }

  /** Entities of every plugin that can still run; tables outside the plugin's namespace fail it. */
  collectEntities(): EntitySchema[] {
    const out: EntitySchema[] = [];
    for (const id of this.order) {
      const record = this.records.get(id)!;
      if (record.state !== 'loaded') continue;
      const entities = (record.definition!.entities ?? []) as EntitySchema[];
      const bad = entities.filter((e) => !(e instanceof EntitySchema) || !(e.meta.tableName ?? '').startsWith(`${id.replace(/-/g, '_')}_`));
      if (bad.length) {
        this.fail(record, `entities must be EntitySchema objects with tables named "${id.replace(/-/g, '_')}_<name>": ${bad.map((e) => e.meta?.tableName ?? e.meta?.className).join(', ')}`);
        continue;
      }
      out.push(...entities);
    }
    this.cascadeFailures();
    return out;
  }

  /** Runs each plugin's pending migrations; one that fails stops that plugin (and its dependents) only. */
  async migrate(db: Database): Promise<void> {
    for (const id of this.order) {
      const record = this.records.get(id)!;
      if (record.state !== 'loaded' || !record.definition!.migrations?.length) continue;
      try {
        await migrate(db.knex, db.kind, id, record.definition!.migrations, this.log);
      } catch (err) {
        this.fail(record, `migration failed: ${(err as Error).message}`, err);
        this.cascadeFailures();
      }
    }
  }

  private cascadeFailures() {
    let changed = true;
    while (changed) {
      changed = false;
      for (const id of this.order) {
        const r = this.records.get(id)!;
        if (r.state !== 'loaded' && r.state !== 'active') continue;
        const dead = r.manifest!.dependencies.find((d) => this.records.get(d)?.state === 'failed');
        if (dead && r.state === 'loaded') {
          this.fail(r, `dependency "${dead}" failed`);
          changed = true;
        }
      }
    }
  }

  /** Activates in dependency order. A failing activate() rolls back its registrations. */
  async activateAll(services: ContextServices): Promise<void> {
    for (const id of this.order) {
      const record = this.records.get(id)!;
      if (record.state !== 'loaded') continue;
      const dead = record.manifest!.dependencies.find((d) => this.records.get(d)?.state !== 'active');
      if (dead) {
        this.fail(record, `dependency "${dead}" is not active`);
        continue;
      }
      const started = Date.now();
      const tracker = { registered: { routes: new Set<string>(), jobs: new Set<string>() } };
      const ctx = createPluginContext(record, services, this, this.container, tracker);
      try {
        record.api = await record.definition!.activate(ctx as never);
        record.state = 'active';
        record.reason = undefined;
        this.warnUnregistered(record, tracker.registered);
        this.log.info({ plugin: id, ms: Date.now() - started }, 'plugin activated');
        await services.events.emit('core.plugin.activated', { id });
      } catch (err) {
        const errors = await record.store.dispose();
        for (const e of errors) this.log.error({ plugin: id, err: e }, 'rollback of a registration failed');
        services.settings.forget(id);
        this.fail(record, `activate() threw: ${(err as Error).message}`, err);
      }
    }
  }

  private warnUnregistered(record: PluginRecord, registered: { routes: Set<string>; jobs: Set<string> }) {
    const m = record.manifest!;
    for (const job of m.contributes.jobs) {
      if (!registered.jobs.has(job.name)) record.diagnostics.push({ severity: 'warning', path: 'plugchat.contributes.jobs', message: `job "${job.name}" is declared but was not registered` });
    }
    for (const r of m.contributes.routes) {
      if (!registered.routes.has(r.prefix)) record.diagnostics.push({ severity: 'warning', path: 'plugchat.contributes.routes', message: `route prefix "${r.prefix}" is declared but nothing was registered under it` });
    }
    for (const d of record.diagnostics.filter((x) => x.severity === 'warning')) this.log.warn({ plugin: record.id, ...d }, 'manifest and code disagree');
  }

  getApi(from: PluginRecord, id: string): unknown {
    if (!from.manifest!.dependencies.includes(id)) throw new Error(`${from.id} may only use the APIs of its declared dependencies; add "${id}" to plugchat.dependencies`);
    const target = this.records.get(id);
    if (target?.state !== 'active') throw new Error(`plugin "${id}" is not active`);
    return target.api;
  }

  /** Deactivates in reverse activation order; each plugin's registrations are disposed in reverse. */
  async deactivateAll(services: Pick<ContextServices, 'events'>): Promise<void> {
    for (const id of [...this.order].reverse()) {
      const record = this.records.get(id)!;
      if (record.state !== 'active') continue;
      try {
        await record.definition!.deactivate?.();
      } catch (err) {
        this.log.error({ plugin: id, err }, 'deactivate() threw');
      }
      for (const err of await record.store.dispose()) this.log.error({ plugin: id, err }, 'disposing a registration failed');
      record.state = 'inactive';
      this.log.info({ plugin: id }, 'plugin deactivated');
      await services.events.emit('core.plugin.deactivated', { id });
    }
  }

  activationOrder(): string[] {
    return [...this.order];
  }
}

/** The module to import: exports["."] (import or default condition), else main, else index.js. */
export function entryPoint(dir: string): string {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  let rel: unknown = pkg.exports;
  if (rel && typeof rel === 'object' && '.' in (rel as object)) rel = (rel as Record<string, unknown>)['.'];
  while (rel && typeof rel === 'object') {
    const conditions = rel as Record<string, unknown>;
    rel = conditions.import ?? conditions.default ?? conditions.node;
  }
  const file = path.resolve(dir, typeof rel === 'string' ? rel : (pkg.main ?? 'index.js'));
  if (!existsSync(file)) throw new Error(`entry ${path.relative(dir, file)} does not exist (is the plugin built?)`);
  return file;
}
