import type { Knex } from '@mikro-orm/knex';
import { rawConnection } from './sqliteSharing.js';

/** The parts of node-sqlite3's Database and Statement this cache uses. */
interface Statement {
  run(params: unknown[], cb: (this: Statement & Context, err: Error | null) => void): void;
  all(params: unknown[], cb: (this: Statement, err: Error | null, rows: unknown[]) => void): void;
  finalize(cb?: () => void): void;
}
interface Context {
  lastID?: number;
  changes?: number;
}
interface Connection {
  prepare(sql: string, cb: (err: Error | null) => void): Statement;
}
interface QueryObject {
  sql?: string;
  bindings?: unknown[];
  response?: unknown;
  context?: Context;
}
interface SqliteClient {
  _query(connection: Connection, obj: QueryObject): Promise<QueryObject>;
  getCallMethod(obj: QueryObject): 'run' | 'all';
  destroyRawConnection(connection: Connection): Promise<void>;
}

/** Statements kept per connection: enough for every query shape the plugins run on a busy path. */
const MAX_STATEMENTS = 256;

/**
 * Keeps the embedded database's statements prepared. Through knex, node-sqlite3 prepares each query,
 * runs it and finalizes it: three trips between the event loop and the worker thread, where a
 * prepared statement needs one. Under load each trip waits for the event loop, and the one
 * connection (every write of the process) waits with it: the trips, not SQLite, set the pace.
 *
 * A statement belongs to its connection; two queries of the same shape at once take turns on it
 * (node-sqlite3 queues a statement's runs). Statements that failed are dropped (a failure may leave
 * one unreset); the rest are finalized before their connection closes.
 */
export function cacheSqliteStatements(knex: Knex): void {
  const client = knex.client as unknown as SqliteClient;
  const caches = new WeakMap<Connection, Map<string, Statement>>();
  // Queries of a new shape that come together share one prepare: a second statement for the same
  // text would be left out of the cache, never finalized, and keep the connection from closing.
  const preparing = new WeakMap<Connection, Map<string, Promise<Statement>>>();
  const prepare = (connection: Connection, sql: string, cache: Map<string, Statement>) => {
    let pending = preparing.get(connection);
    if (!pending) preparing.set(connection, (pending = new Map()));
    let prepared = pending.get(sql);
    if (!prepared) {
      prepared = new Promise<Statement>((resolve, reject) => {
        const statement = connection.prepare(sql, (err) => (err ? reject(err) : resolve(statement)));
      }).then((statement) => {
        cache.set(sql, statement);
        if (cache.size > MAX_STATEMENTS) {
          const [oldest, old] = cache.entries().next().value as [string, Statement];
          cache.delete(oldest);
          old.finalize();
        }
        return statement;
      });
      const settled = () => pending.delete(sql);
      prepared.then(settled, settled);
      pending.set(sql, prepared);
    }
    return prepared;
  };

  client._query = async function (lent, obj) {
    // Statements belong to the node-sqlite3 connection, whichever use of it knex holds.
    const connection = rawConnection(lent);
    const sql = obj.sql;
    if (!sql) throw new Error('The query is empty');
    let cache = caches.get(connection);
    if (!cache) caches.set(connection, (cache = new Map()));
    let statement = cache.get(sql);
    if (statement) {
      // Most recently used last: the first entry is the one to let go.
      cache.delete(sql);
      cache.set(sql, statement);
    } else {
      statement = await prepare(connection, sql, cache);
    }
    const method = this.getCallMethod(obj);
    const used = statement;
    const settle = (resolve: (o: QueryObject) => void, reject: (e: Error) => void) =>
      function (this: Statement & Context, err: Error | null, rows?: unknown[]) {
        if (err) {
          if (cache.get(sql) === used) cache.delete(sql);
          used.finalize();
          return reject(err);
        }
        obj.response = rows;
        // A copy: the statement's own fields change with its next run.
        obj.context = { lastID: this.lastID, changes: this.changes };
        resolve(obj);
      };
    return new Promise<QueryObject>((resolve, reject) => {
      if (method === 'run') used.run(obj.bindings ?? [], settle(resolve, reject));
      else used.all(obj.bindings ?? [], settle(resolve, reject));
    });
  };

  const destroy = client.destroyRawConnection.bind(client);
  client.destroyRawConnection = async (connection) => {
    // sqlite3_close refuses a connection with statements still prepared.
    const cache = caches.get(connection);
    if (cache) for (const s of cache.values()) await new Promise<void>((resolve) => s.finalize(() => resolve()));
    caches.delete(connection);
    return destroy(connection);
  };
}
