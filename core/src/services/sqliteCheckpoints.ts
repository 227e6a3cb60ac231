import type { Knex } from '@mikro-orm/knex';
import type { Logger } from './logger.js';

interface RawConnection {
  all(sql: string, cb: (err: Error | null, rows: Record<string, number>[]) => void): void;
}
interface SqliteClient {
  acquireRawConnection(): Promise<RawConnection>;
  destroyRawConnection(connection: RawConnection): Promise<void>;
}

/** Pages the write-ahead log may reach before the writing connection checkpoints it itself (a backstop: 40 MB; set with the connection's other settings). */
export const WRITER_CHECKPOINT_PAGES = 10_000;
/** How often the background connection copies the log into the database file. */
const EVERY_MS = 200;

export interface Checkpointer {
  /** Copies what the log holds into the database file now: how many pages the log held, and how many are copied. */
  run(): Promise<{ log: number; checkpointed: number }>;
  stop(): Promise<void>;
}

/**
 * Checkpoints the embedded database's write-ahead log from a connection of its own. Left to SQLite,
 * the commit that fills the log past 1,000 pages copies it into the database and syncs both files
 * first: under a burst of writes that is one commit in a hundred taking 5-15 ms, with every write
 * of the process queued behind it on the one connection. A passive checkpoint on a second
 * connection does the same work beside the writer (it never blocks it); the writer checkpoints
 * itself only if this falls far behind.
 */
export async function checkpointInBackground(knex: Knex, log: Logger): Promise<Checkpointer> {
  const client = knex.client as unknown as SqliteClient;
  const connection = await client.acquireRawConnection();
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let warned = false;
  const run = () =>
    new Promise<{ log: number; checkpointed: number }>((resolve, reject) =>
      connection.all('PRAGMA wal_checkpoint(PASSIVE)', (err, rows) => (err ? reject(err) : resolve({ log: rows[0]?.log ?? 0, checkpointed: rows[0]?.checkpointed ?? 0 }))),
    );
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = run()
      .catch((err) => {
        // The writer's own checkpoint (the backstop) still bounds the log.
        if (!warned) log.warn({ err }, 'could not checkpoint the database log in the background; the writer will');
        warned = true;
      })
      .finally(() => (running = undefined));
  }, EVERY_MS);
  timer.unref();
  return {
    run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await client.destroyRawConnection(connection);
    },
  };
}
