import type { Knex } from '@mikro-orm/knex';
import type { Logger } from './logger.js';

/**
 * A versioned schema change. Written with the knex schema builder so one
 * migration serves SQLite and PostgreSQL. Migrations are append-only: never
 * edit or remove one that has shipped; add a new one instead.
 */
export interface Migration {
  /** Sortable and unique within its owner, e.g. "0001_create_items". */
  name: string;
  /**
   * false: runs outside a transaction, for what PostgreSQL refuses inside one (an index built
   * without blocking writes, `createIndex`). It must be safe to run again: a crash can leave it
   * half done, and it is recorded as applied only once it has finished.
   */
  transaction?: boolean;
  up(ctx: MigrationContext): Promise<void>;
}

export interface MigrationContext {
  /**
   * The transaction's knex (the database's, with `transaction: false`). Use `knex.schema.createTable(...)` afresh for each
   * statement: a schema builder kept in a variable accumulates and re-runs earlier statements.
   */
  knex: Knex;
  dialect: 'sqlite' | 'postgresql';
}

const TABLE = 'core_migrations';

async function ensureTable(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable(TABLE)) return;
  await knex.schema.createTable(TABLE, (t) => {
    t.string('owner', 100).notNullable();
    t.string('name', 200).notNullable();
    t.timestamp('applied_at', { useTz: true }).notNullable();
    t.primary(['owner', 'name']);
  });
}

export interface MigrationResult {
  applied: string[];
  /** Names recorded in the database that the code no longer has: a downgrade or a deleted file. */
  unknown: string[];
}

/** Applies the owner's pending migrations in name order, each in its own transaction. */
export async function migrate(
  knex: Knex,
  dialect: 'sqlite' | 'postgresql',
  owner: string,
  migrations: Migration[],
  logger: Logger,
): Promise<MigrationResult> {
  await ensureTable(knex);
  const names = migrations.map((m) => m.name);
  const dupes = names.filter((n, i) => names.indexOf(n) !== i);
  if (dupes.length) throw new Error(`${owner}: duplicate migration name(s) ${dupes.join(', ')}`);
  const rows: { name: string }[] = await knex(TABLE).where({ owner }).select('name');
  const done = new Set(rows.map((r) => r.name));
  const applied: string[] = [];
  for (const m of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    if (done.has(m.name)) continue;
    if (m.transaction === false) {
      await m.up({ knex, dialect });
      await knex(TABLE).insert({ owner, name: m.name, applied_at: new Date() });
    } else {
      await knex.transaction(async (trx) => {
        await m.up({ knex: trx, dialect });
        await trx(TABLE).insert({ owner, name: m.name, applied_at: new Date() });
      });
    }
    logger.info({ owner, migration: m.name }, 'migration applied');
    applied.push(m.name);
  }
  const unknown = [...done].filter((n) => !names.includes(n));
  if (unknown.length) logger.warn({ owner, unknown }, 'database has migrations this code does not know (was the code downgraded?)');
  return { applied, unknown };
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain SQL name: ${name}`);
  return `"${name}"`;
};

/**
 * Builds an index in a migration with `transaction: false`. On PostgreSQL it is built
 * CONCURRENTLY, so the table takes writes while it builds (a plain build blocks them for as long as
 * it reads the table), after dropping one a crashed build left invalid; on SQLite a plain build.
 * Safe to run again. `on` is the column list, `where` a partial index's predicate, both SQL.
 */
export async function createIndex(knex: Knex, dialect: 'sqlite' | 'postgresql', def: { name: string; table: string; on: string; where?: string }): Promise<void> {
  const where = def.where ? ` where ${def.where}` : '';
  if (dialect === 'postgresql') {
    const invalid = await knex.raw('select 1 from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = ? and not i.indisvalid', [def.name]);
    if (invalid.rows.length) await knex.raw(`drop index concurrently if exists ${ident(def.name)}`);
    await knex.raw(`create index concurrently if not exists ${ident(def.name)} on ${ident(def.table)} (${def.on})${where}`);
  } else {
    await knex.raw(`create index if not exists ${ident(def.name)} on ${ident(def.table)} (${def.on})${where}`);
  }
}

/** Drops an index in a migration with `transaction: false`, without blocking the table on PostgreSQL. Safe to run again. */
export async function dropIndex(knex: Knex, dialect: 'sqlite' | 'postgresql', name: string): Promise<void> {
  await knex.raw(`drop index ${dialect === 'postgresql' ? 'concurrently ' : ''}if exists ${ident(name)}`);
}

/**
 * Runs `fn` while holding PostgreSQL's advisory lock for schema changes, so processes started
 * together on a new database migrate one after another (the later ones find nothing to do).
 * The lock lives on a connection of its own, outside the pool the migrations use.
 *
 * A waiting process asks again every few milliseconds rather than blocking in
 * `pg_advisory_lock`: a blocked statement holds a snapshot, and an index built CONCURRENTLY by the
 * holder waits for every older snapshot in the database, so holder and waiter would wait on each
 * other forever (a wait PostgreSQL's deadlock detector cannot see: the lock and the build are on
 * different connections).
 */
export async function withMigrationLock<T>(databaseUrl: string | undefined, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  if (!databaseUrl) return fn();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'plugchat-migrations' });
  // A dropped connection fails the lock's next query (or the boot) instead of crashing the process.
  client.on('error', () => {});
  await client.connect();
  try {
    for (let waited = false; ; waited = true) {
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [MIGRATION_LOCK]);
      if (rows[0]!.ok) break;
      if (!waited) onWait?.();
      await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
    }
    return await fn();
  } finally {
    await client.end().catch(() => {});
  }
}

const MIGRATION_LOCK = 7_120_000;
const LOCK_RETRY_MS = 50;
