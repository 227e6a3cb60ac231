import { mkdirSync } from 'node:fs';
import path from 'node:path';
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
    pglite = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] });
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
