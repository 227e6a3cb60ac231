import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { container as rootContainer } from 'tsyringe';
import { loadConfig, type AppConfig } from './services/config.js';
import { createLogger, type Logger } from './services/logger.js';
import { Cipher, loadAppSecret } from './services/secrets.js';
import { openDatabase, type Database } from './services/database.js';
import { openQueue, type Queue } from './services/queue.js';
import { migrate, withMigrationLock } from './services/migrations.js';
import { discoverPlugins } from './host/discovery.js';
import { PluginHost } from './host/pluginHost.js';
import { ExtensionPoints } from './host/extensionPoints.js';
import { pluginRouters } from './host/routes.js';
import { EventBus } from './contributions/events.js';
import { SettingsRegistry } from './contributions/settings.js';
import { RouteTable } from './http/routeTable.js';
import { createApp } from './http/app.js';
import { buildOpenApi } from './http/openapi.js';
import { identityEntities } from './identity/entities.js';
import { coreMigrations } from './identity/migrations.js';
import { IdentityService } from './identity/service.js';
import { identityRouters } from './identity/routes.js';
import { TOKENS } from './api/tokens.js';
import { systemClock, type Clock } from './api/clock.js';
import { LocalCluster } from './cluster/local.js';
import { PostgresCluster } from './cluster/postgres.js';

export const CORE_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface BootOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Overrides for tests: a logger writing elsewhere, a pg-boss schema. */
  logger?: Logger;
  queueSchema?: string;
  /** Start HTTP (default true). */
  listen?: boolean;
  /** The time source plugins resolve as TOKENS.Clock (tests pass a ManualClock). */
  clock?: Clock;
}

export interface PlugChat {
  config: AppConfig;
  log: Logger;
  db: Database;
  queue: Queue;
  host: PluginHost;
  identity: IdentityService;
  events: EventBus;
  settings: SettingsRegistry;
  cluster: LocalCluster;
  server?: Server;
  url: string;
  bootMs: number;
  /** Graceful: stop HTTP, drain the queue, deactivate plugins, close the database. */
  stop(opts?: { jobTimeoutMs?: number }): Promise<void>;
}

/** The composition root: config → discover → validate → order → db+queue → migrate → activate → listen. */
export async function boot(opts: BootOptions = {}): Promise<PlugChat> {
  const started = Date.now();
  const config = loadConfig(opts.env ?? process.env, opts.cwd ?? process.cwd());
  const log = opts.logger ?? createLogger(config.logLevel);
  const { secret, source } = loadAppSecret(config.dataDir, config.appSecret);
  if (source === 'generated') log.warn({ file: 'DATA_DIR/app-secret.key' }, 'no APP_SECRET set: generated one and saved it with mode 600; back it up, encrypted data needs it');
  const cipher = new Cipher(secret);

  const container = rootContainer.createChildContainer();
  const host = new PluginHost(log, container);
  const { candidates, diagnostics } = discoverPlugins(config.rootDir, config.file, CORE_VERSION, config.installDir);
  for (const d of diagnostics) log[d.severity === 'error' ? 'error' : 'warn']({ where: d.path }, d.message);
  host.prepare(candidates);
  await host.loadModules();
  const settings = new SettingsRegistry(config.configFile);
  host.declareSettings(settings, config.file);
  host.resolveOrder();
  const entities = [...identityEntities, ...host.collectEntities()];

  const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, entities, logger: log });
  let queue: Queue | undefined;
  try {
    queue = await withMigrationLock(config.databaseUrl, async () => {
      await migrate(db.knex, db.kind, 'core', coreMigrations, log);
      await host.migrate(db);
      return openQueue({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: opts.queueSchema, logger: log });
    }, () => log.info('another process is applying migrations; waiting for it'));
    await settings.loadOverrides(db.knex, (plugin, key, reason) => log.warn({ plugin, key, reason }, 'saved setting no longer valid; using the configured value'));
  } catch (err) {
    await db.close();
    throw err;
  }

  // On PostgreSQL several processes may share the database: they find each other here.
  const cluster = db.kind === 'postgresql' ? new PostgresCluster(log, db.knex, config.databaseUrl!) : new LocalCluster(log);
  await cluster.start();
  const events = new EventBus(log);
  const identity = new IdentityService(db.em, cluster);
  const routes = new RouteTable({ identity, em: db.em, bodyLimit: config.bodyLimit, log });
  for (const r of identityRouters(identity, events, db.knex)) routes.mount('core', r);
  for (const r of pluginRouters(host, settings, events, db.knex, cluster)) routes.mount('core', r);
  cluster.on('core.node-lost', (p) => void events.emit('core.node.lost', p as { nodeId: string }));
  // A setting changed through another process applies here too.
  cluster.on('core.settings', (p, from) => {
    if (from === cluster.nodeId) return;
    const { plugin, values } = p as { plugin: string; values: Record<string, unknown> };
    for (const [key, value] of Object.entries(values)) {
      if (settings.applyRemote(plugin, key, value)) void events.emit('core.settings.changed', { plugin, key, value });
    }
  });
  container.register(TOKENS.Logger, { useValue: log });
  container.register(TOKENS.Events, { useValue: events });
  container.register(TOKENS.Clock, { useValue: opts.clock ?? systemClock });

  const services = { log, dataDir: config.dataDir, db, boss: queue.boss, queueKind: queue.kind, routes, events, settings, cipher, extensions: new ExtensionPoints(), identity, cluster };
  await host.activateAll(services);

  const app = createApp({
    log,
    uiDir: config.uiDir,
    routes,
    openapi: () => buildOpenApi(routes.all(), { version: CORE_VERSION }),
    ready: async () => {
      const checks: Record<string, string> = {};
      const q = queue!;
      await Promise.all([
        db.ping().then(() => (checks.database = 'ok'), (e: Error) => (checks.database = e.message)),
        q.ping().then(() => (checks.queue = 'ok'), (e: Error) => (checks.queue = e.message)),
      ]);
      return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
    },
  });

  let server: Server | undefined;
  let url = '';
  if (opts.listen !== false) {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    const addr = server.address() as AddressInfo;
    url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${addr.port}`;
  }
  await events.emit('core.ready', { plugins: host.activationOrder().filter((id) => host.records.get(id)?.state === 'active') });
  const bootMs = Date.now() - started;
  log.info({ url, database: db.location, queue: queue.kind, node: cluster.nodeId, ms: bootMs, plugins: host.activationOrder() }, 'PlugChat is up');

  let stopping: Promise<void> | undefined;
  const stop = (o: { jobTimeoutMs?: number } = {}) =>
    (stopping ??= (async () => {
      log.info('shutting down: closing HTTP, draining jobs');
      // The other processes stop handing work here and take over what this one runs.
      await cluster.stopping();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          // Requests still running get a moment, then their sockets are closed. The timer is
          // not unref'd: an open keep-alive socket must not let the process end mid-shutdown.
          const force = setTimeout(() => s.closeAllConnections(), 5_000);
          s.close(() => {
            clearTimeout(force);
            resolve();
          });
          s.closeIdleConnections();
        });
      }
      await events.emit('core.stopping', {});
      await queue!.close(o.jobTimeoutMs ?? 30_000);
      await host.deactivateAll({ events });
      await cluster.close();
      await db.close();
      log.info('stopped');
    })());

  return { config, log, db, queue, host, identity, events, settings, cluster, server, url, bootMs, stop };
}
