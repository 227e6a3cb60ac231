import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import PgBoss from 'pg-boss';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from './logger.js';

/**
 * The embedded queue database's buffer cache. PostgreSQL touches all of it at start, inside
 * PGlite's WebAssembly memory: 128 MB by default; 4 MB is about 12 MB less resident than 16 MB
 * (the queue's tables are a few pages, and a miss is a read from the OS's cache).
 */
const PGLITE_SHARED_BUFFERS = '4MB';

export interface Queue {
  boss: PgBoss;
  kind: 'pglite' | 'postgresql';
  ping(): Promise<void>;
  /** Stops fetching; waits up to `timeoutMs` for running handlers, then closes the store. */
  close(timeoutMs?: number): Promise<void>;
}

export interface QueueOptions {
  dataDir: string;
  databaseUrl?: string;
  /** pg-boss schema in PostgreSQL. */
  schema?: string;
  logger: Logger;
}

/** pg-boss's `db` adapter over PGlite: parameterised statements go through query, scripts through exec. */
function pgliteAdapter(db: PGlite) {
  return {
    async executeSql(text: string, values?: unknown[]) {
      if (values && values.length) {
        const res = await db.query(text, values as unknown[]);
        return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
      }
      const results = await db.exec(text);
      const last = [...results].reverse().find((r) => r.fields.length > 0) ?? results[results.length - 1];
      return { rows: last?.rows ?? [], rowCount: last?.affectedRows ?? 0 };
    },
  };
}

/**
 * Creates the embedded queue database in a process of its own. Creating it (initdb) grows PGlite's
 * WebAssembly memory to about 700 MB resident, and WebAssembly memory never shrinks: a first start
 * kept that until the next restart. The child's memory goes with it; this process then opens the
 * database as on any later start.
 */
async function createPgliteApart(dir: string, startParams: string[], logger: Logger): Promise<void> {
  logger.info({ dir }, 'creating the embedded queue database (first start)');
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const code = `const { PGlite } = require(process.argv[1]);
PGlite.create(process.argv[2], { startParams: JSON.parse(process.argv[3]) }).then((db) => db.close()).catch((err) => { console.error(err && err.message ? err.message : err); process.exit(1); });`;
  try {
    await promisify(execFile)(process.execPath, ['-e', code, entry, dir, JSON.stringify(startParams)], { maxBuffer: 1 << 20 });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`could not create the embedded queue database in ${dir}: ${detail}. Check that the data directory is writable and has free space, remove ${dir} if a crash left it half made, and start again.`);
  }
}

export async function openQueue(opts: QueueOptions): Promise<Queue> {
  const common = {
    schema: opts.schema ?? 'pgboss',
    // Maintenance (expiring stuck jobs, archiving) and monitoring on a short cycle so a
    // job whose worker died is retried within a minute, not hours.
    maintenanceIntervalSeconds: 30,
    monitorStateIntervalSeconds: 60,
    supervise: true,
    migrate: true,
  };
  let boss: PgBoss;
  let pglite: PGlite | undefined;
  let kind: Queue['kind'];
  if (opts.databaseUrl) {
    kind = 'postgresql';
    boss = new PgBoss({ ...common, connectionString: opts.databaseUrl, max: 5, application_name: 'plugchat' });
  } else {
    kind = 'pglite';
    const dir = path.join(opts.dataDir, 'queue');
    mkdirSync(dir, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await createPgliteApart(dir, startParams, opts.logger);
    pglite = await PGlite.create(dir, { startParams });
    boss = new PgBoss({ ...common, db: pgliteAdapter(pglite) } as PgBoss.ConstructorOptions);
  }
  boss.on('error', (err) => opts.logger.error({ err }, 'queue error'));
  await boss.start();
  return {
    boss,
    kind,
    ping: async () => {
      if (pglite) await pglite.query('select 1');
      else await boss.getDb().executeSql('select 1', []);
    },
    close: async (timeoutMs = 30_000) => {
      await boss.stop({ graceful: true, wait: true, timeout: timeoutMs, close: true });
      if (pglite) await pglite.close();
    },
  };
}
