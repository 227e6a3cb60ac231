import type { EntitySchema } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import type { DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import type { Disposable } from '../host/disposable.js';
import type { Cluster } from './cluster.js';
import type { PluginManifest } from '../host/manifest.js';
import type { Migration } from '../services/migrations.js';
import type { BatchEventListener, EmitResult, EventListener, EventMap, EventName } from './events.js';
import type { JobDefinition, JobHandle } from './jobs.js';
import type { PluginRouter } from './routes.js';

export interface PluginSettings<S> {
  get<K extends keyof S & string>(key: K): S[K];
  onDidChange(listener: (key: keyof S & string, value: unknown) => void): Disposable;
}

export interface PluginSecrets {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Seal a value for a column of the plugin's own (AES-256-GCM under the app secret). */
  encrypt(value: string | Buffer): string;
  decrypt(sealed: string): string;
  decryptToBuffer(sealed: string): Buffer;
}

export interface PluginDb {
  kind: 'sqlite' | 'postgresql';
  /** A fresh unit of work limited to one account's rows of tenant-scoped entities. */
  forAccount(accountId: string): EntityManager;
  /** A fresh unit of work that sees every account: for jobs and maintenance only. */
  system(): EntityManager;
  knex: Knex;
}

/** A user of an account as other plugins see it (never credentials). */
export interface DirectoryUser {
  id: string;
  name: string;
  email: string;
  role: import('./roles.js').Role;
  disabled: boolean;
}

export interface PluginContext<S = Record<string, unknown>> {
  readonly id: string;
  readonly manifest: PluginManifest;
  readonly logger: Logger;
  /** A folder of the plugin's own under DATA_DIR (DATA_DIR/plugins/<id>), created on first use. */
  readonly dataDir: string;
  /** A tsyringe child container: register the plugin's services here explicitly. */
  readonly container: DependencyContainer;
  readonly settings: PluginSettings<S>;
  readonly secrets: PluginSecrets;
  readonly db: PluginDb;
  readonly http: { register(router: PluginRouter): Disposable };
  readonly jobs: { register<P>(def: JobDefinition<P>): Promise<JobHandle<P>> };
  readonly events: {
    on<K extends EventName>(name: K, listener: EventListener<K>): Disposable;
    /** Listens to runs of the event: `emitMany` hands the whole run at once, `emit` a run of one. */
    onBatch<K extends EventName>(name: K, listener: BatchEventListener<K>): Disposable;
    /** Resolves when every listener is done; `failed` counts those that threw (they are logged). */
    emit<K extends EventName>(name: K, payload: EventMap[K]): Promise<EmitResult>;
    /**
     * Emits a run of one event: batch listeners get it at once, the others one payload at a time,
     * in order. `failed` counts listeners that threw on some payload of the run.
     */
    emitMany<K extends EventName>(name: K, payloads: EventMap[K][]): Promise<EmitResult>;
    /** How many listeners an event has now (for skipping work nobody consumes). */
    listenerCount(name: EventName): number;
  };
  readonly extensions: {
    /** Add a value to another plugin's (declared) extension point. */
    contribute<T>(point: string, value: T): Disposable;
    /** Values contributed so far to one of this plugin's own extension points. */
    get<T>(point: string): T[];
    onDidChange(point: string, listener: () => void): Disposable;
  };
  /** The account's users, read-only (for assignment, mentions and names). */
  readonly users: {
    list(accountId: string): Promise<DirectoryUser[]>;
    get(accountId: string, userId: string): Promise<DirectoryUser | undefined>;
  };
  /** The other PlugChat processes on the same database (one in embedded mode); names start with the plugin id. */
  readonly cluster: Cluster;
  /** The API another plugin returned from activate; only declared dependencies. */
  getApi<T>(pluginId: string): T;
  /** Disposed in reverse order when the plugin is deactivated. */
  readonly subscriptions: { push(...items: Disposable[]): void };
}

export interface PluginDefinition<Api = void, S = Record<string, unknown>> {
  /** MikroORM entity schemas; table names must start with "<plugin id>_". */
  entities?: EntitySchema<any, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Versioned schema changes, applied at boot in name order. */
  migrations?: Migration[];
  activate(ctx: PluginContext<S>): Api | Promise<Api>;
  deactivate?(): void | Promise<void>;
}

export function definePlugin<Api = void, S = Record<string, unknown>>(def: PluginDefinition<Api, S>): PluginDefinition<Api, S> {
  return def;
}
