import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type PgBoss from 'pg-boss';
import type { PluginContext } from '../api/plugin.js';
import type { PluginRouter } from '../api/routes.js';
import type { JobDefinition } from '../api/jobs.js';
import { scopeToAccount, scopeToSystem } from '../api/tenant.js';
import type { EventBus } from '../contributions/events.js';
import { EMBEDDED_POLL_SECONDS, registerJob } from '../contributions/jobs.js';
import type { SettingsRegistry } from '../contributions/settings.js';
import type { RouteTable } from '../http/routeTable.js';
import type { Database } from '../services/database.js';
import type { Logger } from '../services/logger.js';
import type { Cipher } from '../services/secrets.js';
import type { IdentityService } from '../identity/service.js';
import type { LocalCluster } from '../cluster/local.js';
import type { Disposable } from './disposable.js';
import type { ExtensionPoints } from './extensionPoints.js';
import type { PluginHost, PluginRecord } from './pluginHost.js';

export interface ContextServices {
  log: Logger;
  dataDir: string;
  db: Database;
  boss: PgBoss;
  /** Where the queue lives: the embedded one has no other process sending jobs. */
  queueKind: 'pglite' | 'postgresql';
  routes: RouteTable;
  events: EventBus;
  settings: SettingsRegistry;
  cipher: Cipher;
  extensions: ExtensionPoints;
  identity: IdentityService;
  cluster: LocalCluster;
}

/** A plugin-facing error for registrations its manifest does not declare. */
class ManifestMismatch extends Error {
  constructor(plugin: string, what: string, fix: string) {
    super(`${plugin} registered ${what}, which its manifest does not declare; ${fix}`);
    this.name = 'ManifestMismatch';
  }
}

/**
 * Builds the context handed to activate(). Every registration goes into the
 * plugin's own store as well, so a failed activation can be rolled back even
 * when the plugin never pushed it to ctx.subscriptions.
 */
