import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MikroORM, type EntitySchema, type Options } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/knex';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import type { Logger } from './logger.js';
import { checkpointInBackground, WRITER_CHECKPOINT_PAGES, type Checkpointer } from './sqliteCheckpoints.js';
import { shareSqliteConnection } from './sqliteSharing.js';
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

/**
 * The embedded database's settings, on every connection the pool opens (one that replaces a
 * connection lost to an error too, which settings made once on the first would not reach).
 */
const SQLITE_SETTINGS = [
  // WAL survives crashes and lets readers work during a write; wait instead of failing on a busy file.
  'PRAGMA journal_mode = WAL',
  // In WAL mode NORMAL still survives a crash of the process (SIGKILL) without losing a commit;
  // only a power cut can drop the last ones. FULL would fsync on every commit.
  'PRAGMA synchronous = NORMAL',
  'PRAGMA busy_timeout = 5000',
  'PRAGMA foreign_keys = ON',
  `PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`,
].join('; ');

function setUpSqlite(connection: { exec(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, connection: unknown) => void): void {
  connection.exec(SQLITE_SETTINGS, (err) => done(err, connection));
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
    orm = await MikroORM.init({ ...common, driver: SqliteDriver, dbName: location, pool: { afterCreate: setUpSqlite } });
  }
  const em = orm.em as unknown as EntityManager;
  let checkpointer: Checkpointer | undefined;
  const knex = em.getKnex();
  if (kind === 'sqlite') {
    cacheSqliteStatements(knex);
    shareSqliteConnection(knex);
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
