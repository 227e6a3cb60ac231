import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MikroORM, type EntitySchema, type Options } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import type { Logger } from './logger.js';
import { checkpointInBackground, type Checkpointer } from './sqliteCheckpoints.js';
import { cacheSqliteStatements } from './sqliteStatements.js';

export type DatabaseKind = 'sqlite' | 'postgresql';

export interface Database {
  kind: DatabaseKind;
  orm: MikroORM;
  /** The root EntityManager: fork it per unit of work, never use it directly. */
  em: EntityManager;
  knex: Knex;
  /** Describes where the data lives, without credentials. */
  location: string;
  ping(): Promise<void>;
  /** The embedded database's background checkpoints (none on PostgreSQL). */
  checkpointer?: Checkpointer;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: EntitySchema<any, any>[];
  logger: Logger;
}

export function describeDatabaseUrl(url: string): string {
  const u = new URL(url);
  return `postgresql://${u.hostname}:${u.port || 5432}${u.pathname}`;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const common: Partial<Options> = {
    entities: opts.entities,
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: false,
    logger: (msg) => opts.logger.debug({ orm: true }, msg),
  };
  let orm: MikroORM;
  let kind: DatabaseKind;
  let location: string;
  if (opts.databaseUrl) {
    kind = 'postgresql';
    location = describeDatabaseUrl(opts.databaseUrl);
    orm = await MikroORM.init({ ...common, driver: PostgreSqlDriver, clientUrl: opts.databaseUrl, pool: { min: 0, max: 10 } });
  } else {
    kind = 'sqlite';
    mkdirSync(opts.dataDir, { recursive: true });
    location = path.join(opts.dataDir, 'plugchat.sqlite');
    orm = await MikroORM.init({ ...common, driver: SqliteDriver, dbName: location });
  }
  const em = orm.em as unknown as EntityManager;
  let checkpointer: Checkpointer | undefined;
  const knex = em.getKnex();
  if (kind === 'sqlite') {
    cacheSqliteStatements(knex);
    // WAL survives crashes and lets readers work during a write; wait instead of failing on a busy file.
    await knex.raw('PRAGMA journal_mode = WAL');
    // In WAL mode NORMAL still survives a crash of the process (SIGKILL) without losing a commit;
    // only a power cut can drop the last ones. FULL would fsync on every commit.
    await knex.raw('PRAGMA synchronous = NORMAL');
    await knex.raw('PRAGMA busy_timeout = 5000');
    await knex.raw('PRAGMA foreign_keys = ON');
    checkpointer = await checkpointInBackground(knex, opts.logger);
  }
  return {
    kind,
    orm,
    em,
    knex,
    location,
    ping: async () => {
      await knex.raw('select 1');
    },
    checkpointer,
    close: async () => {
      await checkpointer?.stop();
      await orm.close(true);
    },
  };
}