export function createPluginContext(
  record: PluginRecord,
  s: ContextServices,
  host: PluginHost,
  parentContainer: DependencyContainer,
  tracker: { registered: { routes: Set<string>; jobs: Set<string> } },
): PluginContext<Record<string, unknown>> {
  const id = record.id;
  const m = record.manifest!;
  const log = s.log.child({ plugin: id });
  const track = <T extends Disposable>(d: T): T => {
    record.store.push(d);
    return d;
  };
  const secretsTable = () => s.db.knex('core_secrets');
  // Cluster channels and methods are the plugin's own, like its events.
  const ns = (name: string) => {
    if (!name.startsWith(`${id}.`)) throw new ManifestMismatch(id, `cluster channel "${name}"`, `name it "${id}.${name}"`);
    return name;
  };

  const dataDir = path.join(s.dataDir, 'plugins', id);
  return {
    id,
    manifest: m,
    logger: log,
    get dataDir() {
      mkdirSync(dataDir, { recursive: true });
      return dataDir;
    },
    container: parentContainer.createChildContainer(),
    settings: {
      get: (key) => s.settings.get(id, key) as never,
      onDidChange: (listener) => track(s.settings.onDidChange(id, listener as (k: string, v: unknown) => void)),
    },
    secrets: {
      async get(name) {
        const row = await secretsTable().where({ plugin: id, name }).first();
        return row ? s.cipher.decrypt(row.value) : undefined;
      },
      async set(name, value) {
        await secretsTable()
          .insert({ plugin: id, name, value: s.cipher.encrypt(value), updated_at: new Date() })
          .onConflict(['plugin', 'name'])
          .merge();
      },
      async delete(name) {
        await secretsTable().where({ plugin: id, name }).delete();
      },
      encrypt: (v) => s.cipher.encrypt(v),
      decrypt: (v) => s.cipher.decrypt(v),
      decryptToBuffer: (v) => s.cipher.decryptToBuffer(v),
    },
    db: {
      kind: s.db.kind,
      forAccount: (accountId) => scopeToAccount(s.db.em.fork(), accountId),
      system: () => scopeToSystem(s.db.em.fork()),
      knex: s.db.knex,
    },
    http: {
      register(router: PluginRouter) {
        const declared = m.contributes.routes.find((r) => router.prefix === r.prefix || router.prefix.startsWith(r.prefix + '/'));
        if (!declared) throw new ManifestMismatch(id, `routes under "${router.prefix}"`, `add { "prefix": "${router.prefix}" } to plugchat.contributes.routes`);
        tracker.registered.routes.add(declared.prefix);
        return track(s.routes.mount(id, router));
      },
    },
    jobs: {
      async register<P>(def: JobDefinition<P>) {
        if (!m.contributes.jobs.some((j) => j.name === def.name))
          throw new ManifestMismatch(id, `job "${def.name}"`, `add { "name": "${def.name}" } to plugchat.contributes.jobs`);
        tracker.registered.jobs.add(def.name);
        return track(await registerJob(s.boss, def, log, s.queueKind === 'pglite' ? { pollFloorSeconds: EMBEDDED_POLL_SECONDS } : {}));
      },
    },
    events: {
      on(name, listener) {
        if (!m.contributes.events.listens.includes(name) && !m.contributes.events.emits.includes(name))
          throw new ManifestMismatch(id, `a listener for "${name}"`, `add "${name}" to plugchat.contributes.events.listens`);
        return track(s.events.on(id, name, listener));
      },
      onBatch(name, listener) {
        if (!m.contributes.events.listens.includes(name) && !m.contributes.events.emits.includes(name))
          throw new ManifestMismatch(id, `a listener for "${name}"`, `add "${name}" to plugchat.contributes.events.listens`);
        return track(s.events.onBatch(id, name, listener));
      },
      emit(name, payload) {
        if (!m.contributes.events.emits.includes(name))
          throw new ManifestMismatch(id, `an emit of "${name}"`, `add "${name}" to plugchat.contributes.events.emits`);
        return s.events.emit(name, payload);
      },
      emitMany(name, payloads) {
        if (!m.contributes.events.emits.includes(name))
          throw new ManifestMismatch(id, `an emit of "${name}"`, `add "${name}" to plugchat.contributes.events.emits`);
        return s.events.emitMany(name, payloads);
      },
      listenerCount: (name) => s.events.listenerCount(name),
    },
    extensions: {
      contribute(point, value) {
        if (!m.contributes.extends.includes(point))
          throw new ManifestMismatch(id, `a contribution to "${point}"`, `add "${point}" to plugchat.contributes.extends`);
        const owner = point.split('.')[0]!;
        const ownerManifest = host.records.get(owner)?.manifest;
        if (!ownerManifest?.contributes.extensionPoints.includes(point)) throw new Error(`${owner} declares no extension point "${point}"`);
        return track(s.extensions.contribute(point, id, value));
      },
      get(point) {
        if (!m.contributes.extensionPoints.includes(point))
          throw new ManifestMismatch(id, `a read of extension point "${point}"`, `add "${point}" to plugchat.contributes.extensionPoints`);
        return s.extensions.get(point);
      },
      onDidChange(point, listener) {
        return track(s.extensions.onDidChange(point, listener));
      },
    },
    users: {
      list: (accountId) => s.identity.directory(accountId),
      get: async (accountId, userId) => (await s.identity.directory(accountId)).find((u) => u.id === userId),
    },
    cluster: {
      get mode() {
        return s.cluster.mode;
      },
      get nodeId() {
        return s.cluster.nodeId;
      },
      broadcast: (channel, payload) => s.cluster.broadcast(ns(channel), payload),
      on: (channel, listener) => track(s.cluster.on(ns(channel), listener)),
      request: (nodeId, method, payload, timeoutMs) => s.cluster.request(nodeId, ns(method), payload, timeoutMs),
      handle: (method, handler) => track(s.cluster.handle(ns(method), handler)),
      liveNodes: () => s.cluster.liveNodes(),
      isLive: (nodeId) => s.cluster.isLive(nodeId),
    },
    getApi: <T>(other: string) => host.getApi(record, other) as T,
    subscriptions: { push: (...items) => items.forEach(track) },
  };
}
